/**
 * The web console in headless Chromium against carrier A's running gateway (real sign-in, real API,
 * a Hardhat JSON-RPC chain, carrier B's node on the other end of the peer protocol):
 *
 * - an officer of A signs in with their key, opens the mismatched period (B's switch lost calls),
 *   drills down from direction to destination to day to the CDRs B lacks, seals them as evidence and
 *   opens a dispute citing it, after reading what will be signed; the ledger holds the dispute and the
 *   evidence opens with the agreement's key to exactly those CDRs;
 * - a regulator signs in, sees no ingest or CDR pages, and runs verify: pass;
 * - both nodes close the next period with the same CDRs and leave it to the co-signed fast path: an
 *   officer of A reads the Settlement (root, both totals, deadline) and signs it; the node keeps the
 *   signature, which verifies over A's own summary, and the page shows 1 of 2 officers signed.
 *
 * Screenshots go to test-artifacts/console/. Without Chromium the suite skips with a loud notice.
 */
import { expect } from "chai";
import { getAddress } from "ethers";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { parseConfig } from "../../../node/src/config/config";
import {
  openCommitWindow,
  hardhatWallet,
  PERIOD,
  scriptLedger,
  startHardhatNode,
  CARRIER_A,
  type HardhatNode,
  type ScriptedLedger,
} from "../../../test/helpers/hardhat";
import { stateIndex } from "../../../node/src/protocol";
import { requireAgreement } from "../../../node/src/db/agreements";
import { listSettlementSignatures } from "../../../node/src/db/fast-path";
import { loadSummary } from "../../../node/src/db/summaries";
import { gatheredSignatures, ourSettlement } from "../../../node/src/settlement/cosign";
import { deriveEvidenceKey, getEvidence } from "../../../node/src/evidence/bundle";
import { silentLogger } from "../../../node/src/logger";
import { createNode } from "../../../node/src/node";
import { launchChromium, screenshot, watchPage } from "../../../test/helpers/browser";
import {
  closePairPeriod,
  settlePair,
  startPair,
  stopPair,
  type PairNode,
  type PairSetup,
} from "../../../test/helpers/carrier-pair";
import { primaryTarget } from "../../../test/helpers/databases";
import { cdrId, chooseLost, generateCalls } from "../../../scripts/lib/traffic";
import { chainRoleResolver, type AuthDeps } from "../auth";

const target = primaryTarget();
const SECRET = Buffer.from("b8".repeat(32), "hex");
const MONTH = `${String(PERIOD).slice(0, 4)}-${String(PERIOD).slice(4)}`;

