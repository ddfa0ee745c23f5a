/**
 * Dispute evidence in the web console, in headless Chromium, for everyone who should see it: both
 * carriers' nodes serve the API and the console (real sign-in, the peer protocol between them, a
 * Hardhat JSON-RPC chain). A's officer seals the CDRs B's switch lost and opens a dispute citing them.
 *
 * - B's officer, on B's console, opens that evidence: B's node fetches it from A's and the CDRs show;
 * - the arbiter, before escalation, is told in place why there is nothing to read; after it, opens the
 *   bundle re-sealed to their own key in the tab, and rules with a rationale typed in the Rationale box;
 * - the regulator, on A's console, sees the evidence sealed (its CID and SHA-256, no content) and reads
 *   the rationale, which A's node fetched from B's, where the arbiter wrote it.
 *
 * Screenshots go to test-artifacts/console/evidence-*.png. Without Chromium the suite skips loudly.
 */
import { expect } from "chai";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { stateIndex } from "../../../node/src/protocol";
import { cdrId, chooseLost, generateCalls } from "../../../scripts/lib/traffic";
import { launchChromium, overflowOf, screenshot, watchPage } from "../../../test/helpers/browser";
import {
  closePairPeriod,
  settlePair,
  startPair,
  stopPair,
  type PairNode,
  type PairSetup,
} from "../../../test/helpers/carrier-pair";
import { consoleGateway, pairConsoleNode, startConsoleChain } from "../../../test/helpers/console-pair";
import { primaryTarget } from "../../../test/helpers/databases";
import { loadReport, type ReportJson } from "../../../node/src/db/reports";
import {
  CARRIER_A,
  CARRIER_B,
  hardhatWallet,
  PERIOD,
  type HardhatNode,
  type ScriptedLedger,
} from "../../../test/helpers/hardhat";

const target = primaryTarget();
const SECRET = Buffer.from("d7".repeat(32), "hex");
const MONTH = `${String(PERIOD).slice(0, 4)}-${String(PERIOD).slice(4)}`;

