/**
 * The cooperative commit–reveal path between two nodes over real HTTP on Hardhat, with the fast path
 * off: one node sends both commitments in one `commitBoth` (the partner's signed by its node, exchanged
 * over the peer resource `commitment`) and both openings in one `revealBoth` (exchanged over `opening`
 * once both commitments are on the ledger, never before), and the period ends in the state and figures
 * the ledger gives any commit–reveal. A partner that answers nothing, or a forged signature or opening,
 * leaves a node committing and revealing alone as before.
 */
import { expect } from "chai";
import { Wallet } from "ethers";
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
import { openAuditChain } from "../../node/src/audit/chain";
import { verifyLedger } from "../../node/src/audit/verify";
import { requireAgreement, setAgreementPeer } from "../../node/src/db/agreements";
import { loadPartnerCommitment, loadPartnerOpening } from "../../node/src/db/partner-exchange";
import { loadSummary } from "../../node/src/db/summaries";
import { COMMITMENT_TYPES, evaluateClaims, stateIndex, type ContestClaim } from "../../node/src/protocol";
import { commitSummary } from "../../node/src/reconciliation/commit";
import { committedOpening } from "../../node/src/reconciliation/reveal";
import { peerDomain } from "../../node/src/reconciliation/peer-auth";
import type { PeerServerOptions } from "../../node/src/reconciliation/peer-server";
import { PeerClient, PeerRefusedError } from "../../node/src/reconciliation/peer-client";
import { chainPeerVerifier } from "../../node/src/reconciliation/peer-directory";
import { primaryTarget } from "../helpers/databases";
import { chooseLost, generateCalls, type Call } from "../../scripts/lib/traffic";
import { closePairPeriod, settlePair, startPair, stopPair, type PairNode } from "../helpers/carrier-pair";

const SECRET = Buffer.from("3e".repeat(32), "hex");
const CALLS = 400;