describe(`web console in headless Chromium (${target.name})`, function () {
  this.timeout(300_000);
  let browser: Browser | null = null;
  let hardhat: HardhatNode;
  let fx: ScriptedLedger;
  let a: PairNode;
  let b: PairNode;
  let lostIds: string[];
  let setup: PairSetup;
  const contexts: BrowserContext[] = [];
  const w = (i: number) => hardhatWallet(i, hardhat.provider);

  before(async function () {
    browser = await launchChromium();
    if (browser === null) return this.skip();
    hardhat = await startHardhatNode();
    fx = await scriptLedger(hardhat.provider, { toleranceAbs: 1_000n });
    // The consortium's regulator: account 10.
    const registry = fx.deployment.registry.connect(await hardhat.provider.getSigner(0));
    await (await registry.grantRole(await registry.REGULATOR_ROLE(), w(10).address)).wait();

    setup = {
      target,
      hardhat,
      fx,
      secret: SECRET,
      // A serves the API and console with sign-in resolved from the chain, as `icl run` does.
      gateway: (node: Omit<PairNode, "gateway">) =>
        node.side === "B"
          ? {}
          : {
              node: createNode({
                config: { dataDir: node.dir, config: parseConfig({}, "config.json"), databaseUrl: undefined },
                db: node.db,
                evidence: node.evidence,
                logger: silentLogger,
              }),
              chain: node.chain,
              auth: {
                db: node.db,
                roles: chainRoleResolver({
                  registry: node.chain.registry,
                  carrierId: CARRIER_A,
                  admins: [],
                  operators: [],
                }),
                logger: silentLogger,
                carrier: "CARRIER-A",
                chainId: node.chain.chainId,
                sessionHours: 8,
                cookieSecure: false,
              } satisfies AuthDeps,
            },
    };
    ({ a, b } = await startPair(setup));
    await openCommitWindow(hardhat.provider, PERIOD);
    const calls = generateCalls(PERIOD, 600, 7);
    const lost = chooseLost(calls, 0.04, 8);
    lostIds = calls.filter((c) => lost.has(c.index)).map((c) => `icl:${cdrId("A", String(PERIOD), c)}`);
    expect(lostIds.length).to.be.greaterThan(5);
    await closePairPeriod(setup, [a, b], PERIOD, calls, { lostOnB: lost });
    await settlePair(a, b);
    expect(await fx.deployment.ledger.connect(hardhat.provider).state(fx.agreementId, PERIOD)).to.equal(
      stateIndex("Mismatched"),
    );
  });
  after(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await stopPair(a, b);
    await hardhat?.stop();
    await target.cleanup();
  });

  /** A fresh browser profile signed in with `key` through the console's sign-in page. */
  async function signIn(key: string): Promise<{ page: Page; problems: string[] }> {
    const context = await browser!.newContext({ viewport: { width: 1360, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    // Before sign-in the console asks whether a session exists: 401 is the answer it expects.
    const problems = watchPage(page, (url, status) => url === "/api/v1/auth/session" && status === 401);
    await page.goto(a.gateway.url);
    await page.waitForURL(/\/console\/#\/sign-in$/);
    await page.fill("#private-key", key);
    await page.click("#use-key");
    const message = await page.textContent("#challenge-message");
    expect(message).to.contain("Sign in to the Interconnect Ledger node of CARRIER-A");
    await page.click("#sign-challenge");
    await page.waitForSelector("h1:text('Dashboard')");
    return { page, problems };
  }

  it("an officer drills down to the CDRs the partner lacks, opens a dispute citing them as evidence and approves the undisputed part", async () => {
    const officer = w(1);
    const { page, problems } = await signIn(officer.privateKey);
    expect(await page.textContent("#who")).to.contain("officer");
    await page.waitForSelector("#state-tiles :text('Mismatched')");
    await page.waitForSelector("#traffic-chart");
    await screenshot(page, "01-officer-dashboard");

    await page.click("#nav a:text('Periods')");
    await page.click(`#periods-table a:text('A-B ${MONTH}')`);
    await page.waitForSelector("h1 .badge:text('Mismatched')");
    expect(await page.textContent("#figures-table")).to.contain("outside");
    await screenshot(page, "02-mismatched-period");

    // Drill down: direction (open) → a destination with missing CDRs → its day → the calls.
    const destination = page
      .locator("#report details[data-destination]", { hasText: "missing CDRs" })
      .first();
    await destination.locator("> summary").click();
    const day = destination.locator("details[data-day]", { hasText: "missing CDRs" }).first();
    await day.locator("> summary").click();
    await day.locator("button.show-calls").click();
    const flagged = day.locator("table.calls tr.finding");
    await flagged.first().waitFor();
    const shownIds = await flagged.locator("td:first-child").allTextContents();
    expect(shownIds.length).to.be.greaterThan(0);
    expect(lostIds, "every flagged CDR is one B's switch lost").to.include.members(shownIds);
    expect(await flagged.first().textContent()).to.contain("partner lacks it");
    await screenshot(page, "03-drill-down-to-missing-cdrs");

    await day.locator("button.attach-evidence").click();
    await page.waitForSelector("#flash :text('as evidence')");
    const flash = (await page.textContent("#flash"))!;
    const cid = /(bafkrei[a-z2-7]+)/.exec(flash)![1]!;

    await page.click("#action-open");
    expect(await page.inputValue("#evidence-cid")).to.equal(cid);
    expect(await page.inputValue("#dispute-reason")).to.equal("missing_cdrs");
    await page.click("#plan-dispute");
    const words = (await page.textContent("#what-will-be-signed"))!;
    expect(words).to.match(/open/i);
    const payload = JSON.parse((await page.textContent("#signed-payload"))!);
    expect(payload).to.deep.include({
      function: "openDispute",
      from: getAddress(officer.address),
      to: fx.addresses.ledger,
    });
    await page.locator("details:has(#signed-payload) > summary").click();
    await screenshot(page, "04-what-will-be-signed");

    await page.click("#sign-and-send");
    await page.waitForSelector("h1 .badge:text('Disputed')");
    expect(await page.textContent("#flash")).to.contain("openDispute");
    await page.waitForSelector("#timeline-table :text('DisputeOpened')");
    await screenshot(page, "05-dispute-opened");

    // The undisputed part may settle first: the officer approves it with an EIP-712 signature, which the
    // node keeps until a second officer of A signs.
    await page.click("#action-approve-partial");
    expect(await page.textContent("#what-will-be-signed")).to.contain("undisputed part");
    const typed = JSON.parse((await page.textContent("#signed-payload"))!);
    expect(typed.primaryType).to.equal("Approval");
    await page.click("#sign-and-send");
    await page.waitForSelector("#flash :text('1 of 2 signed')");
    const [kept] = (
      await a.db.query<{ officer: string }>("SELECT officer FROM officer_approvals WHERE partial")
    ).rows;
    expect(kept?.officer.toLowerCase()).to.equal(officer.address.toLowerCase());

    // The ledger holds the dispute citing the evidence, and the evidence is exactly the CDRs shown.
    const ledger = fx.deployment.ledger.connect(hardhat.provider);
    expect(await ledger.state(fx.agreementId, PERIOD)).to.equal(stateIndex("Disputed"));
    const opened = await ledger.queryFilter(ledger.filters.DisputeOpened(fx.agreementId));
    expect(opened.map((e) => e.args.evidenceCid)).to.deep.equal([cid]);
    expect(opened[0]!.args.carrierId).to.equal(CARRIER_A);
    const tx = await hardhat.provider.getTransaction(opened[0]!.transactionHash);
    expect(tx!.from, "sent from the officer's own account").to.equal(getAddress(officer.address));
    const agreement = await requireAgreement(a.db, "A-B");
    const bundle = (await getEvidence(
      a.evidence,
      cid,
      deriveEvidenceKey(SECRET, agreement.agreementId, PERIOD),
      {
        agreementId: agreement.agreementId,
        period: PERIOD,
        purpose: "dispute-evidence",
      },
    )) as { files: { name: string; base64: string }[] };
    const csv = Buffer.from(bundle.files[0]!.base64, "base64").toString("utf8").trim().split("\n");
    expect(csv[0]).to.match(/^cdr_id,call_key,/);
    expect(csv.slice(1).map((line) => line.split(",")[0])).to.deep.equal(shownIds);
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  it("a regulator sees the ledger's history but no CDR pages, and runs verify: pass", async () => {
    const { page, problems } = await signIn(w(10).privateKey);
    const nav = await page.locator("#nav a").allTextContents();
    expect(nav).to.include.members(["Dashboard", "Periods", "Audit"]);
    expect(nav).to.not.include("Ingest");
    expect(nav).to.not.include("Settlement");
    await page.click("#nav a:text('Audit')");
    await page.waitForSelector("#audit-timeline :text('DisputeOpened')");
    await page.click("#verify");
    await page.waitForSelector("#verify-outcome .badge");
    expect(await page.textContent("#verify-outcome")).to.contain("pass");
    await screenshot(page, "06-regulator-verify");

    // The period page shows the figures and the timeline, and no discrepancy report (it names calls).
    await page.goto(`${a.gateway.url}/console/#/period/A-B/${MONTH}`);
    await page.waitForSelector("#timeline-table");
    expect(await page.locator("#report").count()).to.equal(0);
    expect(await page.locator("#actions").count()).to.equal(0);
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  it("an officer co-signs the Settlement of a period both nodes leave to the fast path", async () => {
    const next = PERIOD + 1;
    const nextMonth = `${String(next).slice(0, 4)}-${String(next).slice(4)}`;
    // Both switches saw the same calls: both nodes freeze equal summaries and commit nothing.
    await closePairPeriod(setup, [a, b], next, generateCalls(next, 300, 13), { commit: false });
    const agreement = await requireAgreement(a.db, "A-B");
    const summary = (await loadSummary(a.db, agreement.agreementId, next, { leaves: false }))!;
    expect(summary.committedAt, "frozen").to.not.equal(null);
    const decimals = Number(await fx.deployment.demoToken!.connect(hardhat.provider).decimals());
    const grouped = (units: bigint) =>
      `${(units / 10n ** BigInt(decimals)).toLocaleString("en-US")}.` +
      (units % 10n ** BigInt(decimals)).toString().padStart(decimals, "0");

    const officer = w(2);
    const { page, problems } = await signIn(officer.privateKey);
    await page.goto(`${a.gateway.url}/console/#/period/A-B/${nextMonth}`);
    await page.waitForSelector("h1 .badge:text('Committing')");
    expect(await page.textContent("#cosign-table")).to.contain("0 of 2");

    await page.click("#action-cosign");
    const words = (await page.textContent("#what-will-be-signed"))!;
    expect(words).to.contain(summary.root);
    expect(words).to.contain(`owes B ${grouped(summary.amountAB)} `);
    expect(words).to.contain(`owes A ${grouped(summary.amountBA)} `);
    const typed = JSON.parse((await page.textContent("#signed-payload"))!);
    const deadlines = await fx.deployment.ledger.connect(hardhat.provider).deadlines(fx.agreementId, next);
    expect(typed.primaryType).to.equal("Settlement");
    expect(typed.message).to.deep.equal({
      agreementId: agreement.agreementId,
      period: next,
      root: summary.root,
      amountAB: summary.amountAB.toString(),
      amountBA: summary.amountBA.toString(),
      deadline: deadlines.commitDeadline.toString(),
    });
    expect(words).to.contain(
      new Date(Number(deadlines.commitDeadline) * 1000).toISOString().slice(0, 16).replace("T", " "),
    );
    await page.locator("details:has(#signed-payload) > summary").click();
    await screenshot(page, "07-fast-path-settlement");

    await page.click("#sign-and-send");
    await page.waitForSelector("#flash :text('CARRIER-A: 1 of 2 officers signed')");
    await page.waitForSelector("#cosign-table :text('1 of 2')");
    expect(await page.locator("#action-cosign").count(), "signed: nothing left to sign").to.equal(0);
    await screenshot(page, "08-fast-path-signed");

    // The node keeps the officer's signature, and it counts over A's own Settlement of the period.
    const kept = await listSettlementSignatures(a.db, agreement.agreementId, next, CARRIER_A);
    expect(kept.map((k) => k.officer)).to.deep.equal([officer.address.toLowerCase()]);
    const settlement = await ourSettlement(a.db, a.chain, agreement, next);
    const gathered = await gatheredSignatures(a.db, a.chain, settlement, CARRIER_A);
    expect(gathered.officers).to.deep.equal([officer.address.toLowerCase()]);
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });
});
