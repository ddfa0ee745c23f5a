import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { cachedFixture } from "../helpers/snapshot";
import { SETTLE_STATES, stateBitmap, stateIndex, type PeriodStateName } from "../../../node/src/protocol";
import type { PeriodLifecycle } from "../helpers/lifecycle";

export interface SettleableCase {
  lc: PeriodLifecycle;
  state: PeriodStateName;
  amountAB: bigint;
  amountBA: bigint;
}

/**
 * Shared behaviour of every final state (Matched, Reconciled, Uncontested, Resolved): officers approve the
 * exact figures, the period becomes Approved, settles once, and moves exactly the net between escrows.
 * A `binding` one (Uncontested, Resolved) also settles without approvals after its approval deadline (M-4).
 * `reach` must start from `loadFixture(...)`.
 */
export function shouldBehaveLikeSettleablePeriod(
  reach: () => Promise<SettleableCase>,
  binding: boolean,
): void {
  const reached = cachedFixture(reach);

  it("holds the expected final figures", async function () {
    const { lc, state, amountAB, amountBA } = await reached();
    expect(await lc.state()).to.equal(stateIndex(state));
    const [ab, ba] = await lc.fx.ledger.approvalFigures(lc.agreementId, lc.period, false);
    expect([ab, ba]).to.deep.equal([amountAB, amountBA]);
  });

  it("does not settle before both carriers approved (a binding outcome: before its approval deadline)", async function () {
    const { lc, state } = await reached();
    await lc.approve("A");
    // Read the deadline first: an assertion attached to a settle already under way would race it.
    const { approvalDeadline } = await lc.fx.ledger.deadlines(lc.agreementId, lc.period);
    if (binding) {
      await expect(lc.settle())
        .to.be.revertedWithCustomError(lc.fx.ledger, "LedgerTooEarly")
        .withArgs(lc.agreementId, lc.period, approvalDeadline + 1n);
    } else {
      expect(approvalDeadline).to.equal(0n);
      await expect(lc.settle())
        .to.be.revertedWithCustomError(lc.fx.ledger, "LedgerUnexpectedState")
        .withArgs(lc.agreementId, lc.period, stateIndex(state), stateBitmap(...SETTLE_STATES));
    }
  });

  it("settles the net exactly once after both approvals", async function () {
    const { lc, amountAB, amountBA } = await reached();
    const { ledger, tokenAddress } = lc.fx;
    const [a, b] = [lc.party("A").id, lc.party("B").id];
    const beforeA = await ledger.escrowOf(a, tokenAddress);
    const beforeB = await ledger.escrowOf(b, tokenAddress);
    await lc.approveBoth();
    expect(await lc.state()).to.equal(stateIndex("Approved"));
    await expect(lc.settle()).to.emit(ledger, "Settled");
    const net = amountAB - amountBA;
    expect(await ledger.escrowOf(a, tokenAddress)).to.equal(beforeA - net);
    expect(await ledger.escrowOf(b, tokenAddress)).to.equal(beforeB + net);
    await expect(lc.settle())
      .to.be.revertedWithCustomError(ledger, "LedgerUnexpectedState")
      .withArgs(lc.agreementId, lc.period, stateIndex("Settled"), stateBitmap(...SETTLE_STATES));
  });
}

/** A binding outcome settles without any approval once its approval deadline has passed (M-4). */
export function shouldBindWithoutApprovals(reach: () => Promise<SettleableCase>): void {
  const reached = cachedFixture(reach);

  it("settles without approvals once the approval deadline has passed in silence", async function () {
    const { lc, amountAB, amountBA } = await reached();
    const { ledger, tokenAddress } = lc.fx;
    const { approvalDeadline } = await ledger.deadlines(lc.agreementId, lc.period);
    expect(approvalDeadline).to.be.greaterThan(0n);
    const [a, b] = [lc.party("A").id, lc.party("B").id];
    const beforeA = await ledger.escrowOf(a, tokenAddress);
    const beforeB = await ledger.escrowOf(b, tokenAddress);
    await time.setNextBlockTimestamp(approvalDeadline);
    await expect(lc.settle()).to.be.revertedWithCustomError(ledger, "LedgerTooEarly");
    const net = amountAB - amountBA;
    await expect(lc.settle())
      .to.emit(ledger, "Settled")
      .withArgs(lc.agreementId, lc.period, tokenAddress, false, amountAB, amountBA, net);
    expect(await lc.state()).to.equal(stateIndex("Settled"));
    expect(await ledger.escrowOf(a, tokenAddress)).to.equal(beforeA - net);
    expect(await ledger.escrowOf(b, tokenAddress)).to.equal(beforeB + net);
  });
}
