/**
 * Every dispute step in the web console, taken in headless Chromium by the role that takes it, on two
 * carrier nodes (A and B, each with its gateway and console) and a Hardhat JSON-RPC chain:
 *
 * - 2030-01: A's officer seals the CDRs B lacks and opens a dispute citing them, then proposes figures;
 *   B's officer counter-proposes on B's console; A's other officer accepts (Resolved). Both carriers'
 *   officers approve the agreed figures, each on their own node's console, and A's officer settles them
 *   (the console shows who pays whom; the node's key sends).
 * - 2030-02: A's officer opens, B's officer proposes; A's escalation is refused in words while the
 *   response window is open; the chain's clock passes it; A's officer escalates; the arbiter (on A's
 *   console) rules with a rationale typed as text; the officers approve the ruling and settle it.
 * - 2030-03: B's officer opens a dispute on B's console and withdraws it (Resolved at A's figures).
 *
 * Throughout, the regulator, the arbiter, A's operator and A's admin keep a console open and see each
 * state as it comes, with no action they cannot take, said in words. After each step the page and the
 * chain agree; a screenshot goes to test-artifacts/console/dispute-NN-<step>-<who>.png; no page shows a
 * page error, a console error or an unexpected HTTP error; and every page visited fits 390 and 1280 px.
 * Set-up (CDRs, closing periods, the running nodes' passes, escrow deposits) goes through node services.
 */
import { expect } from "chai";
import { loadReport } from "../../../node/src/db/reports";
import { getAddress } from "ethers";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { PERIOD_STATES } from "../../../node/src/protocol";
import { launchChromium, screenshot, SCREENSHOTS } from "../../../test/helpers/browser";
import {
  closePairPeriod,
  settlePair,
  startPair,
  stopPair,
  type PairNode,
  type PairSetup,
} from "../../../test/helpers/carrier-pair";
import {
  checkFits,
  consoleGateway,
  signInConsole,
  REGULATOR_ACCOUNT,
  startConsoleChain,
} from "../../../test/helpers/console-pair";
import { primaryTarget } from "../../../test/helpers/databases";
import {
  CARRIER_A,
  CARRIER_B,
  fundCarrier,
  hardhatWallet,
  PERIOD,
  type HardhatNode,
  type ScriptedLedger,
} from "../../../test/helpers/hardhat";
import { chooseLost, generateCalls } from "../../../scripts/lib/traffic";

const target = primaryTarget();
const SECRET = Buffer.from("c4".repeat(32), "hex");
const monthOf = (period: number) => `${String(period).slice(0, 4)}-${String(period).slice(4)}`;
const RESPONSE_WINDOW = 3 * 86_400;

/** Who signs in, with which Hardhat account, on whose node. */
const PEOPLE = {
  officerA1: { account: 1, side: "A" },
  officerA2: { account: 2, side: "A" },
  officerB1: { account: 5, side: "B" },
  officerB2: { account: 8, side: "B" },
  arbiter: { account: 9, side: "A" },
  regulator: { account: REGULATOR_ACCOUNT, side: "A" },
  operator: { account: 11, side: "A" },
  admin: { account: 12, side: "A" },
} as const;
type Who = keyof typeof PEOPLE;

