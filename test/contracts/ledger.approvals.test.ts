import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import {
  CARRIER_A,
  CARRIER_B,
  CARRIER_C,
  PERIOD,
  UNIT,
  ledgerFixture,
  type LedgerFixture,
} from "./helpers/fixture";
import { PeriodLifecycle } from "./helpers/lifecycle";
import {
  APPROVAL_TYPES,
  OFFICER_UPDATE_TYPES,
  ledgerDomain,
  registryDomain,
  SETTLE_STATES,
  stateBitmap,
  stateIndex,
  type OfficerUpdateData,
} from "../../scripts/lib/protocol";

const FINAL = stateBitmap("Matched", "Reconciled", "Uncontested", "Resolved");

async function removeOfficer(fx: LedgerFixture, who: string): Promise<void> {
  const update: OfficerUpdateData = {
    carrierId: CARRIER_A,
    add: [],
    remove: [who],
    threshold: 2,
    treasury: ethers.ZeroAddress,
    nonce: await fx.registry.officerNonce(CARRIER_A),
    deadline: BigInt((await time.latest()) + 600),
  };
  const domain = registryDomain(fx.chainId, await fx.registry.getAddress());
  const sigs = await Promise.all(
    fx.A.officers.slice(0, 2).map((o) => o.signTypedData(domain, OFFICER_UPDATE_TYPES, update)),
  );
  await fx.registry.updateOfficers(update, sigs);
}

