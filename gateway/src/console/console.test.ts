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
 * - every page, as an officer and a regulator sees it, at 390 and 1280 px: nothing wider than the
 *   window, the header short with Sign out in view, a skip link that puts focus on the page, focus on
 *   the new page's heading after navigating, text at WCAG AA contrast, and an action opened, reviewed
 *   and cancelled with the keyboard alone.
 *
 * Screenshots go to test-artifacts/console/. Without Chromium the suite skips with a loud notice.
 */
import fs from "node:fs";
import { expect } from "chai";
import { getAddress } from "ethers";
import type { Browser, BrowserContext, Page } from "playwright-core";
import {
  openCommitWindow,
  hardhatWallet,
  PERIOD,
  CARRIER_A,
  CARRIER_B,
  type HardhatNode,
  type ScriptedLedger,
} from "../../../test/helpers/hardhat";
import { stateIndex } from "../../../node/src/protocol";
import { requireAgreement } from "../../../node/src/db/agreements";
import { listSettlementSignatures } from "../../../node/src/db/fast-path";
import { loadSummary } from "../../../node/src/db/summaries";
import { gatheredSignatures, ourSettlement } from "../../../node/src/settlement/cosign";
import { deriveEvidenceKey, getEvidence } from "../../../node/src/evidence/bundle";
import { peerDomain } from "../../../node/src/reconciliation/peer-auth";
import { PeerClient } from "../../../node/src/reconciliation/peer-client";
import { chainPeerVerifier } from "../../../node/src/reconciliation/peer-directory";
import { committedOpening } from "../../../node/src/reconciliation/reveal";
import {
  becomesTrue,
  focusedElement,
  launchChromium,
  lowContrast,
  overflowOf,
  screenshot,
  SCREENSHOTS,
} from "../../../test/helpers/browser";
import {
  closePairPeriod,
  settlePair,
  startPair,
  stopPair,
  type PairNode,
  type PairSetup,
} from "../../../test/helpers/carrier-pair";
import { consoleGateway, signInConsole, startConsoleChain } from "../../../test/helpers/console-pair";
import { primaryTarget } from "../../../test/helpers/databases";
import { cdrId, chooseLost, generateCalls } from "../../../scripts/lib/traffic";

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
    // The regulator is account 10 (REGULATOR_ACCOUNT).
    ({ hardhat, fx } = await startConsoleChain());

    setup = {
      target,
      hardhat,
      fx,
      secret: SECRET,
      // A serves the API and console with sign-in resolved from the chain, as `icl run` does.
      gateway: consoleGateway(),
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
  async function signIn(key: string, width = 1360): Promise<{ page: Page; problems: string[] }> {
    const { context, page, problems } = await signInConsole(browser!, a.gateway.url, key, { width });
    contexts.push(context);
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
    await page.waitForSelector("#timeline-table :text('Dispute opened')");
    // Words and names, not the ledger's identifiers: the carrier by name, the reason in words.
    const timeline = (await page.textContent("#timeline-table"))!;
    expect(timeline).to.contain("CARRIER-A");
    expect(timeline).to.contain("reason: missing CDRs");
    expect(timeline).to.not.match(/0x[0-9a-fA-F]{40}/);
    await screenshot(page, "05-dispute-opened");

    // The undisputed part may settle first: the officer approves it with an EIP-712 signature, which the
    // node keeps until a second officer of A signs.
    await page.click("#action-approve-partial");
    expect(await page.textContent("#what-will-be-signed")).to.contain("undisputed part");
    const typed = JSON.parse((await page.textContent("#signed-payload"))!);
    expect(typed.primaryType).to.equal("Approval");
    await page.click("#sign-and-send");
    await page.waitForSelector("#flash :text('1 of 2 officers signed, 2 needed')");
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
    await page.waitForSelector("#audit-timeline :text('Dispute opened')");
    await page.click("#verify");
    await page.waitForSelector("#verify-outcome .badge");
    expect(await page.textContent("#verify-outcome")).to.contain("pass");
    await screenshot(page, "06-regulator-verify");

    // The period page shows the figures and the timeline, and no discrepancy report (it names calls).
    await page.goto(`${a.gateway.url}/console/#/period/A-B/${MONTH}`);
    await page.waitForSelector("#timeline-table");
    expect(await page.locator("#report").count()).to.equal(0);
    expect(await page.locator("#actions button").count()).to.equal(0);
    expect(await page.textContent("#actions")).to.contain("Your role (regulator) cannot act on this period");
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
  it("every page fits 390 and 1280 px wide, with a skip link, focus on the new page's heading, AA contrast and actions by keyboard", async () => {
    const nextMonth = `${String(PERIOD + 1).slice(0, 4)}-${String(PERIOD + 1).slice(4)}`;
    /** [name, hash, a selector that is there once the page is drawn]. */
    const officerPages: [string, string, string][] = [
      ["dashboard", "#/", "#state-tiles"],
      ["periods", "#/periods", "#periods-table"],
      ["period-disputed", `#/period/A-B/${MONTH}`, "#report"],
      ["period-fast-path", `#/period/A-B/${nextMonth}`, "#cosign-table"],
      ["disputes", "#/disputes", "#disputes-table"],
      ["settlement", "#/settlement", "#escrow-table"],
      ["ingest", "#/ingest", "#files-table"],
      ["agreements", "#/agreements", "#decks-table"],
      ["audit", "#/audit", "#verify"],
    ];
    const regulatorPages: [string, string, string][] = [
      ["audit", "#/audit", "#audit-timeline"],
      ["period", `#/period/A-B/${MONTH}`, "#timeline-table"],
    ];
    const CONTRAST = ".badge, button, a, th, td, summary, .muted, p, h1, h2, h3, .who span";
    const failures: string[] = [];
    const check = async (page: Page, name: string, width: number) => {
      const fit = await overflowOf(page);
      if (fit.scrollWidth > fit.viewport) {
        failures.push(`${name} at ${width} px: ${fit.scrollWidth} px wide; ${fit.culprits.join(", ")}`);
      }
      for (const problem of await lowContrast(page, CONTRAST))
        failures.push(`${name} at ${width} px: ${problem}`);
      await screenshot(page, `layout-${width}-${name}`);
    };

    for (const width of [390, 1280]) {
      const context = await browser!.newContext({ viewport: { width, height: 900 } });
      contexts.push(context);
      const anonymous = await context.newPage();
      await anonymous.goto(a.gateway.url);
      await anonymous.waitForSelector("h1:text('Sign in')");
      await check(anonymous, "sign-in", width);
      // The first Tab reaches the skip link, shown in the window; it puts focus on the page's heading
      // without touching the route.
      await anonymous.keyboard.press("Tab");
      const first = await focusedElement(anonymous);
      const skipLink = anonymous.locator("#skip-link");
      const skip = (await skipLink.count()) > 0 ? await skipLink.boundingBox() : null;
      if (first !== "A skip-link" || skip === null || skip.y < 0 || skip.x + skip.width > width) {
        failures.push(`at ${width} px the first Tab reaches ${first || "nothing"}, not a skip link in view`);
      } else {
        await anonymous.keyboard.press("Enter");
        const heading = await anonymous.evaluate(
          "document.activeElement ? document.activeElement.textContent : null",
        );
        if (heading !== "Sign in" || !/#\/sign-in$/.test(anonymous.url())) {
          failures.push(`at ${width} px the skip link put focus on "${heading}" at ${anonymous.url()}`);
        }
      }

      for (const [who, key, pages] of [
        ["officer", w(1).privateKey, officerPages],
        ["regulator", w(10).privateKey, regulatorPages],
      ] as const) {
        const { page, problems } = await signIn(key, width);
        for (const [name, hash, ready] of pages) {
          await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
          await page.waitForSelector(ready);
          // Navigation puts focus on the new page's heading (screen readers read it; Tab goes on from it).
          const onHeading = `document.activeElement !== null && document.activeElement.tagName === "H1"`;
          if (!(await becomesTrue(page, onHeading))) {
            failures.push(
              `${who}-${name} at ${width} px: focus on ${(await focusedElement(page)) || "nothing"}`,
            );
          }
          await check(page, `${who}-${name}`, width);
        }
        if (who === "officer") {
          // Keyboard only: Tab to an action and open it with Enter; what will be signed comes into view
          // with the focus on it, Tab reaches "Sign and send", and Cancel leads back to the actions.
          await page.evaluate(`location.hash = ${JSON.stringify(`#/period/A-B/${MONTH}`)}`);
          await page.waitForSelector("#action-withdraw");
          await becomesTrue(page, `document.activeElement.tagName === "H1"`);
          const tabTo = async (target: string, most: number) => {
            for (let i = 0; i < most; i++) {
              await page.keyboard.press("Tab");
              if ((await focusedElement(page)) === target) return true;
            }
            return false;
          };
          if (!(await tabTo("BUTTON action-withdraw", 60))) {
            failures.push(`at ${width} px Tab never reaches "Withdraw the dispute"`);
          } else {
            await page.keyboard.press("Enter");
            await page.waitForSelector("#what-will-be-signed");
            const inStage = `document.activeElement.closest("#signing-stage") !== null`;
            const box = (await page.locator("#signing-stage .signing").boundingBox())!;
            if (!(await becomesTrue(page, inStage)) || box.y < 0 || box.y > 900 - 40) {
              failures.push(
                `at ${width} px what will be signed is not in view with the focus (top ${box.y})`,
              );
            }
            if (!(await tabTo("BUTTON sign-and-send", 5))) {
              failures.push(`at ${width} px Tab does not reach "Sign and send"`);
            }
            if (!(await tabTo("BUTTON cancel-signing", 3))) {
              failures.push(`at ${width} px Tab does not reach "Cancel"`);
            } else {
              await page.keyboard.press("Enter");
              if ((await page.locator("#what-will-be-signed").count()) !== 0) {
                failures.push(`at ${width} px Enter on Cancel leaves what will be signed`);
              }
            }
          }
        }
        // The header stays short and Sign out in view, whatever the width.
        const header = (await page.locator("header.top").boundingBox())!;
        if (header.height > (width < 640 ? 150 : 60)) {
          failures.push(`${who} at ${width} px: the header is ${Math.round(header.height)} px tall`);
        }
        const signOut = (await page.locator("#who button:text('Sign out')").boundingBox())!;
        if (signOut.x + signOut.width > width) {
          failures.push(
            `${who} at ${width} px: Sign out ends at ${Math.round(signOut.x + signOut.width)} px`,
          );
        }
        expect(problems, problems.join("\n")).to.deep.equal([]);
      }
    }
    process.stdout.write(`      screenshots: ${SCREENSHOTS}\n`);
    expect(failures, failures.join("\n")).to.deep.equal([]);
  });

  it("an officer approves a period before its reveal, at the figures both openings give", async () => {
    const held = PERIOD + 2;
    const heldMonth = `${String(held).slice(0, 4)}-${String(held).slice(4)}`;
    // Both nodes commit; B's node sends A's its opening (as its running node does): A's now knows the
    // figures the ledger will evaluate, and the period can be approved before anything is revealed.
    await closePairPeriod(setup, [a, b], held, generateCalls(held, 300, 17));
    const opening = (await committedOpening(b.db, await requireAgreement(b.db, "A-B"), held, 0))!;
    const fromB = new PeerClient({
      baseUrl: a.gateway.url,
      signer: fx.nodeB,
      domain: peerDomain(31337n, fx.addresses.ledger),
      verifier: chainPeerVerifier(b.chain, CARRIER_B),
    });
    await fromB.opening(fx.agreementId, held, {
      round: 0,
      root: opening.root,
      amountAB: opening.amountAB.toString(),
      amountBA: opening.amountBA.toString(),
      salt: opening.salt,
    });

    const officer = w(1);
    const { page, problems } = await signIn(officer.privateKey);
    await page.goto(`${a.gateway.url}/console/#/period/A-B/${heldMonth}`);
    await page.waitForSelector("h1 .badge:text('Revealing')");
    expect(await page.textContent("#pre-reveal-table")).to.contain("0 of 2 officers");
    await page.click("#action-approve-early");
    expect(await page.textContent("#what-will-be-signed")).to.contain("not revealed yet");
    const typed = JSON.parse((await page.textContent("#signed-payload"))!);
    const deadlines = await fx.deployment.ledger.connect(hardhat.provider).deadlines(fx.agreementId, held);
    expect(typed.primaryType).to.equal("Approval");
    expect(typed.message).to.deep.include({
      amountAB: opening.amountAB.toString(),
      amountBA: opening.amountBA.toString(),
      deadline: (deadlines.revealDeadline + 7n * 86_400n).toString(),
    });
    await screenshot(page, "09-approve-before-reveal");
    await page.click("#sign-and-send");
    await page.waitForSelector("#flash :text('Approved before the reveal: 1 of 2 officers signed')");
    await page.waitForSelector("#pre-reveal-table :text('1 of 2 officers')");
    expect(await page.locator("#action-approve-early").count(), "signed: nothing left to sign").to.equal(0);
    const { rows } = await a.db.query<{ officer: string }>(
      "SELECT officer FROM officer_approvals WHERE period = $1 AND NOT partial",
      [held],
    );
    expect(rows.map((r) => r.officer.toLowerCase())).to.deep.equal([officer.address.toLowerCase()]);
    expect(await fx.deployment.ledger.connect(hardhat.provider).state(fx.agreementId, held)).to.equal(
      stateIndex("Revealing"),
    );
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  it("a regulator who types an address meant for other roles, or one that does not exist, is told so in words", async () => {
    const { page, problems } = await signIn(w(10).privateKey);
    await page.goto(`${a.gateway.url}/console/#/ingest`);
    await page.waitForSelector("#page-refused");
    expect(await page.textContent("#app")).to.contain(
      "Ingest is for operators and officers; you are signed in as regulator.",
    );
    expect(await page.textContent("#app")).to.not.contain("Something went wrong");
    expect(await focusedElement(page)).to.equal("H1 page-refused");
    expect(await page.textContent("#page-refused")).to.equal("Ingest is not open to you");
    await page.goto(`${a.gateway.url}/console/#/no-such-page`);
    await page.waitForSelector("#page-refused:text('No such page')");
    expect(await focusedElement(page)).to.equal("H1 page-refused");
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  it("an officer filters, sorts and searches the periods, keeps the filter in the address, and exports tables as CSV", async () => {
    const { page, problems } = await signIn(w(1).privateKey);
    await page.click("#nav a:text('Periods')");
    await page.waitForSelector("#periods-table");
    const rows = page.locator("#periods-table tbody tr");
    const periodsShown = async () => page.locator("#periods-table tbody tr td:first-child").allInnerTexts();
    const all = await periodsShown();
    expect(all.length, "the suite left several periods").to.be.greaterThan(1);
    const states = await page.locator("#periods-table tbody tr td:nth-child(2)").allInnerTexts();

    // Filter by state: only that state's rows, and the address says so.
    const state = states[0]!.trim();
    await page.selectOption("#filter-state", state);
    const byState = await page.locator("#periods-table tbody tr td:nth-child(2)").allInnerTexts();
    expect(byState.map((s) => s.trim())).to.deep.equal(
      states.filter((s) => s.trim() === state).map((s) => s.trim()),
    );
    expect(await page.evaluate("location.hash")).to.contain(`state=${state}`);
    expect(await page.textContent("#periods-count")).to.contain(
      `${byState.length} of ${all.length} periods shown`,
    );
    await page.selectOption("#filter-state", "");

    // Sort by period, by click and then by keyboard; aria-sort follows.
    await page.click("#periods-table th:nth-child(1) button");
    const ascending = await periodsShown();
    expect(ascending).to.deep.equal([...all].sort((x, y) => x.localeCompare(y)));
    expect(await page.getAttribute("#periods-table th:nth-child(1)", "aria-sort")).to.equal("ascending");
    await page.focus("#periods-table th:nth-child(1) button");
    await page.keyboard.press("Enter");
    expect(await periodsShown()).to.deep.equal([...ascending].reverse());
    expect(await page.getAttribute("#periods-table th:nth-child(1)", "aria-sort")).to.equal("descending");
    expect(await page.getAttribute("#periods-table th:nth-child(2)", "aria-sort")).to.equal("none");

    // Search by month; then for nothing.
    await page.fill("#filter-search", MONTH);
    expect((await periodsShown()).every((text) => text.includes(MONTH))).to.equal(true);
    expect((await periodsShown()).length).to.equal(all.filter((text) => text.includes(MONTH)).length);
    await page.fill("#filter-search", "no-such-agreement");
    expect(await page.textContent("#periods-table tbody")).to.contain("No period matches.");

    // The address opens the same filter.
    await page.fill("#filter-search", MONTH);
    const shared = await page.evaluate("location.href");
    await page.goto(`${a.gateway.url}/console/#/`);
    await page.waitForSelector("h1:text('Dashboard')");
    await page.goto(String(shared));
    await page.waitForSelector("#periods-table");
    expect(await page.inputValue("#filter-search")).to.equal(MONTH);
    expect(await page.getAttribute("#periods-table th:nth-child(1)", "aria-sort")).to.equal("descending");
    const shown = await periodsShown();

    // CSV of what the table shows: RFC 4180, CRLF, amounts as plain decimals with their currency.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.click(
        "#periods-table >> xpath=ancestor::div[contains(@class,'table-box')]//button[contains(@class,'export-csv')]",
      ),
    ]);
    expect(download.suggestedFilename()).to.equal("periods.csv");
    const csv = fs.readFileSync((await download.path())!, "utf8");
    expect(csv.endsWith("\r\n")).to.equal(true);
    const lines = csv.slice(0, -2).split("\r\n");
    expect(lines[0]).to.equal("Period,State,Round,Party A,A's figures,Party B,B's figures,Currency");
    expect(lines.slice(1).map((line) => line.split(",")[0])).to.deep.equal(shown.map((t) => t.trim()));
    const revealed = lines.slice(1).find((line) => /A→B -?\d+\.\d{6}; B→A -?\d+\.\d{6}/.test(line));
    expect(revealed, csv).to.not.equal(undefined);
    expect(revealed).to.not.match(/\d,\d{3}/);
    expect(revealed!.split(",").at(-1)).to.match(/^[A-Z][A-Z0-9]+$/);
    expect(await rows.count()).to.equal(shown.length);

    // Another page's table: the file names the table and the period.
    await page.goto(`${a.gateway.url}/console/#/period/A-B/${MONTH}`);
    await page.waitForSelector("#timeline-table");
    const [timeline] = await Promise.all([
      page.waitForEvent("download"),
      page.click(
        "#timeline-table >> xpath=ancestor::div[contains(@class,'table-box')]//button[contains(@class,'export-csv')]",
      ),
    ]);
    expect(timeline.suggestedFilename()).to.equal(`timeline-A-B-${MONTH}.csv`);
    const timelineCsv = fs.readFileSync((await timeline.path())!, "utf8");
    expect(timelineCsv.split("\r\n").length).to.be.greaterThan(2);
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });
});
