import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { CARRIER_A, CARRIER_B, PERIOD, UNIT, ledgerFixture, type Side } from "./helpers/fixture";
import { PeriodLifecycle, figures, type Figures } from "./helpers/lifecycle";
import {
  COMMITMENT_TYPES,
  FINAL_STATES,
  ledgerDomain,
  stateBitmap,
  stateIndex,
  type ApprovalData,
} from "../../scripts/lib/protocol";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

/**
 * commitBoth, revealBoth and revealAndSettle: the nodes exchange node-signed commitments over the peer
 * protocol and either submits both in one transaction; once both are on the ledger they exchange their
 * openings, anyone may open both in one transaction and, when both carriers' officers signed the figures
 * the openings give, settle in the same one.
 */
describe("SettlementLedger — both commitments in one transaction", function () {
  async function committing() {
    const fx = await loadFixture(ledgerFixture);
    const lc = new PeriodLifecycle(fx, PERIOD);
    await lc.toCommitWindow();
    return { fx, lc, ledger: fx.ledger, id: fx.agreementId };
  }

  /** `node`'s EIP-712 signature of `side`'s `commitment` for `round`. */
  async function signCommitment(
    lc: PeriodLifecycle,
    node: HardhatEthersSigner,
    side: Side,
    commitment: string,
    round = 0,
  ): Promise<string> {
    const domain = ledgerDomain(lc.fx.chainId, lc.fx.ledgerAddress);
    const data = {
      agreementId: lc.agreementId,
      period: lc.period,
      round,
      carrierId: lc.party(side).id,
      commitment,
    };
    return node.signTypedData(domain, COMMITMENT_TYPES, data);
  }

  it("records both commitments sent by one node: its own by the sender, the partner's by its node's signature", async function () {
    const { fx, lc, ledger, id } = await committing();
    const [a, b] = [figures(5n, 6n), figures(5n, 6n)];
    const [ca, cb] = [lc.commitment("A", a), lc.commitment("B", b)];
    await expect(
      ledger
        .connect(fx.A.node)
        .commitBoth(id, PERIOD, ca, "0x", cb, await signCommitment(lc, fx.B.node, "B", cb)),
    )
      .to.emit(ledger, "Committed")
      .withArgs(id, PERIOD, CARRIER_A, 0, ca)
      .and.to.emit(ledger, "Committed")
      .withArgs(id, PERIOD, CARRIER_B, 0, cb);
    expect(await ledger.state(id, PERIOD)).to.equal(stateIndex("Revealing"));
    // the openings then open them as usual
    lc.committed.A = a;
    lc.committed.B = b;
    await lc.reveal("A");
    await lc.reveal("B");
    expect(await ledger.state(id, PERIOD)).to.equal(stateIndex("Matched"));
  });

  it("lets anyone submit two node-signed commitments, and refuses one signed by another carrier's node", async function () {
    const { fx, lc, ledger, id } = await committing();
    const [ca, cb] = [lc.commitment("A", figures(1n, 1n)), lc.commitment("B", figures(1n, 1n))];
    const sigA = await signCommitment(lc, fx.A.node, "A", ca);
    // A's node signing for B: M-5, a carrier's commitment comes only from its own nodes
    const forged = await signCommitment(lc, fx.A.node, "B", cb);
    await expect(ledger.connect(fx.outsider).commitBoth(id, PERIOD, ca, sigA, cb, forged))
      .to.be.revertedWithCustomError(ledger, "LedgerNotCarrierNode")
      .withArgs(CARRIER_B, fx.A.node.address);
    // an empty signature stands for the sender, who must then be that carrier's node
    await expect(ledger.connect(fx.outsider).commitBoth(id, PERIOD, ca, "0x", cb, forged))
      .to.be.revertedWithCustomError(ledger, "LedgerNotCarrierNode")
      .withArgs(CARRIER_A, fx.outsider.address);
    // a signature binds the commitment: B's over another hash recovers to someone else
    const other = await signCommitment(lc, fx.B.node, "B", lc.commitment("B", figures(2n, 2n)));
    await expect(ledger.commitBoth(id, PERIOD, ca, sigA, cb, other)).to.be.revertedWithCustomError(
      ledger,
      "LedgerNotCarrierNode",
    );
    await ledger
      .connect(fx.outsider)
      .commitBoth(id, PERIOD, ca, sigA, cb, await signCommitment(lc, fx.B.node, "B", cb));
    expect(await ledger.state(id, PERIOD)).to.equal(stateIndex("Revealing"));
  });

  it("skips a carrier whose node committed first, reading nothing of its slot", async function () {
    const { fx, lc, ledger, id } = await committing();
    await lc.commit("A", figures(1n, 1n));
    const cb = lc.commitment("B", figures(1n, 1n));
    await expect(
      ledger.commitBoth(id, PERIOD, ethers.ZeroHash, "0x", cb, await signCommitment(lc, fx.B.node, "B", cb)),
    )
      .to.emit(ledger, "Committed")
      .withArgs(id, PERIOD, CARRIER_B, 0, cb);
    expect((await ledger.periodRecord(id, PERIOD)).hashA).to.equal(lc.commitment("A", lc.committed.A!));
    await expect(ledger.commitBoth(id, PERIOD, ethers.ZeroHash, "0x", cb, "0x"))
      .to.be.revertedWithCustomError(ledger, "LedgerUnexpectedState")
      .withArgs(id, PERIOD, stateIndex("Revealing"), stateBitmap("Committing", "Mismatched"));
  });

  it("binds the round: a round-0 signature cannot commit for the partner in a correction round", async function () {
    const { fx, lc, ledger, id } = await committing();
    const a = figures(1_000n * UNIT, 400n * UNIT, ethers.id("root-a"));
    const b = figures(800n * UNIT, 500n * UNIT, ethers.id("root-b"));
    const [ca, cb] = [lc.commitment("A", a), lc.commitment("B", b)];
    const round0 = await signCommitment(lc, fx.B.node, "B", cb);
    await ledger.connect(fx.A.node).commitBoth(id, PERIOD, ca, "0x", cb, round0);
    lc.committed.A = a;
    lc.committed.B = b;
    await lc.reveal("A");
    await lc.reveal("B");
    expect(await ledger.state(id, PERIOD)).to.equal(stateIndex("Mismatched"));
    // A's node replays B's round-0 signed commitment to lock B into round 1
    await expect(
      ledger.connect(fx.A.node).commitBoth(id, PERIOD, lc.commitment("A", a, 1), "0x", cb, round0),
    ).to.be.revertedWithCustomError(ledger, "LedgerNotCarrierNode");
    const cb1 = lc.commitment("B", b, 1);
    await expect(
      ledger
        .connect(fx.A.node)
        .commitBoth(
          id,
          PERIOD,
          lc.commitment("A", a, 1),
          "0x",
          cb1,
          await signCommitment(lc, fx.B.node, "B", cb1, 1),
        ),
    )
      .to.emit(ledger, "Committed")
      .withArgs(id, PERIOD, CARRIER_B, 1, cb1);
  });

  it("refuses a zero commitment", async function () {
    const { fx, lc, ledger, id } = await committing();
    await expect(
      ledger
        .connect(fx.A.node)
        .commitBoth(
          id,
          PERIOD,
          ethers.ZeroHash,
          "0x",
          ethers.ZeroHash,
          await signCommitment(lc, fx.B.node, "B", ethers.ZeroHash),
        ),
    )
      .to.be.revertedWithCustomError(ledger, "LedgerZeroHash")
      .withArgs();
  });
});

