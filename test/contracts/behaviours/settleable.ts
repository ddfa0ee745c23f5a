import { expect } from "chai";
import { cachedFixture } from "../helpers/snapshot";
import { stateBitmap, stateIndex, type PeriodStateName } from "../../../scripts/lib/protocol";
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
 * `reach` must start from `loadFixture(...)`.
 */
export function shouldBehaveLikeSettleablePeriod(reach: () => Promise<SettleableCase>): void {
  const reached = cachedFixture(reach);

  it("holds the expected final figures", async function () {
    const { lc, state, amountAB, amountBA } = await reached();
    expect(await lc.state()).to.equal(stateIndex(state));
    const [ab, ba] = await lc.fx.ledger.approvalFigures(lc.agreementId, lc.period, false);
    expect([ab, ba]).to.deep.equal([amountAB, amountBA]);
  });

  it("does not settle before both carriers approved", async function () {
    const { lc, state } = await reached();
    await lc.approve("A");
    await expect(lc.settle())
      .to.be.revertedWithCustomError(lc.fx.ledger, "LedgerUnexpectedState")
      .withArgs(lc.agreementId, lc.period, stateIndex(state), stateBitmap("Approved"));
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
      .withArgs(lc.agreementId, lc.period, stateIndex("Settled"), stateBitmap("Approved"));
  });
}
