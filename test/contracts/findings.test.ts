/**
 * The security review's findings, each replayed as the attack it described, against the ledger: the
 * attack must now fail to gain anything. Here: H-1 (accept by figures), M-1 (a cap on proposals) and L-3
 * (approveAndSettle after one side's signatures). M-5 (nodes by M-of-N officers) is in registry.test.ts, L-1 (proposals expire
 * and can be cancelled) in book.test.ts.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { CARRIER_A, CARRIER_B, DEPOSIT, PERIOD, UNIT, WINDOWS, ledgerFixture } from "./helpers/fixture";
import { PeriodLifecycle } from "./helpers/lifecycle";
import { stateIndex } from "../../node/src/protocol";

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