describe("SettlementLedger — both openings in one transaction", function () {
  const opening = (f: Figures) => ({
    root: f.root,
    amountAB: f.amountAB,
    amountBA: f.amountBA,
    salt: f.salt,
  });

  async function committed(a = figures(1_000n * UNIT, 400n * UNIT), b = figures(1_000n * UNIT, 400n * UNIT)) {
    const fx = await loadFixture(ledgerFixture);
    const lc = new PeriodLifecycle(fx, PERIOD);
    await lc.toCommitWindow();
    await lc.commit("A", a);
    await lc.commit("B", b);
    return { fx, lc, ledger: fx.ledger, id: fx.agreementId, a, b };
  }

  /** Carrier `side`'s approval of figures worked out off the ledger, as both nodes can before the reveal. */
  function approval(
    lc: PeriodLifecycle,
    side: Side,
    f: { amountAB: bigint; amountBA: bigint; rootA: string; rootB: string },
  ): ApprovalData {
    return {
      agreementId: lc.agreementId,
      period: lc.period,
      carrierId: lc.party(side).id,
      round: 0,
      partialSettlement: false,
      ...f,
      deadline: 2n ** 60n,
    };
  }

  it("opens both commitments for anyone who holds both openings and evaluates the period", async function () {
    const { fx, ledger, id, a, b } = await committed();
    await expect(ledger.connect(fx.outsider).revealBoth(id, PERIOD, opening(a), opening(b)))
      .to.emit(ledger, "Revealed")
      .withArgs(id, PERIOD, CARRIER_A, 0, a.root, a.amountAB, a.amountBA)
      .and.to.emit(ledger, "Revealed")
      .withArgs(id, PERIOD, CARRIER_B, 0, b.root, b.amountAB, b.amountBA)
      .and.to.emit(ledger, "Evaluated")
      .withArgs(id, PERIOD, 0, 1, a.amountAB, a.amountBA);
    expect(await ledger.state(id, PERIOD)).to.equal(stateIndex("Matched"));
  });

  it("skips a side its node already revealed, so a reveal sent first does not make it fail", async function () {
    const { fx, lc, ledger, id, a, b } = await committed();
    await lc.reveal("B");
    // A's opening as given; B's slot holds anything: B is open already and is not read again
    const tx = ledger.connect(fx.outsider).revealBoth(id, PERIOD, opening(a), opening(figures(1n, 1n)));
    await expect(tx).to.emit(ledger, "Evaluated").withArgs(id, PERIOD, 0, 1, b.amountAB, b.amountBA);
    const record = await ledger.periodRecord(id, PERIOD);
    expect([record.amountABofB, record.amountBAofB]).to.deep.equal([b.amountAB, b.amountBA]);
  });

  it("refuses an opening that is not its carrier's commitment, and opens nothing then", async function () {
    const { fx, lc, ledger, id, a, b } = await committed();
    const forged = { ...b, amountAB: b.amountAB - 1n };
    await expect(ledger.connect(fx.outsider).revealBoth(id, PERIOD, opening(a), opening(forged)))
      .to.be.revertedWithCustomError(ledger, "LedgerCommitmentMismatch")
      .withArgs(id, PERIOD, lc.commitment("B", b), lc.commitment("B", forged));
    // nor can one carrier's opening stand in for the other's
    await expect(ledger.revealBoth(id, PERIOD, opening(b), opening(a))).to.be.revertedWithCustomError(
      ledger,
      "LedgerCommitmentMismatch",
    );
    expect((await ledger.periodRecord(id, PERIOD)).statusA).to.equal(0);
    await expect(ledger.revealBoth(id, PERIOD, { ...opening(a), root: ethers.ZeroHash }, opening(b)))
      .to.be.revertedWithCustomError(ledger, "LedgerZeroHash")
      .withArgs();
  });

  it("cannot open anything before both carriers committed", async function () {
    const fx = await loadFixture(ledgerFixture);
    const lc = new PeriodLifecycle(fx, PERIOD);
    await lc.toCommitWindow();
    const a = figures(5n, 5n);
    await lc.commit("A", a);
    await expect(fx.ledger.revealBoth(fx.agreementId, PERIOD, opening(a), opening(a)))
      .to.be.revertedWithCustomError(fx.ledger, "LedgerUnexpectedState")
      .withArgs(fx.agreementId, PERIOD, stateIndex("Committing"), stateBitmap("Revealing"));
  });

  it("settles a Matched period in the transaction that reveals it, from approvals signed before", async function () {
    const { fx, lc, ledger, id, a, b } = await committed();
    const agreed = { amountAB: a.amountAB, amountBA: a.amountBA, rootA: a.root, rootB: b.root };
    const apA = approval(lc, "A", agreed);
    const sigsA = await lc.sign(apA, fx.A.officers.slice(0, 2));
    const sigsB = await lc.sign(approval(lc, "B", agreed), fx.B.officers.slice(1, 3));
    const escrowA = await ledger.escrowOf(CARRIER_A, fx.tokenAddress);
    await expect(ledger.connect(fx.outsider).revealAndSettle(apA, opening(a), opening(b), sigsA, sigsB))
      .to.emit(ledger, "Settled")
      .withArgs(id, PERIOD, fx.tokenAddress, false, a.amountAB, a.amountBA, a.amountAB - a.amountBA);
    expect(await ledger.state(id, PERIOD)).to.equal(stateIndex("Settled"));
    expect(escrowA - (await ledger.escrowOf(CARRIER_A, fx.tokenAddress))).to.equal(a.amountAB - a.amountBA);
  });

  it("settles a Reconciled period at the figures the agreement's rule gives (terminating carrier's)", async function () {
    // B's node lost a call: another root, A→B 3 units lower, within the 5-unit tolerance
    const a = figures(1_000n * UNIT, 400n * UNIT, ethers.id("root-a"));
    const b = figures(997n * UNIT, 400n * UNIT, ethers.id("root-b"));
    const { fx, lc, ledger, id } = await committed(a, b);
    // A→B terminates at B: B's figure; B→A terminates at A: A's figure
    const agreed = { amountAB: b.amountAB, amountBA: a.amountBA, rootA: a.root, rootB: b.root };
    const apB = approval(lc, "B", agreed);
    const sigsB = await lc.sign(apB, fx.B.officers.slice(0, 2));
    const sigsA = await lc.sign(approval(lc, "A", agreed), fx.A.officers.slice(0, 2));
    // B's approval first: the second signature set is then A's
    await expect(ledger.revealAndSettle(apB, opening(a), opening(b), sigsB, sigsA))
      .to.emit(ledger, "Evaluated")
      .withArgs(id, PERIOD, 0, 2, b.amountAB, a.amountBA)
      .and.to.emit(ledger, "Settled")
      .withArgs(id, PERIOD, fx.tokenAddress, false, b.amountAB, a.amountBA, b.amountAB - a.amountBA);
  });

  it("reverts whole, revealing nothing, when the signed figures are not what the openings give", async function () {
    const a = figures(1_000n * UNIT, 400n * UNIT, ethers.id("root-a"));
    const b = figures(997n * UNIT, 400n * UNIT, ethers.id("root-b"));
    const { fx, lc, ledger, id } = await committed(a, b);
    // A's officers sign A's own figures, not the agreed ones
    const mine = { amountAB: a.amountAB, amountBA: a.amountBA, rootA: a.root, rootB: b.root };
    const apA = approval(lc, "A", mine);
    const tx = ledger.revealAndSettle(
      apA,
      opening(a),
      opening(b),
      await lc.sign(apA, fx.A.officers.slice(0, 2)),
      await lc.sign(approval(lc, "B", mine), fx.B.officers.slice(0, 2)),
    );
    await expect(tx).to.be.revertedWithCustomError(ledger, "LedgerApprovalMismatch");
    expect(await ledger.state(id, PERIOD)).to.equal(stateIndex("Revealing"));
    expect((await ledger.periodRecord(id, PERIOD)).statusA).to.equal(0);
  });

  it("reverts whole when the openings do not reconcile: nothing to approve, the nodes reveal instead", async function () {
    const a = figures(1_000n * UNIT, 400n * UNIT, ethers.id("root-a"));
    const b = figures(800n * UNIT, 500n * UNIT, ethers.id("root-b"));
    const { fx, lc, ledger, id } = await committed(a, b);
    const f = { amountAB: a.amountAB, amountBA: a.amountBA, rootA: a.root, rootB: b.root };
    const apA = approval(lc, "A", f);
    await expect(
      ledger.revealAndSettle(
        apA,
        opening(a),
        opening(b),
        await lc.sign(apA, fx.A.officers.slice(0, 2)),
        await lc.sign(approval(lc, "B", f), fx.B.officers.slice(0, 2)),
      ),
    )
      .to.be.revertedWithCustomError(ledger, "LedgerUnexpectedState")
      .withArgs(id, PERIOD, stateIndex("Mismatched"), stateBitmap(...FINAL_STATES));
    await ledger.revealBoth(id, PERIOD, opening(a), opening(b));
    expect(await ledger.state(id, PERIOD)).to.equal(stateIndex("Mismatched"));
  });

  it("survives one side's reveal and one carrier's approval reaching the ledger first (L-3)", async function () {
    const { fx, lc, ledger, id, a, b } = await committed();
    const agreed = { amountAB: a.amountAB, amountBA: a.amountBA, rootA: a.root, rootB: b.root };
    const apA = approval(lc, "A", agreed);
    const sigsA = await lc.sign(apA, fx.A.officers.slice(0, 2));
    const apB = approval(lc, "B", agreed);
    const sigsB = await lc.sign(apB, fx.B.officers.slice(0, 2));
    // someone front-runs with A's reveal, B's reveal (evaluating the period) and A's approval
    await lc.reveal("A");
    await lc.reveal("B");
    await ledger.connect(fx.outsider).approveWithSignatures(apA, sigsA);
    await expect(ledger.revealAndSettle(apA, opening(a), opening(b), sigsA, sigsB)).to.emit(
      ledger,
      "Settled",
    );
    expect(await ledger.state(id, PERIOD)).to.equal(stateIndex("Settled"));
  });
});
