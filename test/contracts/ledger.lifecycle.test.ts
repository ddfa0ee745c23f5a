import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  CARRIER_A,
  CARRIER_B,
  PERIOD,
  Rule,
  UNIT,
  WINDOWS,
  activate,
  ledgerFixture,
  makeTerms,
} from "./helpers/fixture";
import { PeriodLifecycle, figures } from "./helpers/lifecycle";
import { SETTLE_STATES, computeCommitment, stateBitmap, stateIndex } from "../../scripts/lib/protocol";

describe("SettlementLedger — period lifecycle", function () {
  it("walks Pending → Committing → Revealing → Matched → Approved → Settled", async function () {
    const fx = await loadFixture(ledgerFixture);
    const lc = new PeriodLifecycle(fx, PERIOD);
    expect(await lc.state()).to.equal(stateIndex("Pending"));
    await lc.toCommitWindow();
    expect(await lc.state()).to.equal(stateIndex("Committing"));

    const fa = figures(1_000n * UNIT, 400n * UNIT);
    const fb = figures(1_000n * UNIT, 400n * UNIT);
    await expect(lc.commit("A", fa))
      .to.emit(fx.ledger, "Committed")
      .withArgs(fx.agreementId, PERIOD, CARRIER_A, 0, lc.commitment("A", fa));
    expect(await lc.state()).to.equal(stateIndex("Committing"));
    await lc.commit("B", fb);
    expect(await lc.state()).to.equal(stateIndex("Revealing"));

    await expect(lc.reveal("A"))
      .to.emit(fx.ledger, "Revealed")
      .withArgs(fx.agreementId, PERIOD, CARRIER_A, 0, fa.root, fa.amountAB, fa.amountBA);
    await expect(lc.reveal("B"))
      .to.emit(fx.ledger, "Evaluated")
      .withArgs(fx.agreementId, PERIOD, 0, 1, 1_000n * UNIT, 400n * UNIT);
    expect(await lc.state()).to.equal(stateIndex("Matched"));

    await expect(lc.approve("A"))
      .to.emit(fx.ledger, "CarrierApproved")
      .withArgs(fx.agreementId, PERIOD, CARRIER_A, false, 1_000n * UNIT, 400n * UNIT, [
        fx.A.officers[0]!.address,
        fx.A.officers[1]!.address,
      ]);
    expect(await lc.state()).to.equal(stateIndex("Matched"));
    await lc.approve("B");
    expect(await lc.state()).to.equal(stateIndex("Approved"));

    const net = 600n * UNIT;
    await expect(lc.settle())
      .to.emit(fx.ledger, "Settled")
      .withArgs(fx.agreementId, PERIOD, fx.tokenAddress, false, 1_000n * UNIT, 400n * UNIT, net)
      .and.to.emit(fx.ledger, "EscrowMoved")
      .withArgs(CARRIER_A, fx.tokenAddress, -net);
    expect(await lc.state()).to.equal(stateIndex("Settled"));
    expect(await fx.ledger.escrowOf(CARRIER_B, fx.tokenAddress)).to.equal(1_000_000n * UNIT + net);
    await expect(lc.settle())
      .to.be.revertedWithCustomError(fx.ledger, "LedgerUnexpectedState")
      .withArgs(fx.agreementId, PERIOD, stateIndex("Settled"), stateBitmap(...SETTLE_STATES));
  });

  it("moves B→A when B owes more", async function () {
    const fx = await loadFixture(ledgerFixture);
    const lc = new PeriodLifecycle(fx, PERIOD);
    await lc.toMatched(100n * UNIT, 300n * UNIT);
    await lc.approveBoth();
    await expect(lc.settle())
      .to.emit(fx.ledger, "EscrowMoved")
      .withArgs(CARRIER_B, fx.tokenAddress, -200n * UNIT);
  });

  it("settles nothing when the net is zero", async function () {
    const fx = await loadFixture(ledgerFixture);
    const lc = new PeriodLifecycle(fx, PERIOD);
    await lc.toMatched(100n * UNIT, 100n * UNIT);
    await lc.approveBoth();
    await expect(lc.settle()).to.not.emit(fx.ledger, "EscrowMoved");
    expect(await lc.state()).to.equal(stateIndex("Settled"));
  });

  it("does not match equal roots with different amounts, and reconciles them within tolerance", async function () {
    const fx = await loadFixture(ledgerFixture);
    const lc = new PeriodLifecycle(fx, PERIOD);
    await lc.run(figures(1_000n * UNIT, 400n * UNIT), figures(1_001n * UNIT, 400n * UNIT));
    expect(await lc.state()).to.equal(stateIndex("Reconciled"));
  });

  describe("tolerance and rules", function () {
    const a = figures(1_000n * UNIT, 400n * UNIT, ethers.id("ra"));
    const b = figures(1_008n * UNIT, 397n * UNIT, ethers.id("rb"));
    for (const [rule, ab, ba] of [
      [Rule.Terminating, 1_008n * UNIT, 400n * UNIT],
      [Rule.Originating, 1_000n * UNIT, 397n * UNIT],
      [Rule.Mean, 1_004n * UNIT, 398_500_000n],
    ] as const) {
      it(`reconciles with rule ${Rule[rule]}`, async function () {
        const fx = await loadFixture(ledgerFixture);
        const { agreementId } = await activate(fx, makeTerms({ ...fx.terms, rule }));
        const lc = new PeriodLifecycle(fx, PERIOD, agreementId);
        await lc.toCommitWindow();
        await lc.commit("A", a);
        await lc.commit("B", b);
        await lc.reveal("A");
        await expect(lc.reveal("B"))
          .to.emit(fx.ledger, "Evaluated")
          .withArgs(agreementId, PERIOD, 0, 2, ab, ba);
        const [fab, fba] = await fx.ledger.approvalFigures(agreementId, PERIOD, false);
        expect([fab, fba]).to.deep.equal([ab, ba]);
      });
    }

    it("uses the absolute tolerance when it is larger than the relative one", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      // 1 % of 10 units = 0.1; absolute tolerance 5 units
      await lc.run(figures(10n * UNIT, 0n, ethers.id("x")), figures(15n * UNIT, 5n * UNIT, ethers.id("y")));
      expect(await lc.state()).to.equal(stateIndex("Reconciled"));
    });

    it("mismatches just outside tolerance in one direction", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      // 1 % of 1 000 = 10 units: 10 passes, 10.000001 does not
      await lc.run(figures(1_000n * UNIT, 0n, ethers.id("x")), figures(990n * UNIT - 1n, 0n, ethers.id("y")));
      expect(await lc.state()).to.equal(stateIndex("Mismatched"));
    });
  });

  it("computes commitments exactly like the off-chain encoding", async function () {
    const fx = await loadFixture(ledgerFixture);
    const f = figures(123n, 456n, ethers.id("r"));
    for (const round of [0, 2]) {
      expect(
        await fx.ledger.computeCommitment(
          fx.agreementId,
          PERIOD,
          round,
          CARRIER_B,
          f.root,
          f.amountAB,
          f.amountBA,
          f.salt,
        ),
      ).to.equal(
        computeCommitment({
          chainId: fx.chainId,
          ledger: fx.ledgerAddress,
          agreementId: fx.agreementId,
          period: PERIOD,
          round,
          party: CARRIER_B,
          root: f.root,
          amountAB: f.amountAB,
          amountBA: f.amountBA,
          salt: f.salt,
        }),
      );
    }
  });

  it("uses the agreement version in force for each period", async function () {
    const fx = await loadFixture(ledgerFixture);
    const amended = makeTerms({ ...fx.terms, rule: Rule.Originating, effectiveFrom: 203003 });
    await activate(fx, amended, fx.agreementId);
    const [v0, n0] = await fx.book.termsAt(fx.agreementId, 203002);
    const [v1, n1] = await fx.book.termsAt(fx.agreementId, 203005);
    expect([v0.rule, n0, v1.rule, n1]).to.deep.equal([
      BigInt(Rule.Terminating),
      0n,
      BigInt(Rule.Originating),
      1n,
    ]);
    const lc = new PeriodLifecycle(fx, 203003);
    await lc.run(figures(1_000n * UNIT, 0n, ethers.id("x")), figures(1_005n * UNIT, 0n, ethers.id("y")));
    const [ab] = await fx.ledger.approvalFigures(fx.agreementId, 203003, false);
    expect(ab).to.equal(1_000n * UNIT);
  });

  it("reports the deadlines of a round", async function () {
    const fx = await loadFixture(ledgerFixture);
    const lc = new PeriodLifecycle(fx, PERIOD);
    const dl = await lc.deadlines();
    expect(dl.roundStart).to.equal(lc.end);
    expect(dl.commitDeadline).to.equal(lc.end + WINDOWS.commit);
    expect(dl.revealDeadline).to.equal(lc.end + WINDOWS.commit + WINDOWS.reveal);
    expect(dl.defaultDisputeDeadline).to.equal(lc.end + WINDOWS.commit + WINDOWS.reveal + WINDOWS.dispute);
    expect(dl.reconcileDeadline).to.equal(0);
    await lc.toMismatched();
    const evaluatedAt = await time.latest();
    expect((await lc.deadlines()).reconcileDeadline).to.equal(evaluatedAt + WINDOWS.reconcile);
    await lc.openDispute("A");
    const opened = await time.latest();
    expect((await lc.deadlines()).responseDeadline).to.equal(opened + WINDOWS.response);
    await time.increase(WINDOWS.response + 1);
    await fx.ledger.connect(fx.B.officers[0]!).escalate(fx.agreementId, PERIOD, CARRIER_B);
    expect((await lc.deadlines()).arbitrationDeadline).to.equal((await time.latest()) + WINDOWS.arbitration);
  });

  it("rejects a malformed period", async function () {
    const fx = await loadFixture(ledgerFixture);
    await expect(fx.ledger.state(fx.agreementId, 203013))
      .to.be.revertedWithCustomError(fx.ledger, "PeriodMathInvalidPeriod")
      .withArgs(203013);
    await expect(fx.ledger.state(fx.agreementId, 202912))
      .to.be.revertedWithCustomError(fx.book, "BookNoVersion")
      .withArgs(fx.agreementId, 202912);
  });

  it("exposes the stored facts", async function () {
    const fx = await loadFixture(ledgerFixture);
    const lc = new PeriodLifecycle(fx, PERIOD);
    await lc.toMatched(5n, 3n);
    const r = await fx.ledger.periodRecord(fx.agreementId, PERIOD);
    expect([r.amountABofA, r.amountBAofB, r.statusA, r.statusB, r.outcome]).to.deep.equal([
      5n,
      3n,
      1n,
      1n,
      1n,
    ]);
    expect(r.hashA).to.equal(lc.committed.A!.root);
    const d = await fx.ledger.disputeRecord(fx.agreementId, PERIOD);
    expect(d.openedAt).to.equal(0);
    void CARRIER_B;
  });
});
