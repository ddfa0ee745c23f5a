/**
 * The deadline watch inside the running node's pass, on a Hardhat chain: carrier A's node (account 3)
 * with its own database watches the agreement A-B; officers (1, 2 for A; 5, 8 for B) act directly on
 * the ledger. Each test drives its own period through the ledger's states with the chain clock.
 */
import { expect } from "chai";
import { id, type JsonRpcSigner } from "ethers";
import { APPROVAL_TYPES, ledgerDomain, periodEnd } from "../protocol";
import { SettlementToken__factory } from "../../../typechain-types";
import { databaseTargets } from "../../../test/helpers/databases";
import { createChainClient, type ChainClient } from "../chain/client";
import { stateIndex } from "../protocol";
import {
  CARRIER_A,
  CARRIER_B,
  PERIOD,
  commitCall,
  hardhatWallet,
  openCommitWindow,
  scriptLedger,
  startHardhatNode,
  type HardhatNode,
  type ScriptedLedger,
} from "../../../test/helpers/hardhat";
import { addAgreement } from "../db/agreements";
import { listAlerts, recordAlert, type StoredAlert } from "../db/alerts";
import type { Database } from "../db/database";
import { addPartner } from "../db/partners";
import { silentLogger, type Logger } from "../logger";
import { openNode } from "../node";
import { runCli } from "../cli/main";
import { PassThrough } from "node:stream";
import { NodeRunner, type PassReport } from "../reconciliation/runner";

const DAY = 86_400;
const HOUR = 3_600;
const UNIT = 1_000_000n; // one token (6 decimals)