describe(`dispute evidence in the console for the counterparty, the arbiter and the regulator (${target.name})`, function () {
  this.timeout(300_000);
  let browser: Browser | null = null;
  let hardhat: HardhatNode;
  let fx: ScriptedLedger;
  let a: PairNode;
  let b: PairNode;
  let cid: string;
  let lostIds: string[];
  const contexts: BrowserContext[] = [];
  const w = (i: number) => hardhatWallet(i, hardhat.provider);

  before(async function () {
    browser = await launchChromium();
    if (browser === null) return this.skip();
    // The regulator is account 10 (REGULATOR_ACCOUNT).
    ({ hardhat, fx } = await startConsoleChain());
    const setup: PairSetup = {
      target,
      hardhat,
      fx,
      secret: SECRET,
      // Both nodes serve the API and the console, sign-in resolved from the chain as `icl run` does.
      gateway: consoleGateway({}, ["A", "B"]),
    };
    ({ a, b } = await startPair(setup));
    const calls = generateCalls(PERIOD, 300, 23);
    const lost = chooseLost(calls, 0.05, 5);
    lostIds = calls.filter((c) => lost.has(c.index)).map((c) => `icl:${cdrId("A", String(PERIOD), c)}`);
    await closePairPeriod(setup, [a, b], PERIOD, calls, { lostOnB: lost });
    await settlePair(a, b);
    // A's officer seals the lost calls and opens the dispute citing them (the dispute steps' own browser
    // suite signs them in the console; here the subject is who can read what is cited).
    const nodeA = pairConsoleNode(a);
    ({ cid } = await nodeA.disputes.sealEvidence(
      "A-B",
      PERIOD,
      "lost-calls.csv",
      Buffer.from(`cdr_id\n${lostIds.join("\n")}\n`),
    ));
    const ledger = fx.deployment.ledger.connect(await hardhat.provider.getSigner(1));
    await (await ledger.openDispute(fx.agreementId, PERIOD, CARRIER_A, 1, cid)).wait();
    expect(await ledger.state(fx.agreementId, PERIOD)).to.equal(stateIndex("Disputed"));
  });
  after(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await stopPair(a, b);
    await hardhat?.stop();
    await target.cleanup();
  });

  /** A fresh profile signed in with `key` on `node`'s console, on the period's page. */
  async function periodPageAs(
    node: PairNode,
    key: string,
    expected: (url: string, status: number) => boolean = () => false,
  ): Promise<{ page: Page; problems: string[] }> {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    const problems = watchPage(
      page,
      (url, status) => (url === "/api/v1/auth/session" && status === 401) || expected(url, status),
    );
    await page.goto(node.gateway.url);
    await page.waitForURL(/\/console\/#\/sign-in$/);
    await page.fill("#private-key", key);
    await page.click("#use-key");
    await page.click("#sign-challenge");
    await page.waitForSelector("h1:text('Dashboard')");
    await page.goto(`${node.gateway.url}/console/#/period/A-B/${MONTH}`);
    await page.waitForSelector("#timeline-table :text('Dispute opened')");
    return { page, problems };
  }

  const evidenceButton = (page: Page) =>
    page.locator("#timeline-table tr", { hasText: "Dispute opened" }).locator("button.evidence");

  it("the counterparty's officer opens the evidence the other carrier cited, fetched from its node", async () => {
    expect(await b.evidence.has(cid), "B's node never held it").to.equal(false);
    const { page, problems } = await periodPageAs(b, w(5).privateKey);
    await evidenceButton(page).click();
    await page.waitForSelector("#evidence-view pre.evidence-text");
    const shown = (await page.textContent("#evidence-view"))!;
    expect(shown).to.contain("Fetched from the partner's node");
    expect(shown).to.contain("lost-calls.csv");
    for (const id of lostIds) expect(shown).to.contain(id);
    expect(await b.evidence.has(cid), "kept by B's node").to.equal(true);
    await screenshot(page, "evidence-01-counterparty-opens");
    // The opened files fit a phone's width too: long CIDs, digests and lines wrap.
    await page.setViewportSize({ width: 390, height: 900 });
    const fit = await overflowOf(page);
    expect(fit.scrollWidth, fit.culprits.join(", ")).to.be.at.most(fit.viewport);
    await screenshot(page, "evidence-01-counterparty-opens-390");
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  it("an officer reads a discrepancy report the other carrier cited as a table of the days that differ", async () => {
    // B's officer (account 5) proposes B's own figures, citing B's sealed discrepancy report.
    const report = await loadReport(b.db, fx.agreementId, PERIOD);
    const reportCid = report!.evidenceCid!;
    const leaves = (report!.report as ReportJson).leaves;
    const ledger = fx.deployment.ledger.connect(await hardhat.provider.getSigner(5));
    const record = await ledger.periodRecord(fx.agreementId, PERIOD);
    await (
      await ledger.proposeFigures(
        fx.agreementId,
        PERIOD,
        CARRIER_B,
        record.amountABofB,
        record.amountBAofB,
        reportCid,
      )
    ).wait();
    const { page, problems } = await periodPageAs(a, w(1).privateKey);
    await page
      .locator("#timeline-table tr", { hasText: "Figures proposed" })
      .locator("button.evidence")
      .click();
    await page.waitForSelector("#evidence-report-leaves");
    const summary = (await page.textContent("#evidence-report"))!;
    expect(summary).to.contain(`CARRIER-B's discrepancy report: ${leaves.length} differing`);
    const rows = await page.locator("#evidence-report-leaves tbody tr").allInnerTexts();
    expect(rows).to.have.length(leaves.length);
    // Every row is a day B's node found differing; A's calls are the ones B's report says B lacks.
    expect(
      rows.every((row) => /missing CDRs/.test(row)),
      rows.join("\n"),
    ).to.equal(true);
    await screenshot(page, "evidence-02-officer-reads-partner-report");
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  it("the arbiter is told in place why there is nothing to read before escalation, then reads the evidence sealed to their key and rules with a rationale", async () => {
    const arbiterCopy = (url: string, status: number) => url.endsWith("/arbiter-copy") && status === 409;
    const { page, problems } = await periodPageAs(b, w(9).privateKey, arbiterCopy);
    await evidenceButton(page).click();
    await page.waitForSelector("#evidence-view p.error");
    expect(await page.textContent("#evidence-view p.error")).to.contain("is not escalated");
    await screenshot(page, "evidence-02-arbiter-before-escalation");

    // The response window passes; A's officer escalates.
    await hardhat.provider.send("evm_increaseTime", [3 * 86_400 + 60]);
    await hardhat.provider.send("evm_mine", []);
    const ledger = fx.deployment.ledger.connect(await hardhat.provider.getSigner(2));
    await (await ledger.escalate(fx.agreementId, PERIOD, CARRIER_A)).wait();
    await page.reload();
    await page.waitForSelector("h1 .badge:text('Escalated')");
    // A reload forgets the key (it lives in the tab's memory only): the console asks for it to open the copy.
    await evidenceButton(page).click();
    await page.waitForSelector("#arbiter-key");
    expect(await page.textContent("#evidence-view")).to.contain("sealed to your own key");
    await page.fill("#arbiter-key", w(9).privateKey);
    await page.click("#open-with-key");
    await page.waitForSelector("#evidence-view pre.evidence-text");
    const shown = (await page.textContent("#evidence-view"))!;
    expect(shown).to.contain("Re-sealed to your key");
    for (const id of lostIds) expect(shown).to.contain(id);
    await screenshot(page, "evidence-03-arbiter-reads");

    const rationale = "The calls CARRIER-B lacks appear in CARRIER-A's switch records; A's figures stand.";
    await page.click("#action-rule");
    await page.getByLabel("Rationale").fill(rationale);
    await page.click("#plan-figures");
    expect(await page.textContent("#what-will-be-signed")).to.match(/rationale bafkrei[a-z2-7]{52}/);
    await page.click("#sign-and-send");
    await page.waitForSelector("h1 .badge:text('Resolved')");
    const ruled = page.locator("#timeline-table tr", { hasText: "Arbiter ruled" }).locator("button.evidence");
    await ruled.click();
    await page.waitForSelector("#rationale-text");
    expect(await page.textContent("#rationale-text")).to.equal(rationale);
    await screenshot(page, "evidence-04-arbiter-ruled");
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  it("the regulator sees that sealed evidence exists, not what it holds, and reads the ruling's rationale", async () => {
    const { page, problems } = await periodPageAs(a, w(10).privateKey);
    const cell = page.locator("#timeline-table tr", { hasText: "Dispute opened" });
    expect(await cell.locator("button.evidence").count(), "nothing to open").to.equal(0);
    const words = (await cell.textContent())!;
    expect(words).to.contain("sealed");
    expect(words).to.match(/SHA-256 [0-9a-f]{16}/);
    await page.locator("#timeline-table tr", { hasText: "Arbiter ruled" }).locator("button.evidence").click();
    await page.waitForSelector("#rationale-text");
    expect(await page.textContent("#rationale-text")).to.contain("A's figures stand.");
    expect(await page.textContent("#app")).to.not.contain(lostIds[0]!);
    await screenshot(page, "evidence-05-regulator");
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });
});
