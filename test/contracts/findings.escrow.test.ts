/**
 * The security review's findings on escrow and approvals, each replayed as the attack it described,
 * against the ledger: the attack must now fail to gain anything. M-3 (escrow reserved at the payer's
 * approval: the 1-of-N withdrawal, the short carrier, the griefed batch, lapsed reservations), I-1
 * (approvals gathered under an older officer set), and item 4 of issue 16 (officers that are contract
 * wallets, ERC-1271). The other findings are in findings.test.ts.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { HDNodeWallet } from "ethers";
import {
  CARRIER_A,
  CARRIER_B,
  CARRIER_C,
  DEPOSIT,
  PERIOD,
  UNIT,
  WINDOWS,
  activate,
  ledgerFixture,
  makeTerms,
  type LedgerFixture,
} from "./helpers/fixture";
import { PeriodLifecycle } from "./helpers/lifecycle";
import {
  APPROVAL_TYPES,
  NODE_UPDATE_TYPES,
  OFFICER_UPDATE_TYPES,
  contractSignature,
  contractSigner,
  ledgerDomain,
  registryDomain,
  stateIndex,
  type ApprovalData,
  type OfficerUpdateData,
} from "../../node/src/protocol";
import type { ERC1271WalletMock } from "../../typechain-types";

/** An officer update of `carrierId` signed by `signers` (ECDSA officers, or contract-officer signatures). */
async function officerUpdate(
  fx: LedgerFixture,
  carrierId: string,
  change: Partial<Pick<OfficerUpdateData, "add" | "remove" | "threshold">>,
): Promise<OfficerUpdateData> {
  return {
    carrierId,
    add: change.add ?? [],
    remove: change.remove ?? [],
    threshold: change.threshold ?? 2,
    treasury: ethers.ZeroAddress,
    nonce: await fx.registry.officerNonce(carrierId),
    deadline: BigInt((await time.latest()) + 3600),
  };
}

async function signUpdate(
  fx: LedgerFixture,
  update: OfficerUpdateData,
  signers: (HardhatEthersSigner | HDNodeWallet)[],
): Promise<string[]> {
  const domain = registryDomain(fx.chainId, await fx.registry.getAddress());
  return Promise.all(signers.map((s) => s.signTypedData(domain, OFFICER_UPDATE_TYPES, update)));
}

