/**
 * The security review's findings, each replayed as the attack it described, against the ledger: the
 * attack must now fail to gain anything. Here: H-1 (accept by figures), M-1 (a cap on proposals), M-2 (a
 * committed party contests only by opening its commitment), M-4 (binding outcomes settle after a silent
 * approval window), L-2 (a correction round keeps the Mismatched record), I-2 (the commitment binds chain,
 * ledger and round) and L-3 (approveAndSettle after one
 * side's signatures). M-5 (nodes by M-of-N officers) is in registry.test.ts, L-1 (proposals expire and can
 * be cancelled) in book.test.ts.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { CARRIER_A, CARRIER_B, DEPOSIT, PERIOD, UNIT, WINDOWS, ledgerFixture } from "./helpers/fixture";
import { PeriodLifecycle, figures } from "./helpers/lifecycle";
import { SETTLE_STATES, bareClaim, stateBitmap, stateIndex } from "../../node/src/protocol";
import { deploySettlementLedger } from "../../scripts/lib/deployLedger";

describe("SettlementLedger — the review's findings replayed", function () {
  async function disputed() {
    const fx = await loadFixture(ledgerFixture);
    const lc = new PeriodLifecycle(fx, PERIOD);
    await lc.toMismatched(); // A claims (1000, 400), B claims (800, 500)
    await lc.openDispute("A");
    return { fx, lc, ledger: fx.ledger, id: fx.agreementId };
  }

  async function funded() {
    const fx = await loadFixture(ledgerFixture);
    for (const party of [fx.A, fx.B]) {
      await fx.token.mint(party.treasury.address, DEPOSIT);
      await fx.token.connect(party.treasury).approve(await fx.ledger.getAddress(), DEPOSIT);
      await fx.ledger.connect(party.treasury).deposit(party.id, fx.tokenAddress, DEPOSIT);
    }
    return fx;
  }

  describe("H-1: acceptFigures accepts the figures the accepter saw, not whatever is stored", function () {
    it("a proposal changed in front of the accept makes the accept revert, and the period stays Disputed", async function () {
      const { fx, lc, ledger, id } = await disputed();
      const [a, b] = [fx.A.officers[0]!, fx.B.officers[0]!];
      await ledger.connect(b).proposeFigures(id, PERIOD, CARRIER_B, 900n * UNIT, 450n * UNIT, "ipfs://b1");
      // B sees A about to accept (900, 450) and lands a proposal of (0, 450) first.
      await ledger.connect(b).proposeFigures(id, PERIOD, CARRIER_B, 0n, 450n * UNIT, "ipfs://b2");
      await expect(ledger.connect(a).acceptFigures(id, PERIOD, CARRIER_A, 900n * UNIT, 450n * UNIT))
        .to.be.revertedWithCustomError(ledger, "LedgerProposalChanged")
        .withArgs(id, PERIOD, 0n, 450n * UNIT);
      expect(await lc.state()).to.equal(stateIndex("Disputed"));
      // Accepting what is actually proposed still works.
      await ledger.connect(a).acceptFigures(id, PERIOD, CARRIER_A, 0n, 450n * UNIT);
      expect(await lc.state()).to.equal(stateIndex("Resolved"));
    });
  });

  describe("M-1: re-proposing cannot put off escalation forever", function () {
    it("after MAX_PROPOSALS proposals no more come, so escalation opens within (MAX_PROPOSALS + 1) response windows", async function () {
      const { fx, lc, ledger, id } = await disputed();
      const [a, b] = [fx.A.officers[0]!, fx.B.officers[0]!];
      const limit = Number(await ledger.MAX_PROPOSALS());
      const opened = Number((await ledger.disputeRecord(id, PERIOD)).openedAt);
      // A re-proposes just before each response window ends, as the attack did.
      for (let i = 0; i < limit; i++) {
        await time.increase(WINDOWS.response - 10);
        await ledger
          .connect(a)
          .proposeFigures(id, PERIOD, CARRIER_A, 990n * UNIT - BigInt(i), 400n * UNIT, "ipfs://a");
        await expect(ledger.connect(b).escalate(id, PERIOD, CARRIER_B)).to.be.revertedWithCustomError(
          ledger,
          "LedgerTooEarly",
        );
      }
      expect((await ledger.disputeRecord(id, PERIOD)).proposals).to.equal(BigInt(limit));
      for (const [who, carrier] of [
        [a, CARRIER_A],
        [b, CARRIER_B],
      ] as const) {
        await expect(ledger.connect(who).proposeFigures(id, PERIOD, carrier, 1n, 1n, "ipfs://again"))
          .to.be.revertedWithCustomError(ledger, "LedgerProposalLimit")
          .withArgs(id, PERIOD, limit);
      }
      const deadline = Number((await ledger.deadlines(id, PERIOD)).responseDeadline);
      expect(deadline).to.be.at.most(opened + (limit + 1) * WINDOWS.response);
      await time.increaseTo(deadline + 1);
      await ledger.connect(b).escalate(id, PERIOD, CARRIER_B);
      expect(await lc.state()).to.equal(stateIndex("Escalated"));
    });
  });

  describe("M-2: the second revealer cannot walk away from its commitment", function () {
    async function bSilentAfterA() {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toCommitWindow();
      const fb = figures(800n * UNIT, 500n * UNIT, ethers.id("root-b"));
      await lc.commit("A", figures(1_000n * UNIT, 400n * UNIT, ethers.id("root-a")));
      await lc.commit("B", fb);
      await lc.reveal("A"); // B sees A's figures and does not reveal, as the attack had it
      await time.increaseTo(lc.end + WINDOWS.commit + WINDOWS.reveal + 1);
      expect(await lc.state()).to.equal(stateIndex("Defaulted"));
      return { fx, lc, fb };
    }

    it("B's contest with figures other than its commitment's reverts; only the opening contests", async function () {
      const { fx, lc, fb } = await bSilentAfterA();
      const officer = fx.ledger.connect(fx.B.officers[0]!);
      // The attack: claim whatever suits B now that A's figures are known.
      const committed = (await fx.ledger.periodRecord(fx.agreementId, PERIOD)).hashB;
      await expect(
        officer.contestDefault(fx.agreementId, PERIOD, CARRIER_B, bareClaim(0n, 900n * UNIT), 2, ""),
      )
        .to.be.revertedWithCustomError(fx.ledger, "LedgerCommitmentMismatch")
        .withArgs(fx.agreementId, PERIOD, committed, anyValue);
      // Even the committed figures with a wrong salt do not pass.
      const wrongSalt = { root: fb.root, amountAB: fb.amountAB, amountBA: fb.amountBA, salt: ethers.id("x") };
      await expect(
        officer.contestDefault(fx.agreementId, PERIOD, CARRIER_B, wrongSalt, 2, ""),
      ).to.be.revertedWithCustomError(fx.ledger, "LedgerCommitmentMismatch");
      expect(await lc.state()).to.equal(stateIndex("Defaulted"));
      // Opening the commitment contests, at the committed figures, and records the committed root.
      const opening = { root: fb.root, amountAB: fb.amountAB, amountBA: fb.amountBA, salt: fb.salt };
      await expect(officer.contestDefault(fx.agreementId, PERIOD, CARRIER_B, opening, 2, "ipfs://b"))
        .to.emit(fx.ledger, "DefaultContested")
        .withArgs(fx.agreementId, PERIOD, CARRIER_B, fb.root, fb.amountAB, fb.amountBA, 2, "ipfs://b");
      const record = await fx.ledger.periodRecord(fx.agreementId, PERIOD);
      expect([record.hashB, record.amountABofB, record.amountBAofB]).to.deep.equal([
        fb.root,
        fb.amountAB,
        fb.amountBA,
      ]);
      expect(await lc.state()).to.equal(stateIndex("Disputed"));
    });

    it("a carrier that never committed still contests with its figures (its node was down)", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toDefaulted(); // only A committed and revealed
      await expect(
        fx.ledger
          .connect(fx.B.officers[0]!)
          .contestDefault(fx.agreementId, PERIOD, CARRIER_B, bareClaim(900n * UNIT, 450n * UNIT), 2, ""),
      )
        .to.emit(fx.ledger, "DefaultContested")
        .withArgs(fx.agreementId, PERIOD, CARRIER_B, ethers.ZeroHash, 900n * UNIT, 450n * UNIT, 2, "");
    });
  });

  describe("M-4: final outcomes bind once the approval window has passed in silence", function () {
    it("a ruling the loser never approves settles anyway after the approval deadline, moving the ruled net", async function () {
      const { fx, lc, ledger, id } = await disputed();
      const escrowA = await ledger.escrowOf(CARRIER_A, fx.tokenAddress);
      const escrowB = await ledger.escrowOf(CARRIER_B, fx.tokenAddress);
      await time.increase(WINDOWS.response + 1);
      await ledger.connect(fx.B.officers[0]!).escalate(id, PERIOD, CARRIER_B);
      await ledger.connect(fx.arbiter).rule(id, PERIOD, 900n * UNIT, 450n * UNIT, "ipfs://ruling");
      const ruledAt = await time.latest();
      expect((await ledger.disputeRecord(id, PERIOD)).resolvedAt).to.equal(BigInt(ruledAt));
      // B wins (A owes 450 net) and approves; A, the loser, stays silent, as the attack had it.
      await lc.approve("B");
      const { approvalDeadline } = await ledger.deadlines(id, PERIOD);
      expect(approvalDeadline).to.equal(BigInt(ruledAt + WINDOWS.response));
      await expect(lc.settle())
        .to.be.revertedWithCustomError(ledger, "LedgerTooEarly")
        .withArgs(id, PERIOD, approvalDeadline + 1n);
      await time.increaseTo(approvalDeadline);
      await expect(lc.settle())
        .to.emit(ledger, "Settled")
        .withArgs(id, PERIOD, fx.tokenAddress, false, 900n * UNIT, 450n * UNIT, 450n * UNIT);
      expect(await ledger.escrowOf(CARRIER_A, fx.tokenAddress)).to.equal(escrowA - 450n * UNIT);
      expect(await ledger.escrowOf(CARRIER_B, fx.tokenAddress)).to.equal(escrowB + 450n * UNIT);
    });

    it("an Uncontested default settles at the present party's figures without the silent side", async function () {
      const fx = await funded();
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toDefaulted(); // only A revealed (1000, 400)
      await time.increase(WINDOWS.dispute + 1);
      expect(await lc.state()).to.equal(stateIndex("Uncontested"));
      const { approvalDeadline, defaultDisputeDeadline } = await fx.ledger.deadlines(fx.agreementId, PERIOD);
      expect(approvalDeadline).to.equal(defaultDisputeDeadline + BigInt(WINDOWS.response));
      await expect(lc.settle()).to.be.revertedWithCustomError(fx.ledger, "LedgerTooEarly");
      await time.increaseTo(approvalDeadline + 1n);
      await expect(lc.settle())
        .to.emit(fx.ledger, "Settled")
        .withArgs(fx.agreementId, PERIOD, fx.tokenAddress, false, 1_000n * UNIT, 400n * UNIT, 600n * UNIT);
    });

    it("settleBatch settles a binding outcome past its approval deadline and skips one before it", async function () {
      const fx = await loadFixture(ledgerFixture);
      const early = new PeriodLifecycle(fx, PERIOD);
      const late = new PeriodLifecycle(fx, PERIOD + 1);
      await early.toDefaulted(); // A alone revealed (1000, 400) for January...
      await late.toDefaulted(); // ...and for February
      await time.increase(WINDOWS.dispute + 1); // February is Uncontested, January long past its deadline
      const [jan, feb] = [PERIOD, PERIOD + 1].map((period) => ({ agreementId: fx.agreementId, period }));
      const febDeadline = (await fx.ledger.deadlines(fx.agreementId, PERIOD + 1)).approvalDeadline;
      const janDeadline = (await fx.ledger.deadlines(fx.agreementId, PERIOD)).approvalDeadline;
      expect(janDeadline).to.be.lessThan(febDeadline);
      expect(BigInt(await time.latest())).to.be.greaterThan(janDeadline);
      await expect(fx.ledger.settleBatch(fx.tokenAddress, [jan!, feb!]))
        .to.emit(fx.ledger, "SettlementSkipped")
        .withArgs(fx.agreementId, PERIOD + 1, stateIndex("Uncontested"))
        .and.to.emit(fx.ledger, "Settled")
        .withArgs(fx.agreementId, PERIOD, fx.tokenAddress, false, 1_000n * UNIT, 400n * UNIT, 600n * UNIT);
      expect(await early.state()).to.equal(stateIndex("Settled"));
      expect(await late.state()).to.equal(stateIndex("Uncontested"));
    });

    it("Matched and Reconciled periods still need both approvals, however long one waits", async function () {
      const fx = await funded();
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMatched();
      await lc.approve("A");
      expect((await fx.ledger.deadlines(fx.agreementId, PERIOD)).approvalDeadline).to.equal(0n);
      await time.increase(365 * 86_400);
      await expect(lc.settle())
        .to.be.revertedWithCustomError(fx.ledger, "LedgerUnexpectedState")
        .withArgs(fx.agreementId, PERIOD, stateIndex("Matched"), stateBitmap(...SETTLE_STATES));
    });
  });

  describe("L-2: a correction round keeps the Mismatched record", function () {
    it("a correction round nobody reveals falls back to Mismatched at the earlier claims, and can be disputed", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMismatched(); // A claims (1000, 400), B claims (800, 500)
      const before = await fx.ledger.periodRecord(fx.agreementId, PERIOD);
      // A, who owes more by these figures, starts a correction round and walks away, as the attack had it.
      await lc.commit("A", figures(1n, 1n, ethers.id("never revealed")));
      expect((await fx.ledger.periodRecord(fx.agreementId, PERIOD)).round).to.equal(1n);
      const { revealDeadline } = await fx.ledger.deadlines(fx.agreementId, PERIOD);
      await time.increaseTo(revealDeadline + 1n);
      expect(await lc.state()).to.equal(stateIndex("Mismatched")); // v1: Void, nothing left to settle
      const after = await fx.ledger.periodRecord(fx.agreementId, PERIOD);
      expect([after.amountABofA, after.amountBAofA, after.amountABofB, after.amountBAofB]).to.deep.equal([
        before.amountABofA,
        before.amountBAofA,
        before.amountABofB,
        before.amountBAofB,
      ]);
      await lc.openDispute("B");
      expect(await lc.state()).to.equal(stateIndex("Disputed"));
      await fx.ledger.connect(fx.B.officers[0]!).withdrawDispute(fx.agreementId, PERIOD, CARRIER_B);
      expect(await fx.ledger.approvalFigures(fx.agreementId, PERIOD, false)).to.deep.include.members([
        1_000n * UNIT,
        400n * UNIT,
      ]);
    });

    it("a correction round revealed by one side only is Defaulted at its new figures, as before", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMismatched();
      await lc.commit("A", figures(900n * UNIT, 450n * UNIT, ethers.id("corrected")));
      const { commitDeadline, revealDeadline } = await fx.ledger.deadlines(fx.agreementId, PERIOD);
      await time.increaseTo(commitDeadline + 1n);
      await lc.reveal("A");
      await time.increaseTo(revealDeadline + 1n);
      expect(await lc.state()).to.equal(stateIndex("Defaulted"));
    });
  });

  describe("I-2: the commitment binds the chain, the ledger and the round", function () {
    it("the same opening commits differently per round and per ledger", async function () {
      const fx = await loadFixture(ledgerFixture);
      const o = [ethers.id("root"), 1n, 2n, ethers.id("salt")] as const;
      const at = (ledger: typeof fx.ledger, round: number) =>
        ledger.computeCommitment(fx.agreementId, PERIOD, round, CARRIER_A, ...o);
      const round0 = await at(fx.ledger, 0);
      expect(await at(fx.ledger, 1)).to.not.equal(round0);
      const { ledger: other } = await deploySettlementLedger(
        fx.admin,
        await fx.registry.getAddress(),
        await fx.book.getAddress(),
      );
      expect(await at(other, 0)).to.not.equal(round0);
    });

    it("a round-0 commitment re-sent in a correction round cannot be opened there", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMismatched();
      const first = lc.committed.A!; // opened in round 0: its commitment and opening are public
      const reused = lc.commitment("A", first, 0);
      await fx.ledger.connect(fx.A.node).commit(fx.agreementId, PERIOD, reused); // starts round 1
      await lc.commit("B", figures(1_000n * UNIT, 400n * UNIT, ethers.id("root-a")));
      await expect(
        fx.ledger
          .connect(fx.A.node)
          .reveal(fx.agreementId, PERIOD, first.root, first.amountAB, first.amountBA, first.salt),
      )
        .to.be.revertedWithCustomError(fx.ledger, "LedgerCommitmentMismatch")
        .withArgs(fx.agreementId, PERIOD, reused, lc.commitment("A", first, 1));
    });
  });

  describe("L-3: approveAndSettle survives one side's signatures landing first", function () {
    it("settles when A's approval was front-run onto the chain with approveWithSignatures", async function () {
      const fx = await funded();
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMatched();
      const data = await lc.approvalData("A");
      const sigsA = await lc.sign(data, fx.A.officers.slice(0, 2));
      const sigsB = await lc.sign({ ...data, carrierId: CARRIER_B }, fx.B.officers.slice(0, 2));
      await fx.ledger.connect(fx.outsider).approveWithSignatures(data, sigsA); // the front-run
      await expect(fx.ledger.connect(fx.outsider).approveAndSettle(data, sigsA, sigsB)).to.emit(
        fx.ledger,
        "Settled",
      );
      expect(await lc.state()).to.equal(stateIndex("Settled"));
    });
  });
});