describe("cooperative commit–reveal: both commitments, and both openings, in one transaction each", function () {
  this.timeout(300_000);
  const target = primaryTarget();
  let hardhat: HardhatNode;
  let fx: ScriptedLedger;
  let a: PairNode;
  let b: PairNode;

  before(async () => {
    hardhat = await startHardhatNode();
    fx = await scriptLedger(hardhat.provider, { toleranceAbs: 1_000n });
    ({ a, b } = await startPair({
      target,
      hardhat,
      fx,
      secret: SECRET,
      fastPath: () => ({ enabled: false, approveBeforeReveal: false }),
    }));
  });
  after(async () => {
    await stopPair(a, b);
    await hardhat?.stop();
    await target.cleanup();
  });

  const ledger = () => fx.deployment.ledger.connect(hardhat.provider);
  const close = (period: number, calls: readonly Call[], lostOnB?: Set<number>) =>
    closePairPeriod({ hardhat, fx, secret: SECRET }, [a, b], period, calls, { lostOnB, commit: false });

  /** The period's transactions that emitted `event`, with how many of it each emitted, in block order. */
  async function txsWith(period: number, event: "Committed" | "Revealed"): Promise<Map<string, number>> {
    const filter =
      event === "Committed"
        ? ledger().filters.Committed(fx.agreementId, period)
        : ledger().filters.Revealed(fx.agreementId, period);
    const counts = new Map<string, number>();
    for (const log of await ledger().queryFilter(filter)) {
      counts.set(log.transactionHash, (counts.get(log.transactionHash) ?? 0) + 1);
    }
    return counts;
  }

  async function gasOf(txs: Iterable<string>): Promise<bigint> {
    let total = 0n;
    for (const hash of txs) total += (await hardhat.provider.getTransactionReceipt(hash))!.gasUsed;
    return total;
  }

  /** What the ledger evaluated, and what evaluateClaims gives for both nodes' summaries. */
  async function outcome(period: number) {
    const [event] = await ledger().queryFilter(ledger().filters.Evaluated(fx.agreementId, period));
    const [sa, sb] = [
      (await loadSummary(a.db, fx.agreementId, period))!,
      (await loadSummary(b.db, fx.agreementId, period))!,
    ];
    const [terms] = await fx.deployment.book.connect(hardhat.provider).termsAt(fx.agreementId, period);
    const expected = evaluateClaims(sa, sb, {
      toleranceBps: terms.toleranceBps,
      toleranceAbs: terms.toleranceAbs,
      rule: Number(terms.rule),
    });
    return {
      ledger: {
        amountAB: event!.args.amountAB,
        amountBA: event!.args.amountBA,
        outcome: Number(event!.args.outcome),
      },
      expected,
    };
  }

  it("Matched figures, fast path off: one commitBoth carries both commitments, and the period is Matched", async () => {
    const period = PERIOD;
    await close(period, generateCalls(period, CALLS, 1));
    const passes = await settlePair(a, b);
    const commits = await txsWith(period, "Committed");
    expect([...commits.values()], "Committed events per transaction").to.deep.equal([2]);
    const reveals = await txsWith(period, "Revealed");
    expect([...reveals.values()], "Revealed events per transaction").to.deep.equal([2]);
    expect(await ledger().state(fx.agreementId, period)).to.equal(stateIndex("Matched"));
    expect([...passes.a, ...passes.b].flatMap((p) => p.revealed.map((r) => r.txHash))).to.deep.equal([
      ...reveals.keys(),
    ]);
    const steps = [...passes.a, ...passes.b].flatMap((p) => p.fastPath).filter((s) => s.step === "committed");
    expect(steps.map((s) => s.txHash)).to.deep.equal([[...commits.keys()][0]]);
    const { ledger: evaluated, expected } = await outcome(period);
    expect(expected.outcome).to.equal("Matched");
    expect([evaluated.amountAB, evaluated.amountBA]).to.deep.equal([expected.amountAB, expected.amountBA]);
    // B's node answered A's offer with its own signed commitment; A kept it, then sent both.
    expect(await loadPartnerCommitment(a.db, fx.agreementId, period, 0)).to.include({
      carrierId: CARRIER_B.toLowerCase(),
    });
    expect(await loadPartnerCommitment(b.db, fx.agreementId, period, 0)).to.include({
      carrierId: CARRIER_A.toLowerCase(),
    });
    // Each node kept the other's opening, checked against its commitment, before the ledger evaluated.
    const openedA = (await loadPartnerOpening(a.db, fx.agreementId, period, 0))!;
    const summaryB = (await loadSummary(b.db, fx.agreementId, period))!;
    expect([openedA.root, openedA.amountAB, openedA.amountBA]).to.deep.equal([
      summaryB.root,
      summaryB.amountAB,
      summaryB.amountBA,
    ]);
    expect(await loadPartnerOpening(b.db, fx.agreementId, period, 0)).to.not.equal(null);
    const gas = await gasOf(commits.keys());
    expect(Number(gas), "one commitBoth costs less than two commits").to.be.lessThan(2 * 84_000);
    console.log(
      `      gas: commitBoth ${gas}, reveals ${await gasOf((await txsWith(period, "Revealed")).keys())}`,
    );
  });

  it("Reconciled (0.3% lost on one side): one commitBoth, and the figures the agreement's rule gives", async () => {
    const period = PERIOD + 1;
    const calls = generateCalls(period, CALLS * 5, 2);
    await close(period, calls, chooseLost(calls, 0.003, 21));
    await settlePair(a, b);
    expect([...(await txsWith(period, "Committed")).values()]).to.deep.equal([2]);
    expect([...(await txsWith(period, "Revealed")).values()]).to.deep.equal([2]);
    expect(await ledger().state(fx.agreementId, period)).to.equal(stateIndex("Reconciled"));
    const { ledger: evaluated, expected } = await outcome(period);
    expect(expected.outcome).to.equal("Reconciled");
    expect([evaluated.amountAB, evaluated.amountBA]).to.deep.equal([expected.amountAB, expected.amountBA]);
  });

  it("a partner that answers nothing: the node commits and reveals alone at once, and the partner follows alone", async () => {
    const period = PERIOD + 2;
    await close(period, generateCalls(period, CALLS, 3));
    await setAgreementPeer(a.db, "A-B", "http://127.0.0.1:9");
    try {
      const first = await a.runner.pass();
      expect(first.fastPath.map((s) => s.step)).to.deep.equal(["committed"]);
      expect((await b.runner.pass()).fastPath.map((s) => s.step)).to.deep.equal(["committed"]);
      expect((await a.runner.pass()).revealed).to.have.length(1);
    } finally {
      await setAgreementPeer(a.db, "A-B", b.gateway.url);
    }
    await settlePair(a, b);
    expect([...(await txsWith(period, "Committed")).values()]).to.deep.equal([1, 1]);
    expect([...(await txsWith(period, "Revealed")).values()]).to.deep.equal([1, 1]);
    expect(await ledger().state(fx.agreementId, period)).to.equal(stateIndex("Matched"));
  });

  describe("the commitment resource refuses what does not verify", function () {
    const period = PERIOD + 3;
    let client: PeerClient;
    before(async () => {
      await close(period, generateCalls(period, CALLS, 4));
      client = new PeerClient({
        baseUrl: b.gateway.url,
        signer: fx.nodeA,
        domain: peerDomain(31337n, fx.addresses.ledger),
        verifier: chainPeerVerifier(a.chain, CARRIER_A),
      });
    });
    const commitment = `0x${"ab".repeat(32)}`;
    const data = (round: number, carrierId: string) => ({
      agreementId: fx.agreementId.toLowerCase(),
      period,
      round,
      carrierId,
      commitment,
    });
    const refused = async (signature: string, round = 0) => {
      const error = await client.commitment(fx.agreementId, period, { round, commitment, signature }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(PeerRefusedError);
      expect((error as PeerRefusedError).peerCode).to.equal("COMMITMENT_REFUSED");
      expect(await loadPartnerCommitment(b.db, fx.agreementId, period, round)).to.equal(null);
    };

    it("a commitment signed by a key that is no node of the partner (an officer of A, a stranger, B's own node)", async () => {
      for (const wallet of [hardhatWallet(1, hardhat.provider), Wallet.createRandom(), fx.nodeB]) {
        await refused(
          (
            await wallet.signTypedData(
              b.chain.ledgerDomain,
              COMMITMENT_TYPES,
              data(0, CARRIER_A.toLowerCase()),
            )
          ).toLowerCase(),
        );
      }
    });

    it("A's node's signature over another carrier or another round than the one sent", async () => {
      await refused(
        (
          await fx.nodeA.signTypedData(
            b.chain.ledgerDomain,
            COMMITMENT_TYPES,
            data(0, CARRIER_B.toLowerCase()),
          )
        ).toLowerCase(),
      );
      await refused(
        (
          await fx.nodeA.signTypedData(
            b.chain.ledgerDomain,
            COMMITMENT_TYPES,
            data(1, CARRIER_A.toLowerCase()),
          )
        ).toLowerCase(),
      );
    });

    it("a forged answer is not used: the node commits alone, and so does the partner", async () => {
      // B's node answers with a commitment signed by a stranger instead of its node.
      const stranger = Wallet.createRandom();
      const forged = (
        await stranger.signTypedData(a.chain.ledgerDomain, COMMITMENT_TYPES, data(0, CARRIER_B.toLowerCase()))
      ).toLowerCase();
      const server = b.runner.peerServer as unknown as { options: PeerServerOptions };
      const honest = server.options.commitment;
      server.options.commitment = () =>
        Promise.resolve({ status: "signed", round: 0, commitment, signature: forged });
      try {
        const first = await a.runner.pass();
        expect(first.fastPath.map((s) => s.step)).to.deep.equal(["committed"]);
      } finally {
        server.options.commitment = honest;
      }
      expect(await loadPartnerCommitment(a.db, fx.agreementId, period, 0)).to.equal(null);
      await settlePair(a, b);
      expect([...(await txsWith(period, "Committed")).values()]).to.deep.equal([1, 1]);
      expect(await ledger().state(fx.agreementId, period)).to.equal(stateIndex("Matched"));
    });
  });

  describe("the opening resource", function () {
    const period = PERIOD + 4;
    let client: PeerClient;
    let openingA: ContestClaim;
    before(async () => {
      await close(period, generateCalls(period, CALLS, 5));
      client = new PeerClient({
        baseUrl: b.gateway.url,
        signer: fx.nodeA,
        domain: peerDomain(31337n, fx.addresses.ledger),
        verifier: chainPeerVerifier(a.chain, CARRIER_A),
      });
      openingA = (await committedOpening(a.db, await requireAgreement(a.db, "A-B"), period, 0))!;
    });
    const wire = (o: ContestClaim) => ({
      round: 0,
      root: o.root,
      amountAB: o.amountAB.toString(),
      amountBA: o.amountBA.toString(),
      salt: o.salt,
    });
    const refusedWith = async (code: string, o: ContestClaim) => {
      const error = await client.opening(fx.agreementId, period, wire(o)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(PeerRefusedError);
      expect((error as PeerRefusedError).peerCode).to.equal(code);
      expect(await loadPartnerOpening(b.db, fx.agreementId, period, 0)).to.equal(null);
    };

    it("is never answered before both commitments are on the ledger: none, then only A's", async () => {
      await refusedWith("NOT_COMMITTED", openingA);
      await commitSummary(a.db, a.chain, await requireAgreement(a.db, "A-B"), period);
      await refusedWith("NOT_COMMITTED", openingA);
    });

    it("refuses an opening that does not hash to the sender's commitment, and keeps nothing", async () => {
      await commitSummary(b.db, b.chain, await requireAgreement(b.db, "A-B"), period);
      await refusedWith("OPENING_REFUSED", { ...openingA, amountAB: openingA.amountAB + 1n });
      await refusedWith("OPENING_REFUSED", { ...openingA, salt: `0x${"11".repeat(32)}` });
    });

    it("a forged answer is not used: the node reveals alone, and so does the partner", async () => {
      const server = b.runner.peerServer as unknown as { options: PeerServerOptions };
      const honest = server.options.opening;
      const openingB = (await committedOpening(b.db, await requireAgreement(b.db, "A-B"), period, 0))!;
      server.options.opening = () => Promise.resolve(wire({ ...openingB, amountBA: openingB.amountBA + 1n }));
      try {
        expect((await a.runner.pass()).revealed).to.have.length(1);
      } finally {
        server.options.opening = honest;
      }
      expect(await loadPartnerOpening(a.db, fx.agreementId, period, 0)).to.equal(null);
      await settlePair(a, b);
      expect([...(await txsWith(period, "Revealed")).values()]).to.deep.equal([1, 1]);
      expect(await ledger().state(fx.agreementId, period)).to.equal(stateIndex("Matched"));
    });
  });

  describe("the audit", function () {
    it("icl audit verify passes on the history", async () => {
      const chain = await openAuditChain({ rpcUrl: hardhat.url, ledger: fx.addresses.ledger });
      try {
        const result = await verifyLedger(chain, {});
        expect(result.findings, JSON.stringify(result.findings, null, 1)).to.deep.equal([]);
        expect(result.ok).to.equal(true);
        // Every opening, revealBoth's included, recomputed from the calldata against its commitment.
        const checked = result.checked;
        expect(checked.revealsVerified).to.equal(checked.reveals).and.to.be.greaterThan(0);
      } finally {
        chain.close();
      }
    });
  });
});
