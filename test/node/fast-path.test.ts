/**
 * Path selection between two carrier nodes over real HTTP: a period both nodes closed with the same
 * summary settles by the co-signed fast path (one transaction, no commitment on chain) once both
 * carriers' officers signed; when the partner's figures differ, when the partner committed, when the
 * partner takes no fast path or when time runs out, both nodes commit and go on by commit–reveal.
 * The audit verifies the fast-path settlement, and notices a doctored one.
 */
import { expect } from "chai";
import { writeFile } from "node:fs/promises";
import { ZeroHash, id, type Wallet } from "ethers";
import {
  CARRIER_A,
  CARRIER_B,
  PERIOD,
  hardhatWallet,
  scriptLedger,
  startHardhatNode,
  type HardhatNode,
  type ScriptedLedger,
} from "../helpers/hardhat";
import { openAuditChain, type AuditChain } from "../../node/src/audit/chain";
import {
  arrayEventSource,
  collectEvents,
  rpcEventSource,
  type AuditEvent,
} from "../../node/src/audit/events";
import { verifyLedger } from "../../node/src/audit/verify";
import { readSummaryFile, summaryFileJson } from "../../node/src/audit/summary-file";
import { loadSummary } from "../../node/src/db/summaries";
import { periodSalt } from "../../node/src/summaries/encoding";
import { requireAgreement } from "../../node/src/db/agreements";
import { loadFastPathAttempt } from "../../node/src/db/fast-path";
import { settledByFastPath, stateIndex } from "../../node/src/protocol";
import { DEFAULT_FAST_PATH, FastPath } from "../../node/src/reconciliation/fast-path";
import { formatPeriod } from "../../node/src/reconciliation/reveal";
import { DeadlineWatch } from "../../node/src/settlement/deadline-watch";
import type { PassReport } from "../../node/src/reconciliation/runner";
import {
  acceptSettlementSignature,
  awaitsFastPath,
  gatheredSignatures,
  ourSettlement,
  signSettlement,
} from "../../node/src/settlement/cosign";
import { silentLogger } from "../../node/src/logger";
import { primaryTarget } from "../helpers/databases";
import { chooseLost, generateCalls, type Call } from "../../scripts/lib/traffic";
import { closePairPeriod, startPair, stopPair, type PairNode } from "../helpers/carrier-pair";

const SECRET = Buffer.from("5c".repeat(32), "hex");
const CALLS = 400;
const DAY = 86_400;