describe("SettlementLedger — the review's escrow and approval findings replayed", function () {
  describe("M-3: escrow is reserved for the net when the payer approves", function () {
    it("one officer (1-of-N) cannot withdraw what both approvals rest on; settle goes through", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMatched(); // A owes B 1000 − 400 = 600
      const net = 600n * UNIT;
      await expect(lc.approve("A"))
        .to.emit(fx.ledger, "EscrowReserved")
        .withArgs(fx.agreementId, PERIOD, CARRIER_A, fx.tokenAddress, false, net, anyValue);
      await lc.approve("B");
      expect(await lc.state()).to.equal(stateIndex("Approved"));
      expect(await fx.ledger.reservedOf(CARRIER_A, fx.tokenAddress)).to.equal(net);
      // The attack: a single officer of A empties A's escrow between the approvals and the settlement.
      const officer = fx.A.officers[2]!;
      await expect(fx.ledger.connect(officer).withdraw(CARRIER_A, fx.tokenAddress, DEPOSIT))
        .to.be.revertedWithCustomError(fx.ledger, "LedgerInsufficientEscrow")
        .withArgs(CARRIER_A, fx.tokenAddress, DEPOSIT, DEPOSIT - net);
      await fx.ledger.connect(officer).withdraw(CARRIER_A, fx.tokenAddress, DEPOSIT - net);
      await expect(fx.ledger.connect(officer).withdraw(CARRIER_A, fx.tokenAddress, 1n))
        .to.be.revertedWithCustomError(fx.ledger, "LedgerInsufficientEscrow")
        .withArgs(CARRIER_A, fx.tokenAddress, 1n, 0n);
      await expect(lc.settle())
        .to.emit(fx.ledger, "Settled")
        .withArgs(fx.agreementId, PERIOD, fx.tokenAddress, false, 1_000n * UNIT, 400n * UNIT, net);
      expect(await fx.ledger.reservedOf(CARRIER_A, fx.tokenAddress)).to.equal(0n);
      expect(await fx.ledger.escrowOf(CARRIER_A, fx.tokenAddress)).to.equal(0n);
      expect(await fx.ledger.escrowOf(CARRIER_B, fx.tokenAddress)).to.equal(DEPOSIT + net);
    });

    it("a payer without the net available cannot approve, so no Approved period can fail to settle", async function () {
      const fx = await loadFixture(ledgerFixture);
      await fx.ledger.connect(fx.A.officers[0]!).withdraw(CARRIER_A, fx.tokenAddress, DEPOSIT - 100n * UNIT);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMatched();
      await expect(lc.approve("A"))
        .to.be.revertedWithCustomError(fx.ledger, "LedgerInsufficientEscrow")
        .withArgs(CARRIER_A, fx.tokenAddress, 600n * UNIT, 100n * UNIT);
      await lc.approve("B"); // the payee needs nothing
      expect(await lc.state()).to.equal(stateIndex("Matched"));
      // approveAndSettle cannot produce an unfunded Approved period either: it reverts whole
      const a = await lc.approvalData("A");
      await expect(
        fx.ledger.approveAndSettle(a, await lc.sign(a, fx.A.officers.slice(0, 2)), []),
      ).to.be.revertedWithCustomError(fx.ledger, "LedgerInsufficientEscrow");
      expect(await lc.state()).to.equal(stateIndex("Matched"));
      await fx.ledger.connect(fx.A.treasury).deposit(CARRIER_A, fx.tokenAddress, 500n * UNIT);
      await lc.approve("A");
      await expect(lc.settle()).to.emit(fx.ledger, "Settled");
    });

    it("a short carrier no longer reverts the batch: its unapproved period is skipped, the rest settle", async function () {
      const fx = await loadFixture(ledgerFixture);
      const bc = await activate(
        fx,
        makeTerms({ ...fx.terms, carrierA: CARRIER_B, carrierB: CARRIER_C }),
        undefined,
        "c",
        [fx.B, fx.C],
      );
      const ab = new PeriodLifecycle(fx, PERIOD);
      const bcl = new PeriodLifecycle(fx, PERIOD, bc.agreementId, [fx.B, fx.C]);
      await ab.toMatched(100n * UNIT, 0n); // A pays B 100
      await bcl.toMatched(0n, 300n * UNIT); // C pays B 300, but C has emptied its escrow
      await fx.ledger.connect(fx.C.officers[0]!).withdraw(CARRIER_C, fx.tokenAddress, DEPOSIT);
      await ab.approveBoth();
      await bcl.approve("A"); // B, the payee
      await expect(bcl.approve("B")).to.be.revertedWithCustomError(fx.ledger, "LedgerInsufficientEscrow");
      const keys = [ab, bcl].map((lc) => ({ agreementId: lc.agreementId, period: PERIOD }));
      const tx = fx.ledger.connect(fx.outsider).settleBatch(fx.tokenAddress, keys);
      await expect(tx)
        .to.emit(fx.ledger, "SettlementSkipped")
        .withArgs(bc.agreementId, PERIOD, stateIndex("Matched"));
      await expect(tx)
        .to.emit(fx.ledger, "EscrowMoved")
        .withArgs(CARRIER_B, fx.tokenAddress, 100n * UNIT);
      expect(await ab.state()).to.equal(stateIndex("Settled"));
      expect(await bcl.state()).to.equal(stateIndex("Matched"));
    });

    it("settleBatch skips, with an event, a period a griefer settled first, and settles the rest", async function () {
      const fx = await loadFixture(ledgerFixture);
      const jan = new PeriodLifecycle(fx, PERIOD);
      await jan.toMatched(); // A owes B 600
      await jan.approveBoth();
      const feb = new PeriodLifecycle(fx, PERIOD + 1);
      await feb.toMatched(500n * UNIT, 700n * UNIT); // B owes A 200
      await feb.approveBoth();
      const keys = [
        { agreementId: fx.agreementId, period: PERIOD },
        { agreementId: fx.agreementId, period: PERIOD + 1 },
      ];
      await jan.settle(); // the griefer settles one period of the prepared batch first
      const tx = fx.ledger.connect(fx.outsider).settleBatch(fx.tokenAddress, keys);
      await expect(tx)
        .to.emit(fx.ledger, "SettlementSkipped")
        .withArgs(fx.agreementId, PERIOD, stateIndex("Settled"));
      await expect(tx)
        .to.emit(fx.ledger, "Settled")
        .withArgs(fx.agreementId, PERIOD + 1, fx.tokenAddress, false, 500n * UNIT, 700n * UNIT, -200n * UNIT);
      expect(await feb.state()).to.equal(stateIndex("Settled"));
      expect(await fx.ledger.escrowOf(CARRIER_A, fx.tokenAddress)).to.equal(
        DEPOSIT - 600n * UNIT + 200n * UNIT,
      );
      expect(await fx.ledger.escrowOf(CARRIER_B, fx.tokenAddress)).to.equal(
        DEPOSIT + 600n * UNIT - 200n * UNIT,
      );
      for (const id of [CARRIER_A, CARRIER_B])
        expect(await fx.ledger.reservedOf(id, fx.tokenAddress)).to.equal(0n);
    });

    it("a reservation whose approval lapsed with the other side silent is released, with the payer's approval", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMatched();
      await expect(fx.ledger.release(fx.agreementId, PERIOD))
        .to.be.revertedWithCustomError(fx.ledger, "LedgerNoReservation")
        .withArgs(fx.agreementId, PERIOD);
      const data = await lc.approvalData("A");
      await fx.ledger.approveWithSignatures(data, await lc.sign(data, fx.A.officers.slice(0, 2)));
      expect(await fx.ledger.reservedOf(CARRIER_A, fx.tokenAddress)).to.equal(600n * UNIT);
      expect((await fx.ledger.reservationOf(fx.agreementId, PERIOD)).expiresAt).to.equal(data.deadline);
      // Up to the approval's deadline (inclusive) the payee can still count on the money.
      await time.setNextBlockTimestamp(data.deadline);
      await expect(fx.ledger.release(fx.agreementId, PERIOD))
        .to.be.revertedWithCustomError(fx.ledger, "LedgerTooEarly")
        .withArgs(fx.agreementId, PERIOD, data.deadline + 1n);
      await expect(fx.ledger.connect(fx.outsider).release(fx.agreementId, PERIOD))
        .to.emit(fx.ledger, "ReservationReleased")
        .withArgs(fx.agreementId, PERIOD, CARRIER_A, fx.tokenAddress, false, 600n * UNIT);
      expect(await fx.ledger.reservedOf(CARRIER_A, fx.tokenAddress)).to.equal(0n);
      expect(await fx.ledger.approvalsOf(fx.agreementId, PERIOD, CARRIER_A, false)).to.deep.equal([
        0n,
        2n,
        false,
      ]);
      // B's approval now finds A unapproved: the period is not Approved without A's reservation.
      await lc.approve("B");
      expect(await lc.state()).to.equal(stateIndex("Matched"));
      await fx.ledger.connect(fx.A.officers[0]!).withdraw(CARRIER_A, fx.tokenAddress, DEPOSIT);
      await expect(lc.approve("A")).to.be.revertedWithCustomError(fx.ledger, "LedgerInsufficientEscrow");
    });

    it("releases a lapsed reservation of carrier B alike, where B is the payer", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMatched(100n * UNIT, 700n * UNIT); // B owes A 600
      await lc.approve("B");
      expect(await fx.ledger.reservedOf(CARRIER_B, fx.tokenAddress)).to.equal(600n * UNIT);
      await time.increase(2 * 3600);
      await expect(fx.ledger.release(fx.agreementId, PERIOD))
        .to.emit(fx.ledger, "ReservationReleased")
        .withArgs(fx.agreementId, PERIOD, CARRIER_B, fx.tokenAddress, false, 600n * UNIT);
      expect(await fx.ledger.reservedOf(CARRIER_B, fx.tokenAddress)).to.equal(0n);
      expect((await fx.ledger.approvalsOf(fx.agreementId, PERIOD, CARRIER_B, false)).approved).to.equal(
        false,
      );
    });

    it("once both carriers approved, the reservation cannot be released, even after its deadline", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMatched();
      await lc.approve("A");
      await time.increase(2 * 3600); // A's approval lapsed, nobody released it: B's approval still binds it
      await lc.approve("B");
      await expect(fx.ledger.release(fx.agreementId, PERIOD))
        .to.be.revertedWithCustomError(fx.ledger, "LedgerReservationBound")
        .withArgs(fx.agreementId, PERIOD);
      await expect(lc.settle()).to.emit(fx.ledger, "Settled");
      await expect(fx.ledger.release(fx.agreementId, PERIOD)).to.be.revertedWithCustomError(
        fx.ledger,
        "LedgerNoReservation",
      );
    });

    it("reserves the undisputed part at the payer's partial approval; settlePartial consumes it", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMismatched(); // A claims (1000, 400), B (800, 500): undisputed (800, 400), A owes 400
      await lc.openDispute("B");
      await lc.approve("B", true);
      await expect(lc.approve("A", true))
        .to.emit(fx.ledger, "EscrowReserved")
        .withArgs(fx.agreementId, PERIOD, CARRIER_A, fx.tokenAddress, true, 400n * UNIT, anyValue);
      await expect(fx.ledger.release(fx.agreementId, PERIOD)).to.be.revertedWithCustomError(
        fx.ledger,
        "LedgerTooEarly",
      );
      await time.increase(2 * 3600);
      await expect(fx.ledger.release(fx.agreementId, PERIOD)).to.be.revertedWithCustomError(
        fx.ledger,
        "LedgerReservationBound",
      );
      await expect(fx.ledger.settlePartial(fx.agreementId, PERIOD))
        .to.emit(fx.ledger, "EscrowMoved")
        .withArgs(CARRIER_A, fx.tokenAddress, -400n * UNIT);
      expect(await fx.ledger.reservedOf(CARRIER_A, fx.tokenAddress)).to.equal(0n);
      // the final figures: B concedes A's (1000, 400) → A owes the remaining 200, reserved at its approval
      await fx.ledger.connect(fx.B.officers[0]!).withdrawDispute(fx.agreementId, PERIOD, CARRIER_B);
      await expect(lc.approve("A"))
        .to.emit(fx.ledger, "EscrowReserved")
        .withArgs(fx.agreementId, PERIOD, CARRIER_A, fx.tokenAddress, false, 200n * UNIT, anyValue);
      await lc.approve("B");
      await expect(lc.settle())
        .to.emit(fx.ledger, "EscrowMoved")
        .withArgs(CARRIER_A, fx.tokenAddress, -200n * UNIT);
      expect(await fx.ledger.escrowOf(CARRIER_A, fx.tokenAddress)).to.equal(DEPOSIT - 600n * UNIT);
      expect(await fx.ledger.reservedOf(CARRIER_A, fx.tokenAddress)).to.equal(0n);
    });

    it("a partial reservation the dispute's end left unused is released by the final reservation or settlement", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMismatched();
      await lc.openDispute("B");
      await lc.approve("A", true); // A reserves 400 for the undisputed part, never settled
      await fx.ledger.connect(fx.B.officers[0]!).withdrawDispute(fx.agreementId, PERIOD, CARRIER_B);
      expect(await lc.state()).to.equal(stateIndex("Resolved"));
      // A's final approval replaces the dead partial reservation with the final one (600)
      const tx = lc.approve("A");
      await expect(tx)
        .to.emit(fx.ledger, "ReservationReleased")
        .withArgs(fx.agreementId, PERIOD, CARRIER_A, fx.tokenAddress, true, 400n * UNIT);
      await expect(tx)
        .to.emit(fx.ledger, "EscrowReserved")
        .withArgs(fx.agreementId, PERIOD, CARRIER_A, fx.tokenAddress, false, 600n * UNIT, anyValue);
      expect(await fx.ledger.reservedOf(CARRIER_A, fx.tokenAddress)).to.equal(600n * UNIT);

      // Another period: the final net is zero, so no final reservation replaces the partial one; the
      // settlement releases it.
      const feb = new PeriodLifecycle(fx, PERIOD + 1);
      await feb.toMismatched();
      await feb.openDispute("A");
      await feb.approve("A", true); // 400 more reserved
      await feb.approve("B", true);
      await time.increase(WINDOWS.response + 1);
      await fx.ledger.connect(fx.A.officers[0]!).escalate(fx.agreementId, PERIOD + 1, CARRIER_A);
      await fx.ledger.connect(fx.arbiter).rule(fx.agreementId, PERIOD + 1, 900n * UNIT, 450n * UNIT, "r");
      // The ruling ended the dispute before settlePartial: nothing can consume the partial reservation, so
      // it is released at expiry although both approved it.
      await expect(fx.ledger.release(fx.agreementId, PERIOD + 1))
        .to.emit(fx.ledger, "ReservationReleased")
        .withArgs(fx.agreementId, PERIOD + 1, CARRIER_A, fx.tokenAddress, true, 400n * UNIT);
      expect(await fx.ledger.reservedOf(CARRIER_A, fx.tokenAddress)).to.equal(600n * UNIT);
    });

    it("the final settlement releases a partial reservation it does not spend", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMismatched();
      await lc.openDispute("A");
      await lc.approve("A", true); // A reserves 400 for the undisputed part
      await time.increase(WINDOWS.response + 1);
      await fx.ledger.connect(fx.A.officers[0]!).escalate(fx.agreementId, PERIOD, CARRIER_A);
      // the arbiter rules (900, 450): A owes 450
      await fx.ledger.connect(fx.arbiter).rule(fx.agreementId, PERIOD, 900n * UNIT, 450n * UNIT, "r");
      const a = await lc.approvalData("A");
      expect([a.amountAB, a.amountBA]).to.deep.equal([900n * UNIT, 450n * UNIT]);
      await lc.approve("B"); // B owes nothing: no reservation; the partial one stays
      const tx = lc.approve("A"); // A is the payer of 450: its final reservation replaces the partial one
      await expect(tx).to.emit(fx.ledger, "ReservationReleased");
      await expect(lc.settle())
        .to.emit(fx.ledger, "EscrowMoved")
        .withArgs(CARRIER_A, fx.tokenAddress, -450n * UNIT);
      expect(await fx.ledger.reservedOf(CARRIER_A, fx.tokenAddress)).to.equal(0n);

      // And where the payee's approval completes the period with the partial reservation still held:
      const feb = new PeriodLifecycle(fx, PERIOD + 1);
      await feb.toMismatched();
      await feb.openDispute("A");
      await feb.approve("B", true); // B is not the partial payer: nothing reserved
      await feb.approve("A", true); // A reserves 400
      await fx.ledger.connect(fx.A.officers[0]!).withdrawDispute(fx.agreementId, PERIOD + 1, CARRIER_A);
      // A concedes B's (800, 500): A owes 300; approveAndSettle reserves nothing and settles at once
      const f = await feb.approvalData("A");
      const settleTx = fx.ledger.approveAndSettle(
        f,
        await feb.sign(f, fx.A.officers.slice(0, 2)),
        await feb.sign({ ...f, carrierId: CARRIER_B }, fx.B.officers.slice(0, 2)),
      );
      await expect(settleTx)
        .to.emit(fx.ledger, "ReservationReleased")
        .withArgs(fx.agreementId, PERIOD + 1, CARRIER_A, fx.tokenAddress, true, 400n * UNIT);
      await expect(settleTx)
        .to.emit(fx.ledger, "EscrowMoved")
        .withArgs(CARRIER_A, fx.tokenAddress, -300n * UNIT);
      expect(await fx.ledger.reservedOf(CARRIER_A, fx.tokenAddress)).to.equal(0n);
      expect(await fx.ledger.escrowOf(CARRIER_A, fx.tokenAddress)).to.equal(DEPOSIT - 750n * UNIT);
    });

    it("the payer's approval in approveAndSettle spends its available escrow, its earlier reservation first", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMatched();
      const a = await lc.approvalData("A");
      const sigsA = await lc.sign(a, fx.A.officers.slice(0, 2));
      await fx.ledger.approveWithSignatures(a, sigsA); // A's signatures reached the chain first: reserved
      await fx.ledger.connect(fx.A.officers[0]!).withdraw(CARRIER_A, fx.tokenAddress, DEPOSIT - 600n * UNIT);
      const sigsB = await lc.sign({ ...a, carrierId: CARRIER_B }, fx.B.officers.slice(0, 2));
      await expect(fx.ledger.approveAndSettle(a, sigsA, sigsB))
        .to.emit(fx.ledger, "EscrowMoved")
        .withArgs(CARRIER_A, fx.tokenAddress, -600n * UNIT);
      expect(await fx.ledger.escrowOf(CARRIER_A, fx.tokenAddress)).to.equal(0n);
      expect(await fx.ledger.reservedOf(CARRIER_A, fx.tokenAddress)).to.equal(0n);
    });

    it("a settlement spends only the available balance, never another period's reservation", async function () {
      const fx = await loadFixture(ledgerFixture);
      const jan = new PeriodLifecycle(fx, PERIOD);
      await jan.toMatched(); // A owes 600, reserved at A's approval
      await jan.approve("A");
      await fx.ledger.connect(fx.A.officers[0]!).withdraw(CARRIER_A, fx.tokenAddress, DEPOSIT - 700n * UNIT);
      // A has 700: 600 reserved for January, 100 available. February needs 600 more in one transaction.
      const feb = new PeriodLifecycle(fx, PERIOD + 1);
      await feb.toMatched();
      const f = await feb.approvalData("A");
      await expect(
        fx.ledger.approveAndSettle(
          f,
          await feb.sign(f, fx.A.officers.slice(0, 2)),
          await feb.sign({ ...f, carrierId: CARRIER_B }, fx.B.officers.slice(0, 2)),
        ),
      )
        .to.be.revertedWithCustomError(fx.ledger, "LedgerInsufficientEscrow")
        .withArgs(CARRIER_A, fx.tokenAddress, 600n * UNIT, 100n * UNIT);
      await jan.approve("B");
      await expect(jan.settle()).to.emit(fx.ledger, "Settled");
    });
  });

  describe("I-1: approvals gathered under an older officer set do not count against a newer threshold", function () {
    it("the agreement book too: a proposal's pending approval from before B's officer update no longer counts", async function () {
      const fx = await loadFixture(ledgerFixture);
      const terms = { ...fx.terms, toleranceBps: 40, effectiveFrom: PERIOD + 100 };
      const tx = await fx.book
        .connect(fx.B.officers[0]!)
        .propose(fx.agreementId, CARRIER_B, terms, "ipfs://v2");
      const log = (await tx.wait())!.logs
        .map((l) => fx.book.interface.parseLog(l))
        .find((l) => l?.name === "AgreementProposed");
      const proposalId = log!.args[1] as string;
      // B's officers lower the threshold to 1: the attack made B's lone pending approval B's approval.
      const update = await officerUpdate(fx, CARRIER_B, { threshold: 1 });
      await fx.registry.updateOfficers(update, await signUpdate(fx, update, fx.B.officers.slice(1, 3)));
      await fx.book.connect(fx.A.officers[0]!).approveProposal(proposalId, CARRIER_A);
      await expect(fx.book.connect(fx.A.officers[1]!).approveProposal(proposalId, CARRIER_A)).to.not.emit(
        fx.book,
        "AgreementVersionActivated",
      );
      expect(await fx.book.versionCount(fx.agreementId)).to.equal(1);
      // One approval under B's new set (threshold 1) activates it; the same officer may approve again.
      await expect(fx.book.connect(fx.B.officers[0]!).approveProposal(proposalId, CARRIER_B))
        .to.emit(fx.book, "AgreementVersionActivated")
        .withArgs(fx.agreementId, 1, proposalId, PERIOD + 100);
    });

    it("lowering the threshold starts B's tally again: the old pending approval counts 0, one fresh one approves", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMatched();
      const data = await lc.approvalData("B");
      // One of B's officers approves under threshold 2 of 3.
      await fx.ledger.connect(fx.B.officers[0]!).approve(data);
      expect(await fx.ledger.approvalsOf(fx.agreementId, PERIOD, CARRIER_B, false)).to.deep.equal([
        1n,
        2n,
        false,
      ]);
      // B's officers lower the threshold to 1: the attack made that lone approval B's approval.
      const update = await officerUpdate(fx, CARRIER_B, { threshold: 1 });
      await fx.registry.updateOfficers(update, await signUpdate(fx, update, fx.B.officers.slice(1, 3)));
      expect(await fx.ledger.approvalsOf(fx.agreementId, PERIOD, CARRIER_B, false)).to.deep.equal([
        0n,
        1n,
        false,
      ]);
      // Nothing submitted under the new set yet; A approving does not make the period Approved.
      await lc.approve("A");
      expect(await lc.state()).to.equal(stateIndex("Matched"));
      await expect(fx.ledger.connect(fx.B.officers[1]!).approve(data))
        .to.emit(fx.ledger, "CarrierApproved")
        .withArgs(fx.agreementId, PERIOD, CARRIER_B, false, data.amountAB, data.amountBA, [
          fx.B.officers[1]!.address,
        ]);
      expect(await fx.ledger.approvalsOf(fx.agreementId, PERIOD, CARRIER_B, false)).to.deep.equal([
        1n,
        1n,
        true,
      ]);
      expect(await lc.state()).to.equal(stateIndex("Approved"));
    });

    it("a node update also starts a pending tally again (it shares the officers' nonce); other carriers are unaffected", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMatched();
      const dataA = await lc.approvalData("A");
      const dataB = await lc.approvalData("B");
      await fx.ledger.connect(fx.A.officers[0]!).approve(dataA);
      await fx.ledger.connect(fx.B.officers[0]!).approve(dataB);
      const nodeUpdate = {
        carrierId: CARRIER_B,
        add: [fx.outsider.address],
        remove: [],
        nonce: await fx.registry.officerNonce(CARRIER_B),
        deadline: BigInt((await time.latest()) + 3600),
      };
      const domain = registryDomain(fx.chainId, await fx.registry.getAddress());
      const sigs = await Promise.all(
        fx.B.officers.slice(0, 2).map((o) => o.signTypedData(domain, NODE_UPDATE_TYPES, nodeUpdate)),
      );
      await fx.registry.updateNodes(nodeUpdate, sigs);
      expect((await fx.ledger.approvalsOf(fx.agreementId, PERIOD, CARRIER_B, false)).count).to.equal(0n);
      expect((await fx.ledger.approvalsOf(fx.agreementId, PERIOD, CARRIER_A, false)).count).to.equal(1n);
      await expect(fx.ledger.connect(fx.A.officers[1]!).approve(dataA)).to.emit(fx.ledger, "CarrierApproved");
      await expect(fx.ledger.connect(fx.B.officers[1]!).approve(dataB)).to.not.emit(
        fx.ledger,
        "CarrierApproved",
      );
      await expect(fx.ledger.connect(fx.B.officers[0]!).approve(dataB)).to.emit(fx.ledger, "CarrierApproved");
    });
  });

  describe("issue 16 item 4: officers that are contract wallets (ERC-1271, e.g. a Safe)", function () {
    interface WalletWorld {
      fx: LedgerFixture;
      lc: PeriodLifecycle;
      wallet: ERC1271WalletMock;
      walletAddress: string;
      owner: HDNodeWallet;
      permissive: ERC1271WalletMock;
    }

    /** B gets a fourth officer, a contract wallet owned by a fresh key; a permissive wallet exists too. */
    async function walletFixture(): Promise<WalletWorld> {
      const fx = await loadFixture(ledgerFixture);
      const owner = ethers.Wallet.createRandom();
      const factory = await ethers.getContractFactory("ERC1271WalletMock");
      const wallet = await factory.deploy(owner.address, false);
      const permissive = await factory.deploy(ethers.ZeroAddress, true);
      const walletAddress = await wallet.getAddress();
      const update = await officerUpdate(fx, CARRIER_B, { add: [walletAddress] });
      await fx.registry.updateOfficers(update, await signUpdate(fx, update, fx.B.officers.slice(0, 2)));
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMatched(100n * UNIT, 700n * UNIT); // B owes A 600: B, with its wallet officer, pays
      return { fx, lc, wallet, walletAddress, owner, permissive };
    }

    async function walletSignature(w: WalletWorld, data: ApprovalData, key = w.owner): Promise<string> {
      const domain = ledgerDomain(w.fx.chainId, await w.fx.ledger.getAddress());
      return contractSignature(w.walletAddress, await key.signTypedData(domain, APPROVAL_TYPES, data));
    }

    it("a contract officer's signature counts towards its carrier's threshold, in both approval paths", async function () {
      const w = await walletFixture();
      const { fx, lc } = w;
      const data = await lc.approvalData("B");
      const fromWallet = await walletSignature(w, data);
      expect(contractSigner(fromWallet)).to.equal(w.walletAddress);
      const [eoa] = await lc.sign(data, [fx.B.officers[2]!]);
      expect(contractSigner(eoa!)).to.equal(null);
      // Both signatures reach the threshold in one call: the CarrierApproved names both officers.
      await expect(fx.ledger.approveWithSignatures(data, [fromWallet, eoa!]))
        .to.emit(fx.ledger, "CarrierApproved")
        .withArgs(fx.agreementId, PERIOD, CARRIER_B, false, data.amountAB, data.amountBA, [
          w.walletAddress,
          fx.B.officers[2]!.address,
        ])
        .and.not.to.emit(fx.ledger, "OfficerApproved");

      const feb = new PeriodLifecycle(fx, PERIOD + 1);
      await feb.toMatched(100n * UNIT, 700n * UNIT);
      const a = await feb.approvalData("A");
      const b = { ...a, carrierId: CARRIER_B };
      await expect(
        fx.ledger.approveAndSettle(a, await feb.sign(a, fx.A.officers.slice(0, 2)), [
          await walletSignature(w, b),
          (await feb.sign(b, [fx.B.officers[0]!]))[0]!,
        ]),
      ).to.emit(fx.ledger, "Settled");
    });

    it("refuses a contract officer's signature its wallet does not validate, and one naming an account without code", async function () {
      const w = await walletFixture();
      const { fx, lc } = w;
      const data = await lc.approvalData("B");
      const stranger = ethers.Wallet.createRandom();
      await expect(fx.ledger.approveWithSignatures(data, [await walletSignature(w, data, stranger)]))
        .to.be.revertedWithCustomError(fx.registry, "OfficerSignatureInvalid")
        .withArgs(w.walletAddress);
      // the owner's signature over other figures does not validate for these
      const other = await walletSignature(w, { ...data, amountBA: data.amountBA - 1n });
      await expect(fx.ledger.approveWithSignatures(data, [other]))
        .to.be.revertedWithCustomError(fx.registry, "OfficerSignatureInvalid")
        .withArgs(w.walletAddress);
      // an EOA officer cannot be made to "sign" by naming it as a contract officer
      const eoa = fx.B.officers[0]!;
      const forged = contractSignature(eoa.address, (await lc.sign(data, [fx.B.officers[1]!]))[0]!);
      await expect(fx.ledger.approveWithSignatures(data, [forged]))
        .to.be.revertedWithCustomError(fx.registry, "OfficerSignatureInvalid")
        .withArgs(eoa.address);
      expect(await fx.ledger.approvalsOf(fx.agreementId, PERIOD, CARRIER_B, false)).to.deep.equal([
        0n,
        2n,
        false,
      ]);
    });

    it("a wallet that validates everything still counts for no carrier it is not an officer of", async function () {
      const w = await walletFixture();
      const { fx, lc } = w;
      const permissive = await w.permissive.getAddress();
      const data = await lc.approvalData("A");
      const anything = contractSignature(permissive, "0x");
      await expect(
        fx.ledger.approveWithSignatures(data, [anything, (await lc.sign(data, [fx.A.officers[0]!]))[0]!]),
      )
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotOfficer")
        .withArgs(CARRIER_A, permissive);
      const update = await officerUpdate(fx, CARRIER_A, { add: [permissive], threshold: 1 });
      await expect(fx.registry.updateOfficers(update, [anything]))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotOfficer")
        .withArgs(CARRIER_A, permissive);
      // nor as a wallet officer of B for A's approval
      await expect(fx.ledger.approveWithSignatures(data, [await walletSignature(w, data)]))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotOfficer")
        .withArgs(CARRIER_A, w.walletAddress);
    });

    it("a contract officer's signature given twice counts once", async function () {
      const w = await walletFixture();
      const { fx, lc } = w;
      const data = await lc.approvalData("B");
      const sig = await walletSignature(w, data);
      await expect(fx.ledger.approveWithSignatures(data, [sig, sig])).to.not.emit(
        fx.ledger,
        "CarrierApproved",
      );
      expect(await fx.ledger.approvalsOf(fx.agreementId, PERIOD, CARRIER_B, false)).to.deep.equal([
        1n,
        2n,
        false,
      ]);
      const update = await officerUpdate(fx, CARRIER_B, { threshold: 1 });
      const domain = registryDomain(fx.chainId, await fx.registry.getAddress());
      const updateSig = contractSignature(
        w.walletAddress,
        await w.owner.signTypedData(domain, OFFICER_UPDATE_TYPES, update),
      );
      await expect(fx.registry.updateOfficers(update, [updateSig, updateSig]))
        .to.be.revertedWithCustomError(fx.registry, "RegistryInsufficientSignatures")
        .withArgs(CARRIER_B, 1n, 2n);
    });

    it("a contract officer signs the registry's officer and node updates, M of N with an EOA officer", async function () {
      const w = await walletFixture();
      const { fx } = w;
      const domain = registryDomain(fx.chainId, await fx.registry.getAddress());
      const nodes = {
        carrierId: CARRIER_B,
        add: [fx.outsider.address],
        remove: [fx.B.node.address],
        nonce: await fx.registry.officerNonce(CARRIER_B),
        deadline: BigInt((await time.latest()) + 3600),
      };
      const walletNodeSig = contractSignature(
        w.walletAddress,
        await w.owner.signTypedData(domain, NODE_UPDATE_TYPES, nodes),
      );
      const eoaNodeSig = await fx.B.officers[1]!.signTypedData(domain, NODE_UPDATE_TYPES, nodes);
      await expect(fx.registry.updateNodes(nodes, [walletNodeSig, eoaNodeSig]))
        .to.emit(fx.registry, "NodesUpdated")
        .withArgs(CARRIER_B, nodes.nonce, [w.walletAddress, fx.B.officers[1]!.address]);
      expect(await fx.registry.carrierOfNode(fx.outsider.address)).to.equal(CARRIER_B);

      const update = await officerUpdate(fx, CARRIER_B, { remove: [fx.B.officers[0]!.address] });
      const stranger = ethers.Wallet.createRandom();
      const bad = contractSignature(
        w.walletAddress,
        await stranger.signTypedData(domain, OFFICER_UPDATE_TYPES, update),
      );
      await expect(
        fx.registry.updateOfficers(update, [
          bad,
          await fx.B.officers[1]!.signTypedData(domain, OFFICER_UPDATE_TYPES, update),
        ]),
      )
        .to.be.revertedWithCustomError(fx.registry, "OfficerSignatureInvalid")
        .withArgs(w.walletAddress);
      const good = contractSignature(
        w.walletAddress,
        await w.owner.signTypedData(domain, OFFICER_UPDATE_TYPES, update),
      );
      await expect(
        fx.registry.updateOfficers(update, [
          good,
          await fx.B.officers[1]!.signTypedData(domain, OFFICER_UPDATE_TYPES, update),
        ]),
      ).to.emit(fx.registry, "OfficerRemoved");
      expect(await fx.registry.isOfficer(CARRIER_B, fx.B.officers[0]!.address)).to.equal(false);
    });

    it("a malformed ECDSA signature is refused with ECDSA's error, as before", async function () {
      const w = await walletFixture();
      const { fx, lc } = w;
      const data = await lc.approvalData("B");
      const [sig] = await lc.sign(data, [fx.B.officers[0]!]);
      await expect(fx.ledger.approveWithSignatures(data, [ethers.dataSlice(sig!, 0, 64)]))
        .to.be.revertedWithCustomError(fx.registry, "ECDSAInvalidSignatureLength")
        .withArgs(64n);
    });
  });
});