describe("SettlementLedger — approvals", function () {
  async function matched() {
    const fx = await loadFixture(ledgerFixture);
    const lc = new PeriodLifecycle(fx, PERIOD);
    await lc.toMatched();
    return { fx, lc, ledger: fx.ledger, id: fx.agreementId };
  }

  it("counts direct approvals of distinct officers up to the threshold", async function () {
    const { fx, lc, ledger, id } = await matched();
    const data = await lc.approvalData("A");
    await expect(ledger.connect(fx.A.officers[2]!).approve(data))
      .to.emit(ledger, "OfficerApproved")
      .withArgs(id, PERIOD, CARRIER_A, fx.A.officers[2]!.address, false);
    expect(await ledger.approvalsOf(id, PERIOD, CARRIER_A, false)).to.deep.equal([1n, 2n, false]);
    await expect(ledger.connect(fx.A.officers[2]!).approve(data)).to.not.emit(ledger, "OfficerApproved");
    expect(await ledger.approvalsOf(id, PERIOD, CARRIER_A, false)).to.deep.equal([1n, 2n, false]);
    await expect(ledger.connect(fx.A.officers[0]!).approve(data)).to.emit(ledger, "CarrierApproved");
    expect(await ledger.approvalsOf(id, PERIOD, CARRIER_A, false)).to.deep.equal([2n, 2n, true]);
    await expect(ledger.connect(fx.A.officers[1]!).approve(data))
      .to.be.revertedWithCustomError(ledger, "LedgerAlreadyApproved")
      .withArgs(id, PERIOD, CARRIER_A, false);
  });

  it("does not count a duplicate signature twice", async function () {
    const { fx, lc, ledger, id } = await matched();
    const data = await lc.approvalData("B");
    const [s0, s1] = await lc.sign(data, fx.B.officers.slice(0, 2));
    await expect(ledger.approveWithSignatures(data, [s0!, s0!]))
      .to.emit(ledger, "OfficerApproved")
      .withArgs(id, PERIOD, CARRIER_B, fx.B.officers[0]!.address, false)
      .and.not.to.emit(ledger, "CarrierApproved");
    expect(await ledger.approvalsOf(id, PERIOD, CARRIER_B, false)).to.deep.equal([1n, 2n, false]);
    // officer 0 counted already (its OfficerApproved above): the approval names only officer 1
    await expect(ledger.approveWithSignatures(data, [s0!, s1!]))
      .to.emit(ledger, "CarrierApproved")
      .withArgs(id, PERIOD, CARRIER_B, false, data.amountAB, data.amountBA, [fx.B.officers[1]!.address])
      .and.not.to.emit(ledger, "OfficerApproved");
  });

  it("refuses approvals of figures other than the period's", async function () {
    const { fx, lc, ledger, id } = await matched();
    const good = await lc.approvalData("A");
    for (const bad of [
      { ...good, amountAB: good.amountAB + 1n },
      { ...good, amountBA: 0n },
      { ...good, rootA: ethers.id("other") },
      { ...good, round: 1 },
    ]) {
      const sigs = await lc.sign(bad, fx.A.officers.slice(0, 2));
      await expect(ledger.approveWithSignatures(bad, sigs))
        .to.be.revertedWithCustomError(ledger, "LedgerApprovalMismatch")
        .withArgs(id, PERIOD, anyValue, anyValue);
      // the same signatures attached to the right figures recover to strangers
      await expect(ledger.approveWithSignatures(good, sigs))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotOfficer")
        .withArgs(CARRIER_A, anyValue);
    }
  });

  it("refuses signatures of a removed officer, and stops counting its earlier approval", async function () {
    const { fx, lc, ledger } = await matched();
    const data = await lc.approvalData("A");
    const [old] = fx.A.officers;
    await ledger.connect(old!).approve(data);
    await removeOfficer(fx, old!.address);
    const sigs = await lc.sign(data, [old!]);
    await expect(ledger.approveWithSignatures(data, sigs))
      .to.be.revertedWithCustomError(fx.registry, "RegistryNotOfficer")
      .withArgs(CARRIER_A, old!.address);
    await expect(ledger.connect(old!).approve(data))
      .to.be.revertedWithCustomError(ledger, "LedgerNotOfficer")
      .withArgs(CARRIER_A, old!.address);
    await expect(ledger.connect(fx.A.officers[1]!).approve(data)).to.not.emit(ledger, "CarrierApproved");
    await expect(ledger.connect(fx.A.officers[2]!).approve(data)).to.emit(ledger, "CarrierApproved");
  });

  it("refuses approvals for a carrier that is not a party, and before the figures are final", async function () {
    const fx = await loadFixture(ledgerFixture);
    const lc = new PeriodLifecycle(fx, PERIOD);
    await lc.toCommitWindow();
    const data = {
      agreementId: fx.agreementId,
      period: PERIOD,
      carrierId: CARRIER_C,
      round: 0,
      partialSettlement: false,
      amountAB: 0n,
      amountBA: 0n,
      rootA: ethers.ZeroHash,
      rootB: ethers.ZeroHash,
      deadline: BigInt((await time.latest()) + 100),
    };
    await expect(fx.ledger.connect(fx.C.officers[0]!).approve(data))
      .to.be.revertedWithCustomError(fx.ledger, "LedgerNotParty")
      .withArgs(fx.agreementId, CARRIER_C);
    await expect(fx.ledger.connect(fx.A.officers[0]!).approve({ ...data, carrierId: CARRIER_A }))
      .to.be.revertedWithCustomError(fx.ledger, "LedgerUnexpectedState")
      .withArgs(fx.agreementId, PERIOD, stateIndex("Committing"), FINAL);
  });

  it("does not settle without both carriers' approvals", async function () {
    const { lc, ledger, id } = await matched();
    await expect(lc.settle())
      .to.be.revertedWithCustomError(ledger, "LedgerUnexpectedState")
      .withArgs(id, PERIOD, stateIndex("Matched"), stateBitmap(...SETTLE_STATES));
    await lc.approve("B");
    await expect(lc.settle())
      .to.be.revertedWithCustomError(ledger, "LedgerUnexpectedState")
      .withArgs(id, PERIOD, stateIndex("Matched"), stateBitmap(...SETTLE_STATES));
  });

  it("approves both carriers and settles in one transaction", async function () {
    const { fx, lc, ledger, id } = await matched();
    const a = await lc.approvalData("A");
    const b = { ...a, carrierId: CARRIER_B };
    const sigsA = await lc.sign(a, fx.A.officers.slice(1, 3));
    const sigsB = await lc.sign(b, fx.B.officers.slice(0, 2));
    await expect(ledger.connect(fx.outsider).approveAndSettle(a, sigsA, sigsB))
      .to.emit(ledger, "Settled")
      .withArgs(id, PERIOD, fx.tokenAddress, false, a.amountAB, a.amountBA, a.amountAB - a.amountBA);
    // and the same with B's approval first
    const lc2 = new PeriodLifecycle(fx, 203002);
    await lc2.toMatched(1n * UNIT, 2n * UNIT);
    const b2 = await lc2.approvalData("B");
    const a2 = { ...b2, carrierId: CARRIER_A };
    await ledger.approveAndSettle(
      b2,
      await lc2.sign(b2, fx.B.officers.slice(0, 2)),
      await lc2.sign(a2, fx.A.officers.slice(0, 2)),
    );
    expect(await lc2.state()).to.equal(stateIndex("Settled"));
  });

  it("reverts approveAndSettle whole when one carrier stays below its threshold", async function () {
    const { fx, lc, ledger, id } = await matched();
    const a = await lc.approvalData("A");
    const sigsA = await lc.sign(a, fx.A.officers.slice(0, 2));
    const sigsB = await lc.sign({ ...a, carrierId: CARRIER_B }, fx.B.officers.slice(0, 1));
    await expect(ledger.approveAndSettle(a, sigsA, sigsB))
      .to.be.revertedWithCustomError(ledger, "LedgerUnexpectedState")
      .withArgs(id, PERIOD, stateIndex("Matched"), stateBitmap(...SETTLE_STATES));
    expect(await ledger.approvalsOf(id, PERIOD, CARRIER_A, false)).to.deep.equal([0n, 2n, false]);
  });

  it("exposes the EIP-712 digest officers sign", async function () {
    const { lc, ledger } = await matched();
    const data = await lc.approvalData("A");
    const domain = ledgerDomain(lc.fx.chainId, await ledger.getAddress());
    expect(await ledger.approvalDigest(data)).to.equal(
      ethers.TypedDataEncoder.hash(domain, APPROVAL_TYPES, data),
    );
  });

  it("reports partial approvals separately", async function () {
    const fx = await loadFixture(ledgerFixture);
    const lc = new PeriodLifecycle(fx, PERIOD);
    await lc.toMismatched();
    await lc.openDispute("B");
    const data = await lc.approvalData("B", true);
    await fx.ledger.connect(fx.B.officers[0]!).approve(data);
    expect(await fx.ledger.approvalsOf(fx.agreementId, PERIOD, CARRIER_B, true)).to.deep.equal([
      1n,
      2n,
      false,
    ]);
    expect(await fx.ledger.approvalsOf(fx.agreementId, PERIOD, CARRIER_B, false)).to.deep.equal([
      0n,
      2n,
      false,
    ]);
    await expect(fx.ledger.connect(fx.B.officers[0]!).approve({ ...data, partialSettlement: false }))
      .to.be.revertedWithCustomError(fx.ledger, "LedgerUnexpectedState")
      .withArgs(fx.agreementId, PERIOD, stateIndex("Disputed"), FINAL);
    void CARRIER_B;
  });
});