for (const target of databaseTargets()) {
  describe(`deadline watch on ${target.name}`, function () {
    this.timeout(120_000);
    let hardhat: HardhatNode;
    let fx: ScriptedLedger;
    let db: Database;
    let chain: ChainClient;
    let runner: NodeRunner;
    const logs: { level: string; message: string }[] = [];
    const logger: Logger = {
      info: (message) => logs.push({ level: "info", message }),
      warn: (message) => logs.push({ level: "warn", message }),
      error: (message) => logs.push({ level: "error", message }),
    };

    before(async () => {
      hardhat = await startHardhatNode();
      fx = await scriptLedger(hardhat.provider);
      db = await target.open();
      await addPartner(db, { id: "CARRIER-B", name: "Carrier B", matchRules: [] });
      await addAgreement(db, {
        agreementId: fx.agreementId,
        name: "A-B",
        partnerId: "CARRIER-B",
        side: "A",
        secret: Buffer.alloc(32, 7),
      });
      chain = await createChainClient({
        rpcUrl: hardhat.url,
        deployment: fx.addresses,
        signer: fx.nodeA,
        db,
        logger,
        transactions: { pollIntervalMs: 50 },
      });
      runner = await NodeRunner.start({ db, chain, signer: fx.nodeA, evidence: null, logger });
    });
    after(async () => {
      chain?.close();
      await db?.close();
      await hardhat?.stop();
      await target.cleanup();
    });

    const ledger = () => fx.deployment.ledger.connect(hardhat.provider);
    const unlocked = (address: string): Promise<JsonRpcSigner> => hardhat.provider.getSigner(address);
    const officer = async (index: number) => ledger().connect(await hardhat.provider.getSigner(index));
    const alertsOf = async (period: number, kind?: string): Promise<StoredAlert[]> =>
      (await listAlerts(db)).filter((a) => a.period === period && (kind === undefined || a.kind === kind));
    const ofPeriod = (report: PassReport, period: number) => ({
      alerts: report.alerts.filter((a) => a.period === period),
      settled: report.settled.filter((s) => s.period === period),
      released: report.released.filter((r) => r.period === period),
      deferred: report.deferred.filter((d) => d.period === period),
    });

    async function pass(period: number) {
      const report = await runner.pass();
      expect(report.deferred, JSON.stringify(report.deferred)).to.deep.equal([]);
      return ofPeriod(report, period);
    }

    async function advanceTo(seconds: number): Promise<void> {
      await hardhat.provider.send("evm_setNextBlockTimestamp", [seconds]);
      await hardhat.provider.send("evm_mine", []);
    }

    async function commit(period: number, a: { ab: bigint; ba: bigint }, b: { ab: bigint; ba: bigint }) {
      const calls = [
        { node: fx.nodeA.address, call: commitCall(fx, CARRIER_A, a, id(`salt-A-${period}`), period) },
        { node: fx.nodeB.address, call: commitCall(fx, CARRIER_B, b, id(`salt-B-${period}`), period) },
      ];
      for (const { node, call } of calls)
        await (
          await (await unlocked(node)).sendTransaction({ to: fx.addresses.ledger, data: call.data })
        ).wait();
      return async () => {
        for (const { node, call } of calls)
          await (
            await (await unlocked(node)).sendTransaction({ to: fx.addresses.ledger, data: call.reveal })
          ).wait();
      };
    }

    /**
     * Both carriers' officers (or only `carriers`) sign the figures the ledger asks for, valid for
     * `validFor` seconds; anyone submits them. The payer's approval reserves its net: fund it first.
     */
    async function approve(
      period: number,
      partial = false,
      carriers: readonly string[] = [CARRIER_A, CARRIER_B],
      validFor = 30 * DAY,
    ): Promise<void> {
      const [amountAB, amountBA, rootA, rootB, round] = await ledger().approvalFigures(
        fx.agreementId,
        period,
        partial,
      );
      const latest = await hardhat.provider.getBlock("latest");
      for (const [carrierId, officers] of [
        [CARRIER_A, [1, 2]],
        [CARRIER_B, [5, 8]],
      ] as const) {
        if (!carriers.includes(carrierId)) continue;
        const approval = {
          agreementId: fx.agreementId,
          period,
          carrierId,
          round,
          partialSettlement: partial,
          amountAB,
          amountBA,
          rootA,
          rootB,
          deadline: BigInt(latest!.timestamp + validFor),
        };
        const signatures = await Promise.all(
          officers.map((i) =>
            hardhatWallet(i, hardhat.provider).signTypedData(
              ledgerDomain(fx.addresses.chainId, fx.addresses.ledger),
              APPROVAL_TYPES,
              approval,
            ),
          ),
        );
        await (await (await officer(0)).approveWithSignatures(approval, signatures)).wait();
      }
    }

    async function deposit(carrierId: string, amount: bigint): Promise<void> {
      const admin = await hardhat.provider.getSigner(0);
      const token = SettlementToken__factory.connect(fx.deployment.tokenAddress, admin);
      await (await token.mint(admin.address, amount)).wait();
      await (await token.approve(fx.addresses.ledger, amount)).wait();
      await (await ledger().connect(admin).deposit(carrierId, fx.deployment.tokenAddress, amount)).wait();
    }

    const escrow = (carrierId: string) => ledger().escrowOf(carrierId, fx.deployment.tokenAddress);
    const state = (period: number) => ledger().state(fx.agreementId, period);

    it("warns once, a day ahead, that this node has neither committed nor revealed", async () => {
      const period = PERIOD;
      const end = periodEnd(period);
      // Three days before the commit window closes: nothing yet.
      expect((await pass(period)).alerts).to.deep.equal([]);
      await advanceTo(end + 3 * DAY - 2 * HOUR);
      // Nobody committed, so the period is known only as the agreement's last ended month.
      const committing = await pass(period);
      expect(committing.alerts.map((a) => a.kind)).to.deep.equal(["commit-window"]);
      expect(committing.alerts[0]!.message).to.match(/icl period close --agreement A-B --period 2030-01/);

      const reveal = await commit(period, { ab: 10n * UNIT, ba: UNIT }, { ab: 10n * UNIT, ba: UNIT });
      expect((await pass(period)).alerts, "the reveal window closes in two days").to.deep.equal([]);
      await advanceTo(end + 5 * DAY - HOUR);
      const first = await pass(period);
      const second = await pass(period);
      expect(first.alerts.map((a) => [a.level, a.kind, a.deadline])).to.deep.equal([
        ["warning", "reveal-window", end + 5 * DAY],
      ]);
      expect(first.alerts[0]!.message).to.match(/has not revealed/);
      expect(second.alerts, "the second pass repeats nothing").to.deep.equal([]);
      expect(await alertsOf(period, "reveal-window")).to.have.length(1);
      expect(logs.filter((l) => l.level === "warn" && /reveal window closes/.test(l.message))).to.have.length(
        1,
      );
      await reveal(); // Reconciled: the next periods are not disturbed by a Void one
    });

    it("warns of a dispute's response window, settles the agreed part, and records a lapsed arbitration as Resolved at the mean", async () => {
      const period = PERIOD + 1;
      await openCommitWindow(hardhat.provider, period);
      const reveal = await commit(
        period,
        { ab: 100n * UNIT, ba: 10n * UNIT },
        { ab: 60n * UNIT, ba: 10n * UNIT },
      );
      await reveal();
      expect(await state(period)).to.equal(stateIndex("Mismatched"));
      await (
        await (await officer(1)).openDispute(fx.agreementId, period, CARRIER_A, 1, "ipfs://evidence")
      ).wait();
      await (
        await (
          await officer(5)
        ).proposeFigures(fx.agreementId, period, CARRIER_B, 70n * UNIT, 10n * UNIT, "ipfs://counter")
      ).wait();

      // The undisputed part (60 A→B, 10 B→A: A pays 50) once both carriers approved it; A's approval
      // reserves the 50, so A funds its escrow first.
      await deposit(CARRIER_A, 50n * UNIT);
      await approve(period, true);
      const partial = await pass(period);
      expect(partial.settled.map((s) => s.partial)).to.deep.equal([true]);
      expect(partial.alerts.map((a) => a.kind)).to.include("partial-settled");
      expect(await escrow(CARRIER_A)).to.equal(0n);
      expect(await escrow(CARRIER_B)).to.equal(50n * UNIT);

      const response = Number((await ledger().deadlines(fx.agreementId, period)).responseDeadline);
      await advanceTo(response - 2 * HOUR);
      const nearing = await pass(period);
      expect(nearing.alerts.map((a) => [a.kind, a.deadline])).to.deep.equal([["response-window", response]]);
      expect(nearing.alerts[0]!.message).to.match(
        /accept the partner's proposal \(A→B 70\.000000 ICUSD, B→A 10\.000000 ICUSD\)/,
      );
      expect((await pass(period)).alerts).to.deep.equal([]);

      await advanceTo(response + 1);
      expect((await pass(period)).alerts.map((a) => a.kind)).to.deep.equal(["escalation-open"]);
      await (await (await officer(1)).escalate(fx.agreementId, period, CARRIER_A)).wait();
      const arbitration = Number((await ledger().deadlines(fx.agreementId, period)).arbitrationDeadline);
      await advanceTo(arbitration - HOUR);
      const ruling = await pass(period);
      expect(ruling.alerts.map((a) => a.kind)).to.deep.equal(["arbitration-window"]);
      expect(ruling.alerts[0]!.message).to.match(
        /mean of the two claims: A→B 80\.000000 ICUSD, B→A 10\.000000/,
      );

      await advanceTo(arbitration + 1);
      const lapsed = await pass(period);
      expect(await state(period)).to.equal(stateIndex("Resolved"));
      expect(lapsed.alerts.map((a) => [a.level, a.kind])).to.deep.equal([
        ["action", "arbitration-lapsed"],
        ["warning", "approval-needed"],
      ]);
      expect(lapsed.alerts[0]!.message).to.match(
        /Resolved at the mean of the claims, A→B 80\.000000 ICUSD, B→A 10\.000000/,
      );

      // Final: A owes 70 net, 50 of which moved already; its approval reserves the remaining 20.
      await deposit(CARRIER_A, 20n * UNIT);
      await approve(period);
      expect((await pass(period)).settled.map((s) => s.partial)).to.deep.equal([false]);
      expect(await escrow(CARRIER_B)).to.equal(70n * UNIT);
      expect(await state(period)).to.equal(stateIndex("Settled"));
    });

    it("settles an Approved period once: the escrow moves and a second pass sends nothing", async () => {
      const period = PERIOD + 2;
      await openCommitWindow(hardhat.provider, period);
      // Different roots, equal figures: Reconciled.
      await (
        await commit(period, { ab: 30n * UNIT, ba: 5n * UNIT }, { ab: 30n * UNIT, ba: 5n * UNIT })
      )();
      const needed = (await pass(period)).alerts;
      expect(needed.map((a) => a.kind)).to.deep.equal(["approval-needed"]);
      // We pay 25 and hold nothing: the alert says what to deposit before the approval can go through.
      expect(needed[0]!.message).to.match(
        /as payer our approval reserves 25\.000000 ICUSD and our available escrow is 0\.000000 ICUSD: deposit 25\.000000 ICUSD first/,
      );
      await deposit(CARRIER_A, 25n * UNIT);
      await approve(period);
      const [a, b] = [await escrow(CARRIER_A), await escrow(CARRIER_B)];
      const first = await pass(period);
      expect(first.settled).to.have.length(1);
      expect(first.alerts.map((x) => [x.level, x.kind, x.txHash])).to.deep.equal([
        ["action", "settled", first.settled[0]!.txHash],
      ]);
      expect(first.alerts[0]!.message).to.match(/25\.000000 ICUSD from our escrow to the partner's escrow/);
      expect(await state(period)).to.equal(stateIndex("Settled"));
      expect(await escrow(CARRIER_A)).to.equal(a - 25n * UNIT);
      expect(await escrow(CARRIER_B)).to.equal(b + 25n * UNIT);

      const second = await pass(period);
      expect(second).to.deep.equal({ alerts: [], settled: [], released: [], deferred: [] });
      const row = await chain.transactions!.lookup(`settle:${fx.agreementId}:${period}`);
      expect(row?.status).to.equal("confirmed");
      const { rows } = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM chain_transactions WHERE kind = 'settle'",
      );
      expect(rows[0]!.n, "one settle transaction in all (the dispute test's and this one)").to.equal(2);
    });

    it("with watch.autoSettle off, warns that the period awaits settlement instead of settling it", async () => {
      const period = PERIOD + 3;
      await openCommitWindow(hardhat.provider, period);
      await (
        await commit(period, { ab: 7n * UNIT, ba: 7n * UNIT }, { ab: 7n * UNIT, ba: 7n * UNIT })
      )();
      await approve(period);
      const manual = await NodeRunner.start({
        db,
        chain,
        signer: fx.nodeA,
        evidence: null,
        logger,
        watch: { autoSettle: false },
      });
      const report = ofPeriod(await manual.pass(), period);
      expect(report.settled).to.deep.equal([]);
      expect(report.alerts.map((a) => [a.level, a.kind])).to.deep.equal([["warning", "settle-needed"]]);
      expect(report.alerts[0]!.message).to.match(/watch\.autoSettle is off/);
      expect(await state(period)).to.equal(stateIndex("Approved"));
      expect(await chain.transactions!.lookup(`settle:${fx.agreementId}:${period}`)).to.equal(null);
    });

    it("releases our reservation once its approval lapsed with the partner silent, and says so once", async () => {
      const period = PERIOD + 4;
      await openCommitWindow(hardhat.provider, period);
      await (
        await commit(period, { ab: 40n * UNIT, ba: 0n }, { ab: 40n * UNIT, ba: 0n })
      )();
      await deposit(CARRIER_A, 40n * UNIT - (await escrow(CARRIER_A)));
      // Our officers approve for a day; the partner never does.
      await approve(period, false, [CARRIER_A], DAY);
      const reserved = () => ledger().reservedOf(CARRIER_A, fx.deployment.tokenAddress);
      expect(await reserved()).to.equal(40n * UNIT);
      const early = await pass(period);
      expect(early.alerts.map((a) => a.kind)).to.deep.equal([]);
      expect((await runner.pass()).released, "not before the approval's deadline").to.deep.equal([]);
      expect(await reserved()).to.equal(40n * UNIT);

      const expiresAt = Number((await ledger().reservationOf(fx.agreementId, period)).expiresAt);
      await advanceTo(expiresAt + 1);
      const report = await runner.pass();
      expect(report.deferred).to.deep.equal([]);
      expect(report.released.map((r) => [r.period, r.partial])).to.deep.equal([[period, false]]);
      const alerts = report.alerts.filter((a) => a.period === period);
      expect(alerts.map((a) => [a.level, a.kind])).to.deep.equal([
        ["action", "reservation-released"],
        ["warning", "approval-needed"],
      ]);
      expect(alerts[0]!.message).to.match(
        /our reservation of 40\.000000 ICUSD lapsed .* released in 0x[0-9a-f]{64}; the escrow is available again/,
      );
      expect(await reserved()).to.equal(0n);
      const [, , approved] = await ledger().approvalsOf(fx.agreementId, period, CARRIER_A, false);
      expect(approved, "our approval went with the reservation").to.equal(false);
      expect(await state(period)).to.equal(stateIndex("Reconciled"));
      expect((await runner.pass()).released, "released once").to.deep.equal([]);

      // Approved again by both, it settles from the new reservation.
      await approve(period);
      expect((await pass(period)).settled).to.have.length(1);
      expect(await escrow(CARRIER_A)).to.equal(0n);
    });

    it("with watch.autoSettle off, alerts that a lapsed reservation of ours can be released", async () => {
      const period = PERIOD + 5;
      await openCommitWindow(hardhat.provider, period);
      await (
        await commit(period, { ab: 9n * UNIT, ba: 0n }, { ab: 9n * UNIT, ba: 0n })
      )();
      await deposit(CARRIER_A, 9n * UNIT);
      await approve(period, false, [CARRIER_A], HOUR);
      await advanceTo(Number((await ledger().reservationOf(fx.agreementId, period)).expiresAt) + 1);
      const manual = await NodeRunner.start({
        db,
        chain,
        signer: fx.nodeA,
        evidence: null,
        logger,
        watch: { autoSettle: false },
      });
      const report = await manual.pass();
      expect(report.released).to.deep.equal([]);
      const lapsed = report.alerts.filter((a) => a.period === period && a.kind === "reservation-lapsed");
      expect(lapsed.map((a) => a.level)).to.deep.equal(["warning"]);
      expect(lapsed[0]!.message).to.match(/watch\.autoSettle is off: anyone may call release\(/);
      expect((await ledger().reservationOf(fx.agreementId, period)).amount).to.equal(9n * UNIT);
    });

    // Last: it moves the chain past every earlier period's windows.
    it("settles a binding outcome without approvals once its approval deadline has passed", async () => {
      const period = PERIOD + 6;
      await openCommitWindow(hardhat.provider, period);
      const reveal = await commit(period, { ab: 90n * UNIT, ba: 0n }, { ab: 40n * UNIT, ba: 0n });
      await reveal();
      await (await (await officer(1)).openDispute(fx.agreementId, period, CARRIER_A, 1, "")).wait();
      // A withdraws: Resolved at B's figures, A owes 40; nobody approves.
      await (await (await officer(1)).withdrawDispute(fx.agreementId, period, CARRIER_A)).wait();
      const { approvalDeadline } = await ledger().deadlines(fx.agreementId, period);
      const waiting = await pass(period);
      expect(waiting.settled).to.deep.equal([]);
      expect(waiting.alerts.map((a) => [a.kind, a.deadline])).to.deep.equal([
        ["approval-needed", Number(approvalDeadline)],
      ]);
      expect(waiting.alerts[0]!.message).to.match(/anyone may settle them without approvals/);
      // After a pass (the watch releases lapsed reservations of ours), A's available escrow (escrow −
      // reserved) is made one unit short of the 40 it owes.
      const available = async () =>
        (await escrow(CARRIER_A)) - (await ledger().reservedOf(CARRIER_A, fx.deployment.tokenAddress));
      const gap = 40n * UNIT - 1n - (await available());
      if (gap > 0n) await deposit(CARRIER_A, gap);
      if (gap < 0n)
        await (await (await officer(1)).withdraw(CARRIER_A, fx.deployment.tokenAddress, -gap)).wait();
      expect(await available()).to.equal(40n * UNIT - 1n);
      await advanceTo(Number(approvalDeadline) + 1);
      // Binding now, but the payer's available escrow is short: nothing is sent, the alert names the top-up.
      const refused = await pass(period);
      expect(refused.settled).to.deep.equal([]);
      expect(refused.alerts.map((a) => [a.level, a.kind])).to.deep.equal([["error", "escrow-short"]]);
      expect(refused.alerts[0]!.message).to.match(/deposit 0\.000001 ICUSD more/);
      await deposit(CARRIER_A, 1n);
      const before = await escrow(CARRIER_B);
      expect((await pass(period)).settled.map((s) => s.partial)).to.deep.equal([false]);
      expect(await state(period)).to.equal(stateIndex("Settled"));
      expect(await escrow(CARRIER_B)).to.equal(before + 40n * UNIT);
      expect((await pass(period)).settled).to.deep.equal([]);
    });
  });

  describe(`icl alerts on ${target.name}`, () => {
    after(() => target.cleanup());

    it("lists stored alerts, filtered by age, level and agreement, as a table or JSON", async () => {
      const { env, dataDir } = target.cliEnv();
      const node = await openNode(dataDir, silentLogger, env);
      const agreementId = `0x${"ab".repeat(32)}`;
      const base = { agreementId, round: 0, deadline: 1_896_566_400 };
      try {
        await recordAlert(node.db, {
          ...base,
          period: 203001,
          level: "warning",
          kind: "reveal-window",
          message: "period 0xabab 2030-01: reveal",
        });
        await recordAlert(node.db, {
          ...base,
          period: 203002,
          level: "error",
          kind: "escrow-short",
          deadline: null,
          message: "period 0xabab 2030-02: short",
        });
        await node.db.query("UPDATE alerts SET created_at = now() - interval '3 days' WHERE period = 203001");
      } finally {
        await node.close();
      }
      const run = async (...args: string[]) => {
        const [stdout, stderr] = [new PassThrough(), new PassThrough()];
        let out = "";
        stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
        const code = await runCli(args, { stdout, stderr, env: { ...process.env, ...env } });
        return { code, out };
      };
      const all = await run("alerts", "--json");
      expect(all.code).to.equal(0);
      const listed = (JSON.parse(all.out) as { alerts: StoredAlert[] }).alerts;
      expect(listed.map((a) => [a.period, a.level, a.kind, a.deadline])).to.deep.equal([
        [203001, "warning", "reveal-window", 1_896_566_400],
        [203002, "error", "escrow-short", null],
      ]);
      // The warning is three days old: --since 1d leaves only the error.
      const recentErrors = await run(
        "alerts",
        "--since",
        "1d",
        "--level",
        "error",
        "--agreement",
        agreementId,
      );
      expect(recentErrors.out)
        .to.match(/2030-02 +escrow-short +- +short/)
        .and.not.match(/reveal-window/);
      expect((await run("alerts", "--since", "yesterday")).code).to.equal(64);
      expect((await run("alerts", "--level", "loud")).code).to.equal(64);
    });
  });
}
