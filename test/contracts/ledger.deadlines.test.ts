import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { CARRIER_A, CARRIER_B, PERIOD, UNIT, WINDOWS, ledgerFixture } from "./helpers/fixture";
import { PeriodLifecycle, figures } from "./helpers/lifecycle";
import { bareClaim, stateBitmap, stateIndex } from "../../scripts/lib/protocol";

const at = (t: number | bigint): Promise<void> => time.setNextBlockTimestamp(t);

describe("SettlementLedger — deadlines", function () {
  async function started() {
    const fx = await loadFixture(ledgerFixture);
    return { fx, lc: new PeriodLifecycle(fx, PERIOD) };
  }

  describe("commit window", function () {
    it("opens at the first second of the next month", async function () {
      const { fx, lc } = await started();
      await at(lc.end - 1);
      await expect(lc.commit("A", figures(1n, 1n)))
        .to.be.revertedWithCustomError(fx.ledger, "LedgerUnexpectedState")
        .withArgs(fx.agreementId, PERIOD, stateIndex("Pending"), stateBitmap("Committing", "Mismatched"));
      await at(lc.end);
      await expect(lc.commit("A", figures(1n, 1n))).to.emit(fx.ledger, "Committed");
    });

    it("closes after commitWindow seconds", async function () {
      const { fx, lc } = await started();
      await lc.toCommitWindow();
      await lc.commit("A", figures(1n, 1n));
      const snapshot = await ethers.provider.send("evm_snapshot", []);
      await at(lc.end + WINDOWS.commit);
      await expect(lc.commit("B", figures(1n, 1n))).to.emit(fx.ledger, "Committed");
      await ethers.provider.send("evm_revert", [snapshot]);
      await at(lc.end + WINDOWS.commit + 1);
      await expect(lc.commit("B", figures(1n, 1n)))
        .to.be.revertedWithCustomError(fx.ledger, "LedgerUnexpectedState")
        .withArgs(fx.agreementId, PERIOD, stateIndex("Revealing"), stateBitmap("Committing", "Mismatched"));
    });

    it("voids a period nobody committed to", async function () {
      const { lc } = await started();
      await time.increaseTo(lc.end + WINDOWS.commit);
      expect(await lc.state()).to.equal(stateIndex("Committing"));
      await time.increase(1);
      expect(await lc.state()).to.equal(stateIndex("Void"));
    });
  });

  describe("reveal window", function () {
    it("opens early once both committed, otherwise when the commit window closes", async function () {
      const { fx, lc } = await started();
      await lc.toCommitWindow();
      await lc.commit("A", figures(1n, 1n));
      await expect(lc.reveal("A"))
        .to.be.revertedWithCustomError(fx.ledger, "LedgerUnexpectedState")
        .withArgs(fx.agreementId, PERIOD, stateIndex("Committing"), stateBitmap("Revealing"));
      await at(lc.end + WINDOWS.commit + 1);
      await expect(lc.reveal("A")).to.emit(fx.ledger, "Revealed");
    });

    it("closes revealWindow seconds after the commit deadline", async function () {
      const { fx, lc } = await started();
      await lc.toCommitWindow();
      await lc.commit("A", figures(1n, 1n));
      await lc.commit("B", figures(1n, 1n));
      await lc.reveal("A");
      const revealDeadline = lc.end + WINDOWS.commit + WINDOWS.reveal;
      const snapshot = await ethers.provider.send("evm_snapshot", []);
      await at(revealDeadline);
      await expect(lc.reveal("B")).to.emit(fx.ledger, "Evaluated");
      await ethers.provider.send("evm_revert", [snapshot]);
      await at(revealDeadline + 1);
      await expect(lc.reveal("B"))
        .to.be.revertedWithCustomError(fx.ledger, "LedgerUnexpectedState")
        .withArgs(fx.agreementId, PERIOD, stateIndex("Defaulted"), stateBitmap("Revealing"));
    });

    it("voids a period where nobody revealed", async function () {
      const { lc } = await started();
      await lc.toCommitWindow();
      await lc.commit("A", figures(1n, 1n));
      await time.increaseTo(lc.end + WINDOWS.commit + WINDOWS.reveal);
      expect(await lc.state()).to.equal(stateIndex("Revealing"));
      await time.increase(1);
      expect(await lc.state()).to.equal(stateIndex("Void"));
    });
  });

  describe("default and dispute window", function () {
    it("turns a default into Uncontested after disputeWindow, settling the present party's figures", async function () {
      const { fx, lc } = await started();
      await lc.toDefaulted();
      const disputeDeadline = lc.end + WINDOWS.commit + WINDOWS.reveal + WINDOWS.dispute;
      await time.increaseTo(disputeDeadline);
      expect(await lc.state()).to.equal(stateIndex("Defaulted"));
      await time.increase(1);
      expect(await lc.state()).to.equal(stateIndex("Uncontested"));
      const [ab, ba, rootA, rootB] = await fx.ledger.approvalFigures(fx.agreementId, PERIOD, false);
      expect([ab, ba, rootA, rootB]).to.deep.equal([
        1_000n * UNIT,
        400n * UNIT,
        ethers.id("root-a"),
        ethers.ZeroHash,
      ]);
      await lc.approveBoth();
      await expect(lc.settle())
        .to.emit(fx.ledger, "EscrowMoved")
        .withArgs(CARRIER_B, fx.tokenAddress, 600n * UNIT);
    });

    it("lets the silent party contest until the last second of the dispute window", async function () {
      const { fx, lc } = await started();
      await lc.toDefaulted();
      const disputeDeadline = lc.end + WINDOWS.commit + WINDOWS.reveal + WINDOWS.dispute;
      const contest = () =>
        fx.ledger
          .connect(fx.B.officers[0]!)
          .contestDefault(
            fx.agreementId,
            PERIOD,
            CARRIER_B,
            bareClaim(900n * UNIT, 400n * UNIT),
            3,
            "ipfs://b",
          );
      const snapshot = await ethers.provider.send("evm_snapshot", []);
      await at(disputeDeadline);
      await expect(contest())
        .to.emit(fx.ledger, "DefaultContested")
        .withArgs(
          fx.agreementId,
          PERIOD,
          CARRIER_B,
          ethers.ZeroHash,
          900n * UNIT,
          400n * UNIT,
          3,
          "ipfs://b",
        );
      expect(await lc.state()).to.equal(stateIndex("Disputed"));
      await ethers.provider.send("evm_revert", [snapshot]);
      await at(disputeDeadline + 1);
      await expect(contest())
        .to.be.revertedWithCustomError(fx.ledger, "LedgerUnexpectedState")
        .withArgs(fx.agreementId, PERIOD, stateIndex("Uncontested"), stateBitmap("Defaulted"));
    });
  });

  describe("reconcile window (correction rounds)", function () {
    it("accepts a correction until reconcileWindow after the evaluation", async function () {
      const { fx, lc } = await started();
      await lc.toMismatched();
      const evaluatedAt = await time.latest();
      const snapshot = await ethers.provider.send("evm_snapshot", []);
      await at(evaluatedAt + WINDOWS.reconcile);
      const f = figures(1n, 1n);
      await expect(lc.commit("A", f))
        .to.emit(fx.ledger, "Committed")
        .withArgs(fx.agreementId, PERIOD, CARRIER_A, 1, lc.commitment("A", f, 1));
      await ethers.provider.send("evm_revert", [snapshot]);
      await at(evaluatedAt + WINDOWS.reconcile + 1);
      await expect(lc.commit("A", figures(1n, 1n)))
        .to.be.revertedWithCustomError(fx.ledger, "LedgerDeadlinePassed")
        .withArgs(fx.agreementId, PERIOD, evaluatedAt + WINDOWS.reconcile);
    });

    it("re-evaluates a correction round and caps the rounds at MAX_ROUNDS", async function () {
      const { fx, lc } = await started();
      await lc.toMismatched();
      // round 1: still mismatched
      await lc.commit("A", figures(1_000n * UNIT, 400n * UNIT, ethers.id("a1")));
      expect(await lc.state()).to.equal(stateIndex("Committing"));
      expect((await lc.deadlines()).roundStart).to.equal(await time.latest());
      await lc.commit("B", figures(500n * UNIT, 400n * UNIT, ethers.id("b1")));
      await lc.reveal("A");
      await lc.reveal("B");
      expect(await lc.state()).to.equal(stateIndex("Mismatched"));
      // round 2: matched
      const f = figures(900n * UNIT, 400n * UNIT);
      await lc.commit("B", f);
      await lc.commit("A", { ...f, salt: ethers.id("other salt") });
      await lc.reveal("B");
      await expect(lc.reveal("A"))
        .to.emit(fx.ledger, "Evaluated")
        .withArgs(fx.agreementId, PERIOD, 2, 1, f.amountAB, f.amountBA);
      expect((await fx.ledger.periodRecord(fx.agreementId, PERIOD)).round).to.equal(2);
    });

    it("refuses a fourth round", async function () {
      const { fx, lc } = await started();
      await lc.toMismatched();
      for (let round = 1; round <= 2; round++) {
        await lc.commit("A", figures(1_000n * UNIT, 0n, ethers.id(`a${round}`)));
        await lc.commit("B", figures(1n, 0n, ethers.id(`b${round}`)));
        await lc.reveal("A");
        await lc.reveal("B");
      }
      expect(await lc.state()).to.equal(stateIndex("Mismatched"));
      await expect(lc.commit("A", figures(1n, 1n)))
        .to.be.revertedWithCustomError(fx.ledger, "LedgerRoundLimit")
        .withArgs(fx.agreementId, PERIOD, 3);
    });
  });

  describe("response window", function () {
    async function proposed() {
      const { fx, lc } = await started();
      await lc.toMismatched();
      await lc.openDispute("A");
      await fx.ledger
        .connect(fx.A.officers[0]!)
        .proposeFigures(fx.agreementId, PERIOD, CARRIER_A, 900n * UNIT, 450n * UNIT, "ipfs://p");
      return { fx, lc, proposedAt: await time.latest() };
    }

    it("accepts a proposal until the response window closes", async function () {
      const { fx, proposedAt } = await proposed();
      const accept = () =>
        fx.ledger
          .connect(fx.B.officers[1]!)
          .acceptFigures(fx.agreementId, PERIOD, CARRIER_B, 900n * UNIT, 450n * UNIT);
      const snapshot = await ethers.provider.send("evm_snapshot", []);
      await at(proposedAt + WINDOWS.response);
      await expect(accept())
        .to.emit(fx.ledger, "FiguresAccepted")
        .withArgs(fx.agreementId, PERIOD, CARRIER_B, 900n * UNIT, 450n * UNIT);
      await ethers.provider.send("evm_revert", [snapshot]);
      await at(proposedAt + WINDOWS.response + 1);
      await expect(accept())
        .to.be.revertedWithCustomError(fx.ledger, "LedgerDeadlinePassed")
        .withArgs(fx.agreementId, PERIOD, proposedAt + WINDOWS.response);
    });

    it("allows escalation only after the response window", async function () {
      const { fx, proposedAt } = await proposed();
      const escalate = () => fx.ledger.connect(fx.B.officers[0]!).escalate(fx.agreementId, PERIOD, CARRIER_B);
      await at(proposedAt + WINDOWS.response);
      await expect(escalate())
        .to.be.revertedWithCustomError(fx.ledger, "LedgerTooEarly")
        .withArgs(fx.agreementId, PERIOD, proposedAt + WINDOWS.response + 1);
      await at(proposedAt + WINDOWS.response + 1);
      await expect(escalate())
        .to.emit(fx.ledger, "DisputeEscalated")
        .withArgs(fx.agreementId, PERIOD, CARRIER_B, proposedAt + WINDOWS.response + 1 + WINDOWS.arbitration);
    });
  });

  describe("arbitration window", function () {
    it("accepts a ruling until the window closes, then falls back to the mean of the claims", async function () {
      const { fx, lc } = await started();
      await lc.toMismatched();
      await lc.openDispute("B");
      await time.increase(WINDOWS.response + 1);
      await fx.ledger.connect(fx.A.officers[2]!).escalate(fx.agreementId, PERIOD, CARRIER_A);
      const escalatedAt = await time.latest();
      const ruling = () =>
        fx.ledger.connect(fx.arbiter).rule(fx.agreementId, PERIOD, 850n * UNIT, 450n * UNIT, "ipfs://ruling");
      const snapshot = await ethers.provider.send("evm_snapshot", []);
      await at(escalatedAt + WINDOWS.arbitration);
      await expect(ruling())
        .to.emit(fx.ledger, "DisputeRuled")
        .withArgs(fx.agreementId, PERIOD, fx.arbiter.address, 850n * UNIT, 450n * UNIT, "ipfs://ruling");
      await ethers.provider.send("evm_revert", [snapshot]);
      await at(escalatedAt + WINDOWS.arbitration + 1);
      await expect(ruling())
        .to.be.revertedWithCustomError(fx.ledger, "LedgerUnexpectedState")
        .withArgs(fx.agreementId, PERIOD, stateIndex("Resolved"), stateBitmap("Escalated"));
      const [ab, ba] = await fx.ledger.approvalFigures(fx.agreementId, PERIOD, false);
      expect([ab, ba]).to.deep.equal([900n * UNIT, 450n * UNIT]);
    });
  });

  describe("approval deadline", function () {
    it("accepts signatures until their deadline", async function () {
      const { fx, lc } = await started();
      await lc.toMatched();
      const deadline = BigInt((await time.latest()) + 100);
      const data = await lc.approvalData("A", false, deadline);
      const sigs = await lc.sign(data, fx.A.officers.slice(0, 2));
      const snapshot = await ethers.provider.send("evm_snapshot", []);
      await at(deadline);
      await expect(fx.ledger.approveWithSignatures(data, sigs)).to.emit(fx.ledger, "CarrierApproved");
      await ethers.provider.send("evm_revert", [snapshot]);
      await at(deadline + 1n);
      await expect(fx.ledger.approveWithSignatures(data, sigs))
        .to.be.revertedWithCustomError(fx.ledger, "LedgerApprovalExpired")
        .withArgs(deadline);
    });
  });
});