describe(`every dispute step in the web console, by each role (${target.name})`, function () {
  this.timeout(300_000);
  let browser: Browser | null = null;
  let hardhat: HardhatNode;
  let fx: ScriptedLedger;
  let a: PairNode;
  let b: PairNode;
  let setup: PairSetup;
  let decimals: bigint;
  const contexts: BrowserContext[] = [];
  const pages = new Map<Who, { page: Page; problems: string[] }>();
  /** Pages wider than their window, per test (checked at the end of each). */
  let layout: string[] = [];
  const w = (i: number) => hardhatWallet(i, hardhat.provider);
  const ledger = () => fx.deployment.ledger.connect(hardhat.provider);
  const chainState = async (period: number) =>
    PERIOD_STATES[Number(await ledger().state(fx.agreementId, period))];
  const nodeOf = (who: Who) => (PEOPLE[who].side === "A" ? a : b);
  /** Base units as the plain decimal a person types ("37.126274"). */
  const plain = (units: bigint) => {
    const scale = 10n ** decimals;
    return `${units / scale}.${(units % scale).toString().padStart(Number(decimals), "0")}`;
  };
  /** As the console shows money: "1,234.567890". */
  const grouped = (units: bigint) => plain(units).replace(/\B(?=(\d{3})+\.)/g, ",");

  before(async function () {
    browser = await launchChromium();
    if (browser === null) return this.skip();
    // The regulator is account 10 (REGULATOR_ACCOUNT).
    ({ hardhat, fx } = await startConsoleChain());
    decimals = await fx.deployment.demoToken!.connect(hardhat.provider).decimals();
    // Both carriers hold escrow: the payer's approval reserves what it owes.
    for (const carrier of [CARRIER_A, CARRIER_B])
      await fundCarrier(hardhat.provider, fx, carrier, 1_000_000n * 10n ** decimals);
    setup = {
      target,
      hardhat,
      fx,
      secret: SECRET,
      // Both nodes serve the console; A's config lists an operator and an admin.
      gateway: consoleGateway(
        {
          A: {
            operators: [w(PEOPLE.operator.account).address],
            admins: [w(PEOPLE.admin.account).address],
          },
        },
        ["A", "B"],
      ),
    };
    ({ a, b } = await startPair(setup));
    await mismatchedPeriod(PERIOD, 7);
    for (const who of Object.keys(PEOPLE) as Who[]) {
      const node = nodeOf(who);
      const signedIn = await signInConsole(browser, node.gateway.url, w(PEOPLE[who].account).privateKey, {
        carrier: `CARRIER-${PEOPLE[who].side}`,
        // A step the ledger does not allow yet is refused in words (409): the suite provokes it once.
        expected: (url, status) => who === "officerA1" && status === 409 && url.endsWith("/disputes/plan"),
      });
      contexts.push(signedIn.context);
      pages.set(who, signedIn);
    }
  });
  after(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await stopPair(a, b);
    await hardhat?.stop();
    await target.cleanup();
  });
  beforeEach(() => (layout = []));
  afterEach(function () {
    if (this.currentTest?.state !== "passed") return;
    for (const [who, { problems }] of pages)
      expect(problems, `${who}: ${problems.join("\n")}`).to.deep.equal([]);
    expect(layout, layout.join("\n")).to.deep.equal([]);
  });

  /** Both nodes ingest their view of a month of calls (B's switch loses 4%), close it and compare. */
  async function mismatchedPeriod(period: number, seed: number): Promise<void> {
    const calls = generateCalls(period, 400, seed);
    await closePairPeriod(setup, [a, b], period, calls, { lostOnB: chooseLost(calls, 0.04, seed + 1) });
    await settlePair(a, b);
    expect(await chainState(period)).to.equal("Mismatched");
  }

  const pageOf = (who: Who) => pages.get(who)!.page;

  /** Navigates `who`'s console to `hash` (its own node's), waits for `ready` and checks the layout. */
  async function visit(who: Who, hash: string, ready: string, name = `${who} ${hash}`): Promise<Page> {
    const page = pageOf(who);
    await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
    await page.waitForSelector(ready);
    await checkFits(page, name, layout);
    return page;
  }

  /** `who` opens the period page and sees it in `state` (re-drawn even if already open). */
  async function periodAs(who: Who, period: number, state: string): Promise<Page> {
    const page = pageOf(who);
    await page.evaluate(`location.hash = "#/"`);
    await page.waitForSelector("h1:text('Dashboard')");
    return visit(who, `#/period/A-B/${monthOf(period)}`, `h1 .badge:text('${state}')`);
  }

  /** The action buttons `who` sees on the period page now. */
  async function actionsOf(page: Page): Promise<string[]> {
    return page.locator("#actions .actions button").allInnerTexts();
  }

  /**
   * Clicks the action, fills the form (when there is one), reviews what will be signed, signs and sends
   * it; waits for the console to report the ledger's new state. Returns the words shown before signing.
   */
  async function takeStep(
    page: Page,
    action: string,
    fn: string,
    after: string,
    form?: (page: Page) => Promise<void>,
  ): Promise<string> {
    await page.click(action);
    if (form) {
      await form(page);
      await page.click("#plan-figures, #plan-dispute");
    }
    const words = (await page.textContent("#what-will-be-signed"))!;
    const payload = JSON.parse((await page.textContent("#signed-payload"))!);
    expect(payload.function).to.equal(fn);
    await page.click("#sign-and-send");
    await page.waitForSelector(`#flash :text('Done: ${fn} in block')`);
    expect(await page.textContent("#flash")).to.contain(`the period is now ${after}`);
    // The flash comes first, then the page is drawn again from the node's new view.
    await page.locator("#what-will-be-signed").waitFor({ state: "detached" });
    await page.waitForSelector(`h1 .badge:text('${after}')`);
    return words;
  }

  const figures = (ab: bigint, ba: bigint) => async (page: Page) => {
    await page.fill("#amount-ab", plain(ab));
    await page.fill("#amount-ba", plain(ba));
  };

  /** `event`'s transaction was sent from `who`'s own account (signed in the browser, relayed by the node). */
  async function sentBy(event: { transactionHash: string }, who: Who): Promise<void> {
    const tx = await hardhat.provider.getTransaction(event.transactionHash);
    expect(tx!.from, `sent from ${who}'s own account`).to.equal(getAddress(w(PEOPLE[who].account).address));
  }

  /**
   * The people who only watch see the period in `state` and nothing they could sign, said in words;
   * screenshots of the regulator's view.
   */
  async function watchersSee(period: number, state: string, name: string): Promise<void> {
    for (const who of ["regulator", "admin"] as const) {
      const page = await periodAs(who, period, state);
      expect(await actionsOf(page), `${who} has no action`).to.deep.equal([]);
      expect(await page.textContent("#actions")).to.match(/your role \(\w+\) cannot/i);
    }
    // The arbiter rules only once a party escalates, and sees only periods in dispute.
    if (state !== "Escalated" && state !== "Mismatched") {
      const page = await periodAs("arbiter", period, state);
      expect(await actionsOf(page)).to.deep.equal([]);
      expect(await page.textContent("#actions")).to.match(/cannot act on this period while it is/i);
    }
    await screenshot(pageOf("regulator"), `${name}-regulator`);
  }

  /** Seals the calls of the first day with missing CDRs (the report's drill-down) and returns the CID. */
  async function sealMissingCalls(page: Page): Promise<string> {
    const destination = page
      .locator("#report details[data-destination]", { hasText: "missing CDRs" })
      .first();
    await destination.locator("> summary").click();
    const day = destination.locator("details[data-day]", { hasText: "missing CDRs" }).first();
    await day.locator("> summary").click();
    await day.locator("button.show-calls").click();
    await day.locator("table.calls tr.finding").first().waitFor();
    await day.locator("button.attach-evidence").click();
    await page.waitForSelector("#flash :text('as evidence')");
    return /(bafkrei[a-z2-7]+)/.exec((await page.textContent("#flash"))!)![1]!;
  }

  /** Both carriers' officers approve the final figures on their own node's console; the node settles. */
  async function approveAndSettle(period: number, first: number): Promise<void> {
    const shot = (n: number, what: string) => `dispute-${String(first + n).padStart(2, "0")}-${what}`;
    for (const [who, n] of [
      ["officerA1", 0],
      ["officerA2", 1],
      ["officerB1", 2],
      ["officerB2", 3],
    ] as const) {
      // One carrier approving leaves the period Resolved; the second makes it Approved.
      const page = await periodAs(who, period, "Resolved");
      expect(await actionsOf(page)).to.include("Approve the final figures");
      await page.click("#action-approve");
      expect(await page.textContent("#what-will-be-signed")).to.match(/^Approve A-B/);
      const typed = JSON.parse((await page.textContent("#signed-payload"))!);
      expect(typed.primaryType).to.equal("Approval");
      await page.click("#sign-and-send");
      const second = n % 2 === 1;
      await page.waitForSelector(
        second
          ? "#flash :text('Approved: the node submitted 2 signatures to the ledger')"
          : "#flash :text('Your signature is kept: 1 of 2 officers signed, 2 needed')",
      );
      const state = n === 3 ? "Approved" : "Resolved";
      await page.locator("#what-will-be-signed").waitFor({ state: "detached" });
      await page.waitForSelector(`h1 .badge:text('${state}')`);
      if (second) expect(await page.textContent("#app")).to.match(/2 of 2 officers\s*approved/);
      await screenshot(page, shot(n, `approve-${who.replace(/(\w)(\d)$/, "-$1$2").toLowerCase()}`));
      expect(await chainState(period)).to.equal(state);
    }
    // Before anything moves, A's officer sees the netting plan the node will run.
    const plan = await visit("officerA1", "#/settlement", ".netting-plan");
    expect(await plan.textContent(".netting-plan")).to.contain(monthOf(period));
    await screenshot(plan, shot(4, "settlement-plan-officer-a1"));

    // A's officer settles from the period page: the console shows who pays whom, the node's key sends.
    const escrowBefore = await ledger().escrowOf(CARRIER_A, fx.deployment.tokenAddress);
    const dispute = await ledger().disputeRecord(fx.agreementId, period);
    const settling = await periodAs("officerA1", period, "Approved");
    expect(await actionsOf(settling)).to.deep.equal(["Settle"]);
    await settling.click("#action-settle");
    const moves = (await settling.textContent("#settlement-moves"))!;
    const owed = dispute.resolvedBA - dispute.resolvedAB;
    expect(moves).to.equal(
      `${owed < 0n ? "CARRIER-A pays CARRIER-B" : "CARRIER-B pays CARRIER-A"} ${grouped(owed < 0n ? -owed : owed)} ICUSD`,
    );
    await checkFits(settling, "settling a period", layout);
    await screenshot(settling, shot(4, "settle-officer-a1"));
    await settling.click("#settle-now");
    await settling.waitForSelector("#flash :text('Settled in transaction')");
    expect(await settling.textContent("#flash")).to.contain("the period is now Settled");
    expect(await chainState(period)).to.equal("Settled");
    const moved = (await ledger().escrowOf(CARRIER_A, fx.deployment.tokenAddress)) - escrowBefore;
    expect(moved, "A's escrow moved by the net of the resolved figures").to.equal(owed);
    const page = await periodAs("officerA1", period, "Settled");
    const record = (await page.textContent("#settlement-record"))!;
    const net = moved < 0n ? -moved : moved;
    const payer = moved < 0n ? "CARRIER-A" : "CARRIER-B";
    expect(record).to.contain(`moved ${grouped(net)} ICUSD from ${payer}`);
    expect(await actionsOf(page)).to.deep.equal([]);
    await screenshot(page, shot(5, "settled-officer-a1"));
    const partner = await periodAs("officerB1", period, "Settled");
    expect(await partner.textContent("#settlement-record")).to.contain(
      `moved ${grouped(net)} ICUSD from ${payer}`,
    );
    await watchersSee(period, "Settled", shot(6, "settled"));
  }

  it("each role sees the sections its role allows, and a Mismatched period with only the actions it may take", async () => {
    const month = monthOf(PERIOD);
    const sections = async (who: Who) => pageOf(who).locator("#nav a").allTextContents();
    expect(await sections("officerA1")).to.deep.equal([
      "Dashboard",
      "Periods",
      "Disputes",
      "Settlement",
      "Ingest",
      "Agreements & tariffs",
      "Audit",
      "Alerts",
    ]);
    expect(await sections("arbiter")).to.deep.equal(["Dashboard", "Periods", "Disputes"]);
    expect(await sections("regulator")).to.deep.equal([
      "Dashboard",
      "Periods",
      "Disputes",
      "Agreements & tariffs",
      "Audit",
    ]);
    expect(await sections("operator")).to.deep.equal([
      "Dashboard",
      "Ingest",
      "Agreements & tariffs",
      "Alerts",
    ]);
    expect(await sections("admin")).to.deep.equal([
      "Dashboard",
      "Periods",
      "Disputes",
      "Settlement",
      "Ingest",
      "Agreements & tariffs",
      "Audit",
      "Alerts",
      "Tokens",
    ]);
    for (const who of Object.keys(PEOPLE) as Who[]) await checkFits(pageOf(who), `${who} dashboard`, layout);
    // The dashboard: periods by state for those who read periods, traffic for the carrier's own staff.
    for (const who of ["officerA1", "officerB1", "regulator", "admin", "arbiter"] as const) {
      const tiles = pageOf(who).locator("#state-tiles");
      if (who === "arbiter") expect(await tiles.textContent()).to.not.contain("Mismatched");
      else expect(await tiles.textContent(), who).to.contain("Mismatched");
    }
    for (const who of ["officerA1", "operator", "admin"] as const)
      expect(await pageOf(who).locator("#traffic-chart").count(), who).to.equal(1);
    for (const who of ["regulator", "arbiter"] as const)
      expect(await pageOf(who).locator("#traffic-chart").count(), `${who}: no CDR traffic`).to.equal(0);

    // The disputes page lists the Mismatched period for everyone who may read all periods; the arbiter
    // sees only periods in dispute, and none is yet.
    const arbiterDisputes = await visit("arbiter", "#/disputes", "#disputes-table");
    expect(await arbiterDisputes.textContent("#disputes-table")).to.contain("No disputes.");
    for (const who of ["officerA1", "officerB1", "regulator", "admin"] as const) {
      const page = await visit(who, "#/disputes", "#disputes-table");
      const text = (await page.textContent("#disputes-table"))!;
      expect(text, `${who}: ${text}`).to.contain(`A-B ${month}`);
    }
    await screenshot(pageOf("arbiter"), "dispute-00-disputes-arbiter");

    // Officers of both parties may open a dispute; nobody else sees a step to sign.
    for (const who of ["officerA1", "officerB1"] as const) {
      const page = await periodAs(who, PERIOD, "Mismatched");
      expect(await actionsOf(page)).to.include("Open a dispute");
    }
    await watchersSee(PERIOD, "Mismatched", "dispute-00-mismatched");
    const admin = await periodAs("admin", PERIOD, "Mismatched");
    expect(await admin.locator("#report").count(), "an admin reads the discrepancy report").to.equal(1);
    const regulator = await periodAs("regulator", PERIOD, "Mismatched");
    expect(await regulator.locator("#report").count(), "a regulator does not: it names calls").to.equal(0);

    // The operator works on CDRs and tariffs: the period is not theirs, and the console says so.
    const operator = pageOf("operator");
    await operator.evaluate(`location.hash = "#/period/A-B/${month}"`);
    await operator.waitForSelector("#page-refused");
    expect(await operator.textContent("#app")).to.contain("you are signed in as operator");
    expect(await operator.textContent("#app")).to.not.contain("Something went wrong");
    await checkFits(operator, "operator period", layout);
    await screenshot(operator, "dispute-00-period-refused-operator");
    // Their own pages: the files ingested, and the upload.
    const ingest = await visit("operator", "#/ingest", "#files-table");
    expect(await ingest.locator("#ingest-file").count(), "an operator uploads CDR files").to.equal(1);
    await screenshot(ingest, "dispute-00-ingest-operator");
  });

  it("open, propose, counter, accept: A's officer opens citing the CDRs B lacks and proposes, B's officer counters, A's other officer accepts", async () => {
    // open
    const opener = await periodAs("officerA1", PERIOD, "Mismatched");
    const cid = await sealMissingCalls(opener);
    await opener.click("#action-open");
    expect(await opener.inputValue("#evidence-cid")).to.equal(cid);
    const openWords = await takeStep(opener, "#plan-dispute", "openDispute", "Disputed");
    expect(openWords).to.contain(`evidence ${cid}`);
    expect(await opener.textContent("#timeline-table")).to.contain("Dispute opened");
    const [opened] = await ledger().queryFilter(ledger().filters.DisputeOpened(fx.agreementId, PERIOD));
    expect(opened!.args.carrierId).to.equal(CARRIER_A);
    expect(opened!.args.evidenceCid).to.equal(cid);
    await sentBy(opened!, "officerA1");
    expect(await chainState(PERIOD)).to.equal("Disputed");
    await screenshot(opener, "dispute-01-open-officer-a1");
    await watchersSee(PERIOD, "Disputed", "dispute-01-open");

    // propose: figures between the two claims
    const record = await ledger().periodRecord(fx.agreementId, PERIOD);
    const proposed = {
      ab: (record.amountABofA + record.amountABofB) / 2n,
      ba: (record.amountBAofA + record.amountBAofB) / 2n,
    };
    await periodAs("officerA1", PERIOD, "Disputed");
    expect(await actionsOf(opener)).to.include.members(["Propose figures", "Withdraw the dispute"]);
    const proposeWords = await takeStep(
      opener,
      "#action-propose",
      "proposeFigures",
      "Disputed",
      figures(proposed.ab, proposed.ba),
    );
    expect(proposeWords).to.contain("Propose figures");
    // A's own proposal is the latest: A may propose other figures, and has nothing to counter or accept.
    expect(await actionsOf(opener)).to.include("Propose other figures");
    expect(await actionsOf(opener)).to.not.include.members(["Counter-propose", "Accept their proposal"]);
    expect(await opener.textContent("#app")).to.contain("CARRIER-A proposed");
    let dispute = await ledger().disputeRecord(fx.agreementId, PERIOD);
    expect([dispute.proposer, dispute.proposedAB, dispute.proposedBA]).to.deep.equal([
      1n,
      proposed.ab,
      proposed.ba,
    ]);
    await screenshot(opener, "dispute-02-propose-officer-a1");

    // counter: B's officer, on B's own console, answers with B's own figures
    const counter = await periodAs("officerB1", PERIOD, "Disputed");
    expect(await actionsOf(counter)).to.include.members(["Counter-propose", "Accept their proposal"]);
    expect(await actionsOf(counter), "B did not open it").to.not.include("Withdraw the dispute");
    const countered = { ab: record.amountABofB, ba: record.amountBAofB };
    const counterWords = await takeStep(
      counter,
      "#action-propose",
      "proposeFigures",
      "Disputed",
      figures(countered.ab, countered.ba),
    );
    expect(counterWords).to.contain("Counter-propose");
    expect(await actionsOf(counter), "B's counter is the latest").to.include("Propose other figures");
    expect(await actionsOf(counter)).to.not.include.members(["Counter-propose", "Accept their proposal"]);
    dispute = await ledger().disputeRecord(fx.agreementId, PERIOD);
    expect([dispute.proposer, dispute.proposedAB, dispute.proposedBA]).to.deep.equal([
      2n,
      countered.ab,
      countered.ba,
    ]);
    const proposals = await ledger().queryFilter(ledger().filters.FiguresProposed(fx.agreementId, PERIOD));
    expect(proposals.map((e) => e.args.carrierId)).to.deep.equal([CARRIER_A, CARRIER_B]);
    await sentBy(proposals[1]!, "officerB1");
    await screenshot(counter, "dispute-03-counter-officer-b1");
    await watchersSee(PERIOD, "Disputed", "dispute-03-counter");

    // accept: A's other officer accepts B's counter-proposal: the period is Resolved at B's figures
    const accepter = await periodAs("officerA2", PERIOD, "Disputed");
    expect(await accepter.textContent("#app")).to.contain("CARRIER-B proposed");
    expect(await actionsOf(accepter)).to.include("Accept their proposal");
    const acceptWords = await takeStep(accepter, "#action-accept", "acceptFigures", "Resolved");
    expect(acceptWords).to.contain("Resolved at these figures");
    dispute = await ledger().disputeRecord(fx.agreementId, PERIOD);
    expect([dispute.resolution, dispute.resolvedAB, dispute.resolvedBA]).to.deep.equal([
      1n, // Accepted
      countered.ab,
      countered.ba,
    ]);
    const [accepted] = await ledger().queryFilter(ledger().filters.FiguresAccepted(fx.agreementId, PERIOD));
    await sentBy(accepted!, "officerA2");
    expect(await accepter.textContent("#app")).to.match(/Resolved: a proposal was accepted/);
    await screenshot(accepter, "dispute-04-accept-officer-a2");
    await watchersSee(PERIOD, "Resolved", "dispute-04-accept");
  });

  it("settle: both carriers' officers approve the agreed figures, each on their own console, and A's officer settles them", async () => {
    await approveAndSettle(PERIOD, 5);
  });

  it("escalate and rule: refused in words before the response window closes, escalated after it, ruled by the arbiter with a rationale, approved and settled", async () => {
    const period = PERIOD + 1;
    await mismatchedPeriod(period, 11);
    const officer = await periodAs("officerA1", period, "Mismatched");
    const cid = await sealMissingCalls(officer);
    await officer.click("#action-open");
    await takeStep(officer, "#plan-dispute", "openDispute", "Disputed");
    const [opened] = await ledger().queryFilter(ledger().filters.DisputeOpened(fx.agreementId, period));
    expect(opened!.args.evidenceCid).to.equal(cid);
    await screenshot(officer, "dispute-12-open-officer-a1");
    const record = await ledger().periodRecord(fx.agreementId, period);

    // B's officer proposes B's figures.
    const proposer = await periodAs("officerB1", period, "Disputed");
    await takeStep(
      proposer,
      "#action-propose",
      "proposeFigures",
      "Disputed",
      figures(record.amountABofB, record.amountBAofB),
    );
    expect(await actionsOf(proposer), "its own proposal is the latest").to.include("Propose other figures");
    expect(await actionsOf(proposer)).to.not.include.members(["Counter-propose", "Accept their proposal"]);
    await screenshot(proposer, "dispute-13-propose-officer-b1");

    // Too early: the console says why, and nothing is signed.
    await periodAs("officerA1", period, "Disputed");
    await officer.click("#action-escalate");
    await officer.waitForSelector("#flash.error, #flash .error");
    expect(await officer.textContent("#flash")).to.contain(
      "escalation is possible once the response window closes",
    );
    expect(await officer.locator("#what-will-be-signed").count()).to.equal(0);
    expect(await chainState(period)).to.equal("Disputed");
    await screenshot(officer, "dispute-14-escalate-too-early-officer-a1");

    // The response window passes on the chain's clock.
    await hardhat.provider.send("evm_increaseTime", [RESPONSE_WINDOW + 60]);
    await hardhat.provider.send("evm_mine", []);

    // escalate
    await periodAs("officerA1", period, "Disputed");
    const escalateWords = await takeStep(officer, "#action-escalate", "escalate", "Escalated");
    expect(escalateWords).to.contain("Escalate to the arbiter");
    const [escalated] = await ledger().queryFilter(ledger().filters.DisputeEscalated(fx.agreementId, period));
    expect(escalated!.args.carrierId).to.equal(CARRIER_A);
    await sentBy(escalated!, "officerA1");
    expect(await chainState(period)).to.equal("Escalated");
    expect(
      await actionsOf(officer),
      "the arbiter's turn: officers have nothing to send",
    ).to.not.include.members(["Escalate to the arbiter", "Accept their proposal"]);
    await screenshot(officer, "dispute-15-escalate-officer-a1");
    await watchersSee(period, "Escalated", "dispute-15-escalate");

    // rule: the arbiter, on A's console, rules within the two claims and gives the rationale
    const disputes = await visit("arbiter", "#/disputes", "#disputes-table");
    await disputes.click(`#disputes-table a:text('A-B ${monthOf(period)}')`);
    const arbiter = pageOf("arbiter");
    await arbiter.waitForSelector("h1 .badge:text('Escalated')");
    await checkFits(arbiter, "arbiter escalated period", layout);
    expect(await actionsOf(arbiter)).to.deep.equal(["Rule"]);
    const ruled = { ab: record.amountABofB, ba: record.amountBAofA };
    const rationale =
      "B's switch lost calls that A's CDRs show (sealed evidence); A's figures stand for the calls B handed to A.";
    const ruleWords = await takeStep(arbiter, "#action-rule", "rule", "Resolved", async (page) => {
      await figures(ruled.ab, ruled.ba)(page);
      // The rationale is typed as text; the node stores it as public evidence and puts its CID on chain.
      const field = page.getByLabel(/rationale/i);
      expect(await field.evaluate((element) => element.tagName)).to.equal("TEXTAREA");
      await field.fill(rationale);
    });
    expect(ruleWords).to.contain("Ruling");
    const [ruling] = await ledger().queryFilter(ledger().filters.DisputeRuled(fx.agreementId, period));
    expect([ruling!.args.amountAB, ruling!.args.amountBA]).to.deep.equal([ruled.ab, ruled.ba]);
    expect(ruling!.args.arbiter).to.equal(getAddress(w(PEOPLE.arbiter.account).address));
    await sentBy(ruling!, "arbiter");
    const onChain = ruling!.args.rationaleCid;
    expect(onChain, "the rationale is named on chain").to.match(/^baf[a-z2-7]+$/);
    expect(Buffer.from(await a.evidence.get(onChain)).toString("utf8")).to.contain(rationale);
    const dispute = await ledger().disputeRecord(fx.agreementId, period);
    expect([dispute.resolution, dispute.resolvedAB, dispute.resolvedBA]).to.deep.equal([
      2n,
      ruled.ab,
      ruled.ba,
    ]);
    expect(await arbiter.textContent("#app")).to.match(/Resolved: the arbiter ruled/);
    expect(await arbiter.textContent("#timeline-table")).to.contain(onChain.slice(0, 14));
    expect(await actionsOf(arbiter)).to.deep.equal([]);
    await screenshot(arbiter, "dispute-16-rule-arbiter");
    await watchersSee(period, "Resolved", "dispute-16-rule");

    await approveAndSettle(period, 17);
  });

  it("withdraw: B's officer opens a dispute on B's console and withdraws it, conceding A's figures", async () => {
    const period = PERIOD + 2;
    await mismatchedPeriod(period, 19);
    const officer = await periodAs("officerB2", period, "Mismatched");
    await officer.click("#action-open");
    // Nothing sealed by hand: the form cites B's node's own sealed discrepancy report.
    const reportOfB = (await loadReport(b.db, fx.agreementId, period))!;
    expect(reportOfB.evidenceCid).to.match(/^baf/);
    expect(await officer.inputValue("#evidence-cid")).to.equal(reportOfB.evidenceCid);
    expect(await officer.textContent("#evidence-hint")).to.contain("sealed discrepancy report");
    await officer.selectOption("#dispute-reason", "rate_difference");
    const openWords = await takeStep(officer, "#plan-dispute", "openDispute", "Disputed");
    expect(openWords).to.contain("reason: rate difference (code 3)");
    const [opened] = await ledger().queryFilter(ledger().filters.DisputeOpened(fx.agreementId, period));
    expect(opened!.args.carrierId).to.equal(CARRIER_B);
    expect(opened!.args.evidenceCid).to.equal(reportOfB.evidenceCid);
    await sentBy(opened!, "officerB2");
    await screenshot(officer, "dispute-24-open-officer-b2");

    // Only the opener may withdraw: A's officer sees no such action.
    const other = await periodAs("officerA1", period, "Disputed");
    expect(await actionsOf(other)).to.not.include("Withdraw the dispute");

    await periodAs("officerB2", period, "Disputed");
    const withdrawWords = await takeStep(officer, "#action-withdraw", "withdrawDispute", "Resolved");
    expect(withdrawWords).to.contain("this concedes CARRIER-A's figures");
    const record = await ledger().periodRecord(fx.agreementId, period);
    const dispute = await ledger().disputeRecord(fx.agreementId, period);
    expect([dispute.resolution, dispute.resolvedAB, dispute.resolvedBA]).to.deep.equal([
      3n, // Withdrawn
      record.amountABofA,
      record.amountBAofA,
    ]);
    const [withdrawn] = await ledger().queryFilter(ledger().filters.DisputeWithdrawn(fx.agreementId, period));
    await sentBy(withdrawn!, "officerB2");
    expect(await officer.textContent("#app")).to.match(/Resolved: the opener withdrew/);
    await screenshot(officer, "dispute-25-withdraw-officer-b2");
    await watchersSee(period, "Resolved", "dispute-25-withdraw");
    process.stdout.write(`      screenshots: ${SCREENSHOTS}\n`);
  });
});
