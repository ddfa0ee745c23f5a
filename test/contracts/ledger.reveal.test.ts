import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { CARRIER_A, CARRIER_B, PERIOD, ledgerFixture } from "./helpers/fixture";
import { PeriodLifecycle, figures } from "./helpers/lifecycle";

describe("SettlementLedger — commit and reveal refusals", function () {
  async function committing() {
    const fx = await loadFixture(ledgerFixture);
    const lc = new PeriodLifecycle(fx, PERIOD);
    await lc.toCommitWindow();
    return { fx, lc, ledger: fx.ledger, id: fx.agreementId };
  }

  it("refuses a zero commitment and a zero root", async function () {
    const { fx, lc, ledger, id } = await committing();
    await expect(ledger.connect(fx.A.node).commit(id, PERIOD, ethers.ZeroHash))
      .to.be.revertedWithCustomError(ledger, "LedgerZeroHash")
      .withArgs();
    await lc.commit("A", figures(1n, 1n));
    await lc.commit("B", figures(1n, 1n));
    await expect(ledger.connect(fx.A.node).reveal(id, PERIOD, ethers.ZeroHash, 1n, 1n, ethers.ZeroHash))
      .to.be.revertedWithCustomError(ledger, "LedgerZeroHash")
      .withArgs();
  });

  it("refuses a second commitment in the same round", async function () {
    const { lc, ledger, id } = await committing();
    await lc.commit("B", figures(1n, 1n));
    await expect(lc.commit("B", figures(2n, 2n)))
      .to.be.revertedWithCustomError(ledger, "LedgerAlreadyCommitted")
      .withArgs(id, PERIOD, CARRIER_B);
  });

  it("refuses a reveal without commitment, a wrong opening, and a second reveal", async function () {
    const { fx, lc, ledger, id } = await committing();
    await lc.commit("A", figures(1n, 1n));
    await time.increaseTo(lc.end + 3 * 86_400 + 1);
    await expect(ledger.connect(fx.B.node).reveal(id, PERIOD, ethers.id("r"), 1n, 1n, ethers.id("s")))
      .to.be.revertedWithCustomError(ledger, "LedgerNotCommitted")
      .withArgs(id, PERIOD, CARRIER_B);
    const f = lc.committed.A!;
    const wrong = lc.commitment("A", { ...f, amountAB: f.amountAB + 1n });
    await expect(ledger.connect(fx.A.node).reveal(id, PERIOD, f.root, f.amountAB + 1n, f.amountBA, f.salt))
      .to.be.revertedWithCustomError(ledger, "LedgerCommitmentMismatch")
      .withArgs(id, PERIOD, lc.commitment("A", f), wrong);
    await lc.reveal("A");
    await expect(lc.reveal("A"))
      .to.be.revertedWithCustomError(ledger, "LedgerAlreadyRevealed")
      .withArgs(id, PERIOD, CARRIER_A);
  });

  it("binds the commitment to the carrier: B cannot reveal A's opening", async function () {
    const { fx, lc, ledger, id } = await committing();
    const f = figures(5n, 5n);
    await lc.commit("A", f);
    await fx.ledger.connect(fx.B.node).commit(id, PERIOD, lc.commitment("A", f));
    await expect(ledger.connect(fx.B.node).reveal(id, PERIOD, f.root, f.amountAB, f.amountBA, f.salt))
      .to.be.revertedWithCustomError(ledger, "LedgerCommitmentMismatch")
      .withArgs(id, PERIOD, lc.commitment("A", f), lc.commitment("B", f));
  });

  it("reports the demo token's 6 decimals", async function () {
    const { fx } = await committing();
    expect(await fx.token.decimals()).to.equal(6);
  });
});
