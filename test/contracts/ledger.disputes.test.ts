import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { CARRIER_A, CARRIER_B, DEPOSIT, PERIOD, UNIT, WINDOWS, ledgerFixture } from "./helpers/fixture";
import { PeriodLifecycle, figures } from "./helpers/lifecycle";
import { bareClaim, stateBitmap, stateIndex } from "../../scripts/lib/protocol";

// toMismatched(): A claims (1000, 400), B claims (800, 500).
const A_AB = 1_000n * UNIT;
const A_BA = 400n * UNIT;
const B_AB = 800n * UNIT;
const B_BA = 500n * UNIT;

describe("SettlementLedger — disputes", function () {
  async function disputed() {
    const fx = await loadFixture(ledgerFixture);
    const lc = new PeriodLifecycle(fx, PERIOD);
    await lc.toMismatched();
    await expect(lc.openDispute("A"))
      .to.emit(fx.ledger, "DisputeOpened")
      .withArgs(fx.agreementId, PERIOD, CARRIER_A, 7, "ipfs://evidence");
    return { fx, lc, ledger: fx.ledger, id: fx.agreementId };
  }

  async function escalated() {
    const ctx = await disputed();
    await time.increase(WINDOWS.response + 1);
    await ctx.ledger.connect(ctx.fx.B.officers[0]!).escalate(ctx.id, PERIOD, CARRIER_B);
    return ctx;
  }

  it("opens only on a Mismatched period, once", async function () {
    const { lc, ledger, id } = await disputed();
    expect(await lc.state()).to.equal(stateIndex("Disputed"));
    await expect(lc.openDispute("B"))
      .to.be.revertedWithCustomError(ledger, "LedgerUnexpectedState")
      .withArgs(id, PERIOD, stateIndex("Disputed"), stateBitmap("Mismatched"));
  });

  it("resolves when the other side accepts a counter-proposal", async function () {
    const { fx, lc, ledger, id } = await disputed();
    const [a, b] = [fx.A.officers[0]!, fx.B.officers[0]!];
    await expect(
      ledger.connect(a).proposeFigures(id, PERIOD, CARRIER_A, 950n * UNIT, 450n * UNIT, "ipfs://a1"),
    )
      .to.emit(ledger, "FiguresProposed")
      .withArgs(id, PERIOD, CARRIER_A, 950n * UNIT, 450n * UNIT, "ipfs://a1");
    await expect(ledger.connect(a).acceptFigures(id, PERIOD, CARRIER_A, 950n * UNIT, 450n * UNIT))
      .to.be.revertedWithCustomError(ledger, "LedgerWrongParty")
      .withArgs(id, PERIOD, CARRIER_A);
    await ledger.connect(b).proposeFigures(id, PERIOD, CARRIER_B, 900n * UNIT, 450n * UNIT, "ipfs://b1");
    await ledger.connect(a).acceptFigures(id, PERIOD, CARRIER_A, 900n * UNIT, 450n * UNIT);
    expect(await lc.state()).to.equal(stateIndex("Resolved"));
    const d = await ledger.disputeRecord(id, PERIOD);
    expect([d.resolution, d.resolvedAB, d.resolvedBA]).to.deep.equal([1n, 900n * UNIT, 450n * UNIT]);
    await lc.approveBoth();
    await expect(lc.settle())
      .to.emit(ledger, "Settled")
      .withArgs(id, PERIOD, fx.tokenAddress, false, 900n * UNIT, 450n * UNIT, 450n * UNIT);
  });

  it("refuses acceptance without a proposal", async function () {
    const { fx, ledger, id } = await disputed();
    await expect(ledger.connect(fx.B.officers[0]!).acceptFigures(id, PERIOD, CARRIER_B, 0n, 0n))
      .to.be.revertedWithCustomError(ledger, "LedgerNoProposal")
      .withArgs(id, PERIOD);
  });

  it("lets the arbiter rule between the claims, per direction", async function () {
    const { fx, lc, ledger, id } = await escalated();
    expect(await lc.state()).to.equal(stateIndex("Escalated"));
    const arb = ledger.connect(fx.arbiter);
    for (const [ab, ba, bad, low, high] of [
      [B_AB - 1n, A_BA, B_AB - 1n, B_AB, A_AB],
      [A_AB + 1n, A_BA, A_AB + 1n, B_AB, A_AB],
      [A_AB, A_BA - 1n, A_BA - 1n, A_BA, B_BA],
      [A_AB, B_BA + 1n, B_BA + 1n, A_BA, B_BA],
    ] as const) {
      await expect(arb.rule(id, PERIOD, ab, ba, "ipfs://r"))
        .to.be.revertedWithCustomError(ledger, "LedgerRulingOutOfRange")
        .withArgs(id, PERIOD, bad, low, high);
    }
    await expect(arb.rule(id, PERIOD, B_AB, B_BA, "ipfs://r"))
      .to.emit(ledger, "DisputeRuled")
      .withArgs(id, PERIOD, fx.arbiter.address, B_AB, B_BA, "ipfs://r");
    expect(await lc.state()).to.equal(stateIndex("Resolved"));
    const [ab, ba] = await ledger.approvalFigures(id, PERIOD, false);
    expect([ab, ba]).to.deep.equal([B_AB, B_BA]);
  });

  it("refuses rulings from anyone but the named arbiter holding the role", async function () {
    const { fx, ledger, id } = await escalated();
    await expect(ledger.connect(fx.regulator).rule(id, PERIOD, B_AB, B_BA, ""))
      .to.be.revertedWithCustomError(ledger, "LedgerNotArbiter")
      .withArgs(id, fx.regulator.address);
    await fx.registry.revokeRole(await fx.registry.ARBITER_ROLE(), fx.arbiter.address);
    await expect(ledger.connect(fx.arbiter).rule(id, PERIOD, B_AB, B_BA, ""))
      .to.be.revertedWithCustomError(ledger, "LedgerNotArbiter")
      .withArgs(id, fx.arbiter.address);
  });

  it("freezes negotiation once escalated", async function () {
    const { fx, ledger, id } = await escalated();
    await expect(ledger.connect(fx.A.officers[0]!).proposeFigures(id, PERIOD, CARRIER_A, 1n, 1n, ""))
      .to.be.revertedWithCustomError(ledger, "LedgerUnexpectedState")
      .withArgs(id, PERIOD, stateIndex("Escalated"), stateBitmap("Disputed"));
    await expect(ledger.connect(fx.A.officers[0]!).withdrawDispute(id, PERIOD, CARRIER_A))
      .to.be.revertedWithCustomError(ledger, "LedgerUnexpectedState")
      .withArgs(id, PERIOD, stateIndex("Escalated"), stateBitmap("Disputed"));
  });

  it("resolves a withdrawn dispute at the other party's figures", async function () {
    const { fx, lc, ledger, id } = await disputed();
    await expect(ledger.connect(fx.B.officers[0]!).withdrawDispute(id, PERIOD, CARRIER_B))
      .to.be.revertedWithCustomError(ledger, "LedgerWrongParty")
      .withArgs(id, PERIOD, CARRIER_B);
    await expect(ledger.connect(fx.A.officers[1]!).withdrawDispute(id, PERIOD, CARRIER_A))
      .to.emit(ledger, "DisputeWithdrawn")
      .withArgs(id, PERIOD, CARRIER_A, B_AB, B_BA);
    expect(await lc.state()).to.equal(stateIndex("Resolved"));
  });

  it("concedes the present party's figures when a contested default is withdrawn", async function () {
    const fx = await loadFixture(ledgerFixture);
    const lc = new PeriodLifecycle(fx, PERIOD);
    await lc.toDefaulted();
    await expect(
      fx.ledger
        .connect(fx.A.officers[0]!)
        .contestDefault(fx.agreementId, PERIOD, CARRIER_A, bareClaim(1n, 1n), 1, ""),
    )
      .to.be.revertedWithCustomError(fx.ledger, "LedgerWrongParty")
      .withArgs(fx.agreementId, PERIOD, CARRIER_A);
    await fx.ledger
      .connect(fx.B.officers[0]!)
      .contestDefault(fx.agreementId, PERIOD, CARRIER_B, bareClaim(1n, 1n), 1, "");
    await expect(fx.ledger.connect(fx.B.officers[0]!).withdrawDispute(fx.agreementId, PERIOD, CARRIER_B))
      .to.emit(fx.ledger, "DisputeWithdrawn")
      .withArgs(fx.agreementId, PERIOD, CARRIER_B, A_AB, A_BA);
  });

  it("lets party A contest a default of its own (B present)", async function () {
    const fx = await loadFixture(ledgerFixture);
    const lc = new PeriodLifecycle(fx, PERIOD);
    await lc.toCommitWindow();
    await lc.commit("B", figures(B_AB, B_BA, ethers.id("rb")));
    await time.increaseTo(lc.end + WINDOWS.commit + 1);
    await lc.reveal("B");
    await time.increaseTo(lc.end + WINDOWS.commit + WINDOWS.reveal + 1);
    await expect(
      fx.ledger
        .connect(fx.B.officers[0]!)
        .contestDefault(fx.agreementId, PERIOD, CARRIER_B, bareClaim(1n, 1n), 1, ""),
    )
      .to.be.revertedWithCustomError(fx.ledger, "LedgerWrongParty")
      .withArgs(fx.agreementId, PERIOD, CARRIER_B);
    await fx.ledger
      .connect(fx.A.officers[0]!)
      .contestDefault(fx.agreementId, PERIOD, CARRIER_A, bareClaim(A_AB, A_BA), 2, "x");
    const [pab, pba, rootA, rootB] = await fx.ledger.approvalFigures(fx.agreementId, PERIOD, true);
    expect([pab, pba, rootA, rootB]).to.deep.equal([B_AB, A_BA, ethers.ZeroHash, ethers.id("rb")]);
    await time.increase(WINDOWS.response + 1);
    await fx.ledger.connect(fx.A.officers[0]!).escalate(fx.agreementId, PERIOD, CARRIER_A);
    await time.increase(WINDOWS.arbitration + 1);
    expect(await lc.state()).to.equal(stateIndex("Resolved"));
    const [ab, ba] = await fx.ledger.approvalFigures(fx.agreementId, PERIOD, false);
    expect([ab, ba]).to.deep.equal([(A_AB + B_AB) / 2n, (A_BA + B_BA) / 2n]);
  });

  describe("partial settlement", function () {
    it("settles the undisputed part at once and only the remainder later", async function () {
      const { fx, lc, ledger, id } = await disputed();
      const [pab, pba] = await ledger.approvalFigures(id, PERIOD, true);
      expect([pab, pba]).to.deep.equal([B_AB, A_BA]);
      await expect(ledger.settlePartial(id, PERIOD))
        .to.be.revertedWithCustomError(ledger, "LedgerPartialNotReady")
        .withArgs(id, PERIOD);
      await lc.approve("A", true);
      await expect(lc.approve("A", true))
        .to.be.revertedWithCustomError(ledger, "LedgerAlreadyApproved")
        .withArgs(id, PERIOD, CARRIER_A, true);
      await expect(ledger.settlePartial(id, PERIOD))
        .to.be.revertedWithCustomError(ledger, "LedgerPartialNotReady")
        .withArgs(id, PERIOD);
      await lc.approve("B", true);
      const partialNet = B_AB - A_BA; // 400
      await expect(ledger.settlePartial(id, PERIOD))
        .to.emit(ledger, "Settled")
        .withArgs(id, PERIOD, fx.tokenAddress, true, B_AB, A_BA, partialNet)
        .and.to.emit(ledger, "EscrowMoved")
        .withArgs(CARRIER_A, fx.tokenAddress, -partialNet);
      await expect(ledger.settlePartial(id, PERIOD))
        .to.be.revertedWithCustomError(ledger, "LedgerPartialNotReady")
        .withArgs(id, PERIOD);
      expect(await lc.state()).to.equal(stateIndex("Disputed"));

      await time.increase(WINDOWS.response + 1);
      await ledger.connect(fx.A.officers[0]!).escalate(id, PERIOD, CARRIER_A);
      await ledger.connect(fx.arbiter).rule(id, PERIOD, 900n * UNIT, 450n * UNIT, "ipfs://r");
      await lc.approveBoth();
      const remainder = 900n * UNIT - 450n * UNIT - partialNet; // 50
      await expect(lc.settle())
        .to.emit(ledger, "Settled")
        .withArgs(id, PERIOD, fx.tokenAddress, false, 900n * UNIT, 450n * UNIT, remainder);
      expect(await ledger.escrowOf(CARRIER_A, fx.tokenAddress)).to.equal(DEPOSIT - 450n * UNIT);
      expect(await ledger.escrowOf(CARRIER_B, fx.tokenAddress)).to.equal(DEPOSIT + 450n * UNIT);
    });

    it("is not available outside a dispute", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMatched();
      await expect(fx.ledger.settlePartial(fx.agreementId, PERIOD))
        .to.be.revertedWithCustomError(fx.ledger, "LedgerUnexpectedState")
        .withArgs(fx.agreementId, PERIOD, stateIndex("Matched"), stateBitmap("Disputed", "Escalated"));
      await expect(fx.ledger.approvalFigures(fx.agreementId, PERIOD, true))
        .to.be.revertedWithCustomError(fx.ledger, "LedgerUnexpectedState")
        .withArgs(fx.agreementId, PERIOD, stateIndex("Matched"), stateBitmap("Disputed", "Escalated"));
    });
  });
});