describe("fast path: two nodes choose the path by themselves", function () {
  this.timeout(300_000);
  const target = primaryTarget();
  let hardhat: HardhatNode;
  let fx: ScriptedLedger;
  let a: PairNode;
  let b: PairNode;
  /** The officers of each carrier in scriptLedger (2 of 2). */
  let officers: Record<"A" | "B", Wallet[]>;

  before(async () => {
    hardhat = await startHardhatNode();
    fx = await scriptLedger(hardhat.provider, { toleranceAbs: 1_000n });
    ({ a, b } = await startPair({ target, hardhat, fx, secret: SECRET }));
    officers = {
      A: [hardhatWallet(1, hardhat.provider), hardhatWallet(2, hardhat.provider)],
      B: [hardhatWallet(5, hardhat.provider), hardhatWallet(8, hardhat.provider)],
    };
    // Escrow for both carriers: each may owe the other.
    const token = fx.deployment.demoToken!.connect(await hardhat.provider.getSigner(0));
    for (const [carrier, treasury] of [
      [CARRIER_A, 4],
      [CARRIER_B, 7],
    ] as const) {
      const payer = await hardhat.provider.getSigner(treasury);
      await (await token.mint(await payer.getAddress(), 10n ** 12n)).wait();
      await (await token.connect(payer).approve(fx.addresses.ledger, 10n ** 12n)).wait();
      await (
        await fx.deployment.ledger.connect(payer).deposit(carrier, fx.deployment.tokenAddress, 10n ** 12n)
      ).wait();
    }
  });
  after(async () => {
    await stopPair(a, b);
    await hardhat?.stop();
    await target.cleanup();
  });

  const ledger = () => fx.deployment.ledger.connect(hardhat.provider);
  const close = (period: number, calls: readonly Call[], lostOnB?: Set<number>) =>
    closePairPeriod({ hardhat, fx, secret: SECRET }, [a, b], period, calls, { lostOnB, commit: false });

  /** The officers of `node`'s carrier sign its Settlement, as `icl officer approve` does. */
  async function cosign(node: PairNode, period: number, count = 2): Promise<void> {
    const agreement = await requireAgreement(node.db, "A-B");
    expect(await awaitsFastPath(node.db, node.chain, agreement, period, true)).to.equal(true);
    const settlement = await ourSettlement(node.db, node.chain, agreement, period);
    const now = BigInt((await hardhat.provider.getBlock("latest"))!.timestamp);
    for (const wallet of officers[node.side].slice(0, count)) {
      const signature = await signSettlement(node.chain, wallet, settlement);
      await acceptSettlementSignature(
        node.db,
        node.chain,
        settlement,
        node.side === "A" ? CARRIER_A.toLowerCase() : CARRIER_B.toLowerCase(),
        signature,
        now,
      );
    }
  }

  /** How many `Committed` events each transaction of the period emitted. */
  async function commitsPerTx(period: number): Promise<number[]> {
    const counts = new Map<string, number>();
    for (const log of await ledger().queryFilter(ledger().filters.Committed(fx.agreementId, period))) {
      counts.set(log.transactionHash, (counts.get(log.transactionHash) ?? 0) + 1);
    }
    return [...counts.values()];
  }

  async function passes(n = 3): Promise<PassReport[]> {
    const done: PassReport[] = [];
    for (let i = 0; i < n; i++) {
      done.push(await a.runner.pass());
      done.push(await b.runner.pass());
    }
    for (const report of done) expect(report.deferred, JSON.stringify(report.deferred)).to.deep.equal([]);
    return done;
  }

  it("the same summary on both sides: officers co-sign, one transaction settles it, nothing is committed", async () => {
    const period = PERIOD;
    await close(period, generateCalls(period, CALLS, 11));
    // Before the officers signed: both wait, and neither commits.
    const early = await passes(1);
    expect(early.flatMap((r) => r.fastPath.map((f) => f.step))).to.deep.equal(["waiting", "waiting"]);
    await cosign(b, period);
    await cosign(a, period);
    const reports = await passes(2);
    const steps = reports.flatMap((r) => r.fastPath);
    const submitted = steps.filter((s) => s.step === "submitted");
    expect(submitted, JSON.stringify(steps)).to.have.length(1);
    expect(submitted[0]!.txHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(await ledger().state(fx.agreementId, period)).to.equal(stateIndex("Settled"));
    const record = await ledger().periodRecord(fx.agreementId, period);
    expect(settledByFastPath(record)).to.equal(true);
    expect([record.hashA, record.hashB]).to.deep.equal([ZeroHash, ZeroHash]);
    expect(reports.flatMap((r) => r.revealed)).to.deep.equal([]);

    const [event] = await ledger().queryFilter(ledger().filters.FastPathSettled(fx.agreementId, period));
    const summaryA = await ourSettlement(a.db, a.chain, await requireAgreement(a.db, "A-B"), period);
    expect([event!.args.root, event!.args.amountAB, event!.args.amountBA]).to.deep.equal([
      summaryA.root,
      summaryA.amountAB,
      summaryA.amountBA,
    ]);
    // Party A's node sent it; B's node held both carriers' signatures too, for its own fallback.
    const b2 = await gatheredSignatures(b.db, b.chain, summaryA, CARRIER_A.toLowerCase());
    expect(b2.officers).to.have.length(2);
    expect((await loadFastPathAttempt(a.db, fx.agreementId, period)).submittedTx).to.equal(
      submitted[0]!.txHash,
    );
  });

  describe("the audit", function () {
    let chain: AuditChain;
    let events: AuditEvent[];
    before(async () => {
      chain = await openAuditChain({ rpcUrl: hardhat.url, ledger: fx.addresses.ledger });
      events = await collectEvents(
        rpcEventSource(chain.provider, chain.addresses, {
          fromBlock: chain.fromBlock,
          toBlock: chain.toBlock,
        }),
      );
    });
    after(() => chain?.close());
    const run = (list: AuditEvent[]) => verifyLedger(chain, { source: arrayEventSource(list) });
    const doctor = (args: Record<string, unknown>) =>
      events.map((e) => (e.name === "FastPathSettled" ? { ...e, args: { ...e.args, ...args } } : e));

    it("verifies the fast-path settlement: state, officers at the time, the net moved, the record", async () => {
      const result = await run(events);
      expect(result.findings, JSON.stringify(result.findings, null, 1)).to.deep.equal([]);
      // Two periods of this suite settled by the fast path (A's node submitted one, B's the other), the
      // others went through commit–reveal (mocha runs this block last).
      expect(result.checked).to.deep.include({ fastPathSettlements: 2, settlements: 0 });
      expect(result.ok).to.equal(true);
    });

    it("checks a carrier's exported summary against the root and figures the fast path settled at", async () => {
      const agreement = await requireAgreement(a.db, "A-B");
      const stored = (await loadSummary(a.db, fx.agreementId, PERIOD))!;
      const file = (root: string) =>
        summaryFileJson({
          agreementId: fx.agreementId,
          period: PERIOD,
          side: "A",
          treeSalt: periodSalt(agreement.secret, fx.agreementId, PERIOD),
          root,
          amountAB: stored.amountAB,
          amountBA: stored.amountBA,
          leaves: stored.leaves,
        });
      const read = async (json: unknown) => {
        const path = `${a.dir}/summary-${Math.random().toString(16).slice(2)}.json`;
        await writeFile(path, JSON.stringify(json));
        return readSummaryFile(path);
      };
      const honest = await read(file(stored.root));
      const ok = await verifyLedger(chain, {
        source: arrayEventSource(events),
        summaries: [{ file: "a.json", summary: honest }],
      });
      expect(ok.findings).to.deep.equal([]);
      const doctored = await read({ ...(file(stored.root) as object), leaves: [] });
      const bad = await verifyLedger(chain, {
        source: arrayEventSource(events),
        summaries: [{ file: "a.json", summary: doctored }],
      });
      expect(bad.findings.map((f) => f.kind)).to.include.members([
        "summary-root-mismatch",
        "summary-totals-mismatch",
      ]);
    });

    it("notices officers below the threshold, a slot no officer held, and figures the escrow did not move", async () => {
      const below = await run(doctor({ officersA: 1n }));
      expect(below.findings.map((f) => f.kind)).to.include("approval-threshold-not-met");
      const nobody = await run(doctor({ officersB: (1n << 7n) | 1n }));
      expect(nobody.findings.map((f) => f.kind)).to.include("approval-not-officer");
      const figures = await run(doctor({ amountAB: 1n }));
      expect(figures.findings.map((f) => f.kind)).to.include("netting-mismatch");
      expect(figures.ok).to.equal(false);
    });
  });

  it("other figures on the partner's side: the signatures do not verify, both commit and reveal", async () => {
    const period = PERIOD + 1;
    const calls = generateCalls(period, CALLS, 12);
    await close(period, calls, chooseLost(calls, 0.05, 13));
    await cosign(a, period);
    await cosign(b, period);
    const reports = await passes(3);
    const committed = reports.flatMap((r) => r.fastPath).filter((s) => s.step === "committed");
    expect(committed.map((s) => s.detail).join("\n")).to.match(/other figures|refused the fast path/);
    // The first node to fall back sends both commitments (the partner's node signed its own).
    expect(committed).to.have.length(1);
    expect(await commitsPerTx(period)).to.deep.equal([2]);
    expect(reports.flatMap((r) => r.revealed)).to.have.length(1);
    expect(await ledger().state(fx.agreementId, period)).to.equal(stateIndex("Mismatched"));
    expect((await loadFastPathAttempt(a.db, fx.agreementId, period)).declined).to.not.equal(null);

    // B starts a correction round: a node (here freshly started) leaves it to commit–reveal, the fast
    // path being round 0's only.
    const nodeB = await hardhat.provider.getSigner(fx.nodeB.address);
    await (await ledger().connect(nodeB).commit(fx.agreementId, period, id("B corrects"))).wait();
    expect(Number((await ledger().periodRecord(fx.agreementId, period)).round)).to.equal(1);
    const fresh = new FastPath({
      db: a.db,
      chain: a.chain,
      logger: silentLogger,
      carrierId: CARRIER_A.toLowerCase(),
      options: { ...DEFAULT_FAST_PATH, enabled: true, fallbackMs: DAY * 1000 },
    });
    expect(await fresh.step(await requireAgreement(a.db, "A-B"), period, null)).to.equal(null);
  });

  it("the partner committed (it prefers commit–reveal): this node commits too, and the period Matches", async () => {
    const period = PERIOD + 2;
    await close(period, generateCalls(period, CALLS, 14));
    const { commitSummary } = await import("../../node/src/reconciliation/commit");
    await commitSummary(b.db, b.chain, await requireAgreement(b.db, "A-B"), period);
    await cosign(a, period);
    const reports = await passes(3);
    const steps = reports.flatMap((r) => r.fastPath);
    expect(steps.find((s) => s.step === "committed")?.detail).to.match(/partner's node committed/);
    expect(await ledger().state(fx.agreementId, period)).to.equal(stateIndex("Matched"));
  });

  it("no co-signed settlement in time: both commit a day before the commit window closes", async () => {
    const period = PERIOD + 3;
    await close(period, generateCalls(period, CALLS, 15));
    await cosign(a, period); // B's officers never sign
    expect((await passes(1)).flatMap((r) => r.fastPath.map((f) => f.step))).to.deep.equal([
      "waiting",
      "waiting",
    ]);
    const deadline = Number((await ledger().deadlines(fx.agreementId, period)).commitDeadline);
    await hardhat.provider.send("evm_setNextBlockTimestamp", [deadline - DAY + 1]);
    await hardhat.provider.send("evm_mine", []);
    const reports = await passes(3);
    const committed = reports.flatMap((r) => r.fastPath).filter((s) => s.step === "committed");
    expect(committed.map((s) => s.detail)).to.have.length(1);
    expect(committed[0]!.detail).to.match(/no co-signed settlement/);
    expect(await commitsPerTx(period)).to.deep.equal([2]);
    expect(await ledger().state(fx.agreementId, period)).to.equal(stateIndex("Matched"));
  });

  it("a node that takes no fast path refuses the exchange (FAST_PATH_OFF) and commits what it closed", async () => {
    const period = PERIOD + 4;
    await close(period, generateCalls(period, CALLS, 16));
    const off = new FastPath({
      db: b.db,
      chain: b.chain,
      logger: silentLogger,
      carrierId: CARRIER_B.toLowerCase(),
      options: { ...DEFAULT_FAST_PATH, enabled: false, fallbackMs: DAY * 1000 },
    });
    let refused: unknown;
    await off
      .answer(fx.agreementId, period, { deadline: "0", signatures: [] })
      .catch((e: unknown) => (refused = e));
    expect((refused as { code?: string }).code).to.equal("FAST_PATH_OFF");
    const step = await off.step(await requireAgreement(b.db, "A-B"), period, null);
    expect(step).to.deep.include({ step: "committed", detail: "this node takes no fast path" });
    const reports = await passes(3);
    expect(reports.flatMap((r) => r.fastPath).find((s) => s.step === "committed")?.detail).to.match(
      /partner's node committed/,
    );
    expect(await ledger().state(fx.agreementId, period)).to.equal(stateIndex("Matched"));
  });

  /** Mines a block at `seconds` (unix time): the chain's clock, which the nodes go by. */
  async function at(seconds: number): Promise<void> {
    await hardhat.provider.send("evm_setNextBlockTimestamp", [seconds]);
    await hardhat.provider.send("evm_mine", []);
  }
  const commitDeadline = async (period: number) =>
    Number((await ledger().deadlines(fx.agreementId, period)).commitDeadline);
  /** A FastPath of carrier A's node with other settings than its runner's (a node configured otherwise). */
  const fastPathOfA = (fallbackMs: number) =>
    new FastPath({
      db: a.db,
      chain: a.chain,
      logger: silentLogger,
      carrierId: CARRIER_A.toLowerCase(),
      options: { ...DEFAULT_FAST_PATH, enabled: true, fallbackMs },
    });

  it("party A's node does not submit: B's node, holding both carriers' signatures, settles it once the fallback is due", async () => {
    const period = PERIOD + 5;
    await close(period, generateCalls(period, CALLS, 17));
    await cosign(a, period);
    await cosign(b, period);
    // Only B's node runs (A's answers the peer protocol but never passes): B leaves the submission to A's.
    for (let i = 0; i < 2; i++) {
      const { fastPath, deferred } = await b.runner.pass();
      expect(deferred).to.deep.equal([]);
      expect(fastPath.map((f) => f.step)).to.deep.equal(["waiting"]);
      expect(fastPath[0]!.detail).to.equal(
        "officers' signatures: this carrier 2/2, the partner 2/2; party A's node submits",
      );
    }
    expect(await ledger().state(fx.agreementId, period)).to.equal(stateIndex("Committing"));
    await at((await commitDeadline(period)) - DAY);
    const due = await b.runner.pass();
    expect(
      due.fastPath.map((f) => f.step),
      JSON.stringify(due.fastPath),
    ).to.deep.equal(["submitted"]);
    const tx = await hardhat.provider.getTransaction(due.fastPath[0]!.txHash!);
    expect(tx!.from).to.equal(fx.nodeB.address);
    expect(await ledger().state(fx.agreementId, period)).to.equal(stateIndex("Settled"));
    const record = await ledger().periodRecord(fx.agreementId, period);
    expect(settledByFastPath(record)).to.equal(true);
    expect([record.hashA, record.hashB]).to.deep.equal([ZeroHash, ZeroHash]);
    // A's node, back, finds it settled and sends nothing.
    const nonce = await hardhat.provider.getTransactionCount(fx.nodeA.address);
    const back = await a.runner.pass();
    expect(back.fastPath.map((f) => [f.period, f.step])).to.deep.include([period, "settled"]);
    expect(await hardhat.provider.getTransactionCount(fx.nodeA.address)).to.equal(nonce);
  });

  it("the fast-path transaction would revert (the payer's escrow is short): the node gives it up and commits, the partner follows", async () => {
    const period = PERIOD + 6;
    await close(period, generateCalls(period, CALLS, 18));
    const settlement = await ourSettlement(a.db, a.chain, await requireAgreement(a.db, "A-B"), period);
    const aPays = settlement.amountAB > settlement.amountBA;
    const [payer, officer, treasury] = aPays
      ? [CARRIER_A, officers.A[0]!, 4]
      : [CARRIER_B, officers.B[0]!, 7];
    const net = aPays ? settlement.amountAB - settlement.amountBA : settlement.amountBA - settlement.amountAB;
    const token = fx.deployment.tokenAddress;
    const available = (await ledger().escrowOf(payer, token)) - (await ledger().reservedOf(payer, token));
    // The payer's officer withdraws all but one unit less than the net to the carrier's treasury.
    const withdrawn = available - (net - 1n);
    const asOfficer = ledger().connect(await hardhat.provider.getSigner(officer.address));
    await (await asOfficer.withdraw(payer, token, withdrawn)).wait();
    try {
      await cosign(a, period);
      await cosign(b, period);
      const reports = await passes(3);
      const steps = reports.flatMap((r) => r.fastPath).filter((s) => s.period === period);
      expect(steps.filter((s) => s.step === "submitted")).to.deep.equal([]);
      const committed = steps.filter((s) => s.step === "committed");
      expect(committed, JSON.stringify(steps)).to.have.length(1);
      expect(committed[0]!.detail).to.match(
        /^the fast-path transaction would revert: the contract reverted with LedgerInsufficientEscrow\(/,
      );
      // Giving the fast path up, A's node commits for both: B's node signed its commitment for it.
      expect(await commitsPerTx(period)).to.deep.equal([2]);
      expect((await loadFastPathAttempt(a.db, fx.agreementId, period)).declined).to.match(/would revert/);
      expect(reports.flatMap((r) => r.revealed).filter((r) => r.period === period)).to.have.length(1);
      expect(await ledger().state(fx.agreementId, period)).to.equal(stateIndex("Matched"));
      expect(
        await ledger().queryFilter(ledger().filters.FastPathSettled(fx.agreementId, period)),
      ).to.deep.equal([]);
    } finally {
      // The treasury pays the escrow back in, for the periods after this one.
      const from = await hardhat.provider.getSigner(treasury);
      await (await fx.deployment.demoToken!.connect(from).approve(fx.addresses.ledger, withdrawn)).wait();
      await (await fx.deployment.ledger.connect(from).deposit(payer, token, withdrawn)).wait();
    }
  });

  it("the node's own fallback time (settlement.fastPathFallbackMs): without the partner's signatures it commits that long before the window closes", async () => {
    const period = PERIOD + 7;
    await close(period, generateCalls(period, CALLS, 19));
    await cosign(a, period); // B's officers never sign
    const node = fastPathOfA(2 * DAY * 1000);
    const agreement = await requireAgreement(a.db, "A-B");
    const deadline = await commitDeadline(period);
    await at(deadline - 2 * DAY - 3600);
    expect(await node.step(agreement, period, null)).to.deep.include({
      step: "waiting",
      detail: "officers' signatures: this carrier 2/2, the partner 0/2; no peer URL for the agreement",
    });
    await at(deadline - 2 * DAY);
    // ethers answers a repeated "latest block" from a 250 ms cache: let the new block be seen.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const step = await node.step(agreement, period, null);
    expect(step).to.deep.include({ step: "committed", state: "Committing" });
    expect(step!.detail).to.match(/^no co-signed settlement 172800 s before the commit window closes/);
    expect((await ledger().periodRecord(fx.agreementId, period)).hashA).to.not.equal(ZeroHash);
    // B's node, asking A's, hears the fast path is over there, and commits too.
    const reports = await passes(3);
    const ofB = reports
      .flatMap((r) => r.fastPath)
      .filter((s) => s.period === period && s.step === "committed");
    expect(ofB.map((s) => s.detail)).to.have.length(1);
    expect(await ledger().state(fx.agreementId, period)).to.equal(stateIndex("Matched"));
  });

  it("the deadline watch does not call a period late while the fast path may settle it, and does once the node is due to commit it", async () => {
    const period = PERIOD + 8;
    await close(period, generateCalls(period, CALLS, 20));
    // Warn two days ahead; the node commits a fast-path period one day ahead.
    const watch = new DeadlineWatch({
      db: a.db,
      chain: a.chain,
      logger: silentLogger,
      carrierId: CARRIER_A.toLowerCase(),
      options: { warnBeforeMs: 2 * DAY * 1000, autoSettle: false },
      fastPath: { enabled: true, fallbackMs: DAY * 1000 },
    });
    const alerts = async () => (await watch.check()).alerts.filter((x) => x.period === period);
    const deadline = await commitDeadline(period);
    await at(deadline - DAY - DAY / 2);
    expect(await alerts()).to.deep.equal([]);
    await at(deadline - DAY);
    const late = await alerts();
    expect(late.map((x) => [x.kind, x.deadline])).to.deep.equal([["commit-window", deadline]]);
    expect(late[0]!.message).to.contain(
      "the fast path has not settled the period and this node, due to commit since",
    );
    expect(late[0]!.message).to.contain(
      `icl period close --agreement A-B --period ${formatPeriod(period)} --commit`,
    );
    // The running nodes commit it now (the fallback is due), and the watch has nothing more to say.
    const reports = await passes(3);
    expect(
      reports.flatMap((r) => r.fastPath).filter((s) => s.period === period && s.step === "committed"),
    ).to.have.length(1);
    expect(await commitsPerTx(period)).to.deep.equal([2]);
    expect((await alerts()).filter((x) => x.kind === "commit-window")).to.deep.equal([]);
    expect(await ledger().state(fx.agreementId, period)).to.equal(stateIndex("Matched"));
  });

  it("the node was not running until the commit window closed after the partner committed: the fast path is missed, nothing is sent", async () => {
    const period = PERIOD + 9;
    await close(period, generateCalls(period, CALLS, 21));
    const { commitSummary } = await import("../../node/src/reconciliation/commit");
    await commitSummary(b.db, b.chain, await requireAgreement(b.db, "A-B"), period);
    await at((await commitDeadline(period)) + 1);
    expect(await ledger().state(fx.agreementId, period)).to.equal(stateIndex("Revealing"));
    const nonce = await hardhat.provider.getTransactionCount(fx.nodeA.address);
    const step = await fastPathOfA(DAY * 1000).step(await requireAgreement(a.db, "A-B"), period, null);
    expect(step).to.deep.include({ step: "missed", state: "Revealing" });
    expect(step!.detail).to.match(/the commit window closed before this node committed$/);
    expect(await hardhat.provider.getTransactionCount(fx.nodeA.address)).to.equal(nonce);
    expect((await ledger().periodRecord(fx.agreementId, period)).hashA).to.equal(ZeroHash);
  });
});
