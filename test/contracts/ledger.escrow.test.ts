import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import {
  CARRIER_A,
  CARRIER_B,
  CARRIER_C,
  DEPOSIT,
  PERIOD,
  UNIT,
  UNKNOWN_CARRIER,
  activate,
  ledgerFixture,
  makeTerms,
  type LedgerFixture,
} from "./helpers/fixture";
import { PeriodLifecycle } from "./helpers/lifecycle";
import { stateIndex } from "../../scripts/lib/protocol";

async function expectConservation(fx: LedgerFixture): Promise<void> {
  let sum = 0n;
  for (const id of [CARRIER_A, CARRIER_B, CARRIER_C]) sum += await fx.ledger.escrowOf(id, fx.tokenAddress);
  expect(await fx.token.balanceOf(await fx.ledger.getAddress())).to.equal(sum);
}

describe("SettlementLedger — escrow and settlement", function () {
  describe("deposits and withdrawals", function () {
    it("credits deposits and pays withdrawals to the carrier's treasury", async function () {
      const fx = await loadFixture(ledgerFixture);
      const { ledger, tokenAddress } = fx;
      await expect(ledger.connect(fx.A.treasury).deposit(CARRIER_A, tokenAddress, 5n))
        .to.emit(ledger, "Deposited")
        .withArgs(CARRIER_A, tokenAddress, fx.A.treasury.address, 5n);
      const before = await fx.token.balanceOf(fx.A.treasury.address);
      await expect(ledger.connect(fx.A.officers[1]!).withdraw(CARRIER_A, tokenAddress, DEPOSIT))
        .to.emit(ledger, "Withdrawn")
        .withArgs(CARRIER_A, tokenAddress, fx.A.treasury.address, DEPOSIT);
      expect(await fx.token.balanceOf(fx.A.treasury.address)).to.equal(before + DEPOSIT);
      expect(await ledger.escrowOf(CARRIER_A, tokenAddress)).to.equal(5n);
      await expect(ledger.connect(fx.A.officers[1]!).withdraw(CARRIER_A, tokenAddress, 6n))
        .to.be.revertedWithCustomError(ledger, "LedgerInsufficientEscrow")
        .withArgs(CARRIER_A, tokenAddress, 6n, 5n);
      await expect(ledger.connect(fx.A.officers[1]!).withdraw(CARRIER_A, tokenAddress, 0n))
        .to.be.revertedWithCustomError(ledger, "LedgerZeroAmount")
        .withArgs();
      await expectConservation(fx);
    });

    it("refuses bad deposits", async function () {
      const fx = await loadFixture(ledgerFixture);
      const { ledger, tokenAddress } = fx;
      const other = fx.outsider.address;
      await expect(ledger.deposit(CARRIER_A, tokenAddress, 0n))
        .to.be.revertedWithCustomError(ledger, "LedgerZeroAmount")
        .withArgs();
      await expect(ledger.deposit(UNKNOWN_CARRIER, tokenAddress, 1n))
        .to.be.revertedWithCustomError(ledger, "LedgerUnknownCarrier")
        .withArgs(UNKNOWN_CARRIER);
      await expect(ledger.deposit(CARRIER_A, other, 1n))
        .to.be.revertedWithCustomError(ledger, "LedgerTokenNotListed")
        .withArgs(other);
    });

    it("deposits with an ERC-2612 permit, and tolerates a front-run permit", async function () {
      const fx = await loadFixture(ledgerFixture);
      const { ledger, token, tokenAddress } = fx;
      const owner = fx.outsider;
      await token.mint(owner.address, 100n * UNIT);
      const deadline = BigInt((await time.latest()) + 3600);
      const value = 40n * UNIT;
      const domain = {
        name: await token.name(),
        version: "1",
        chainId: fx.chainId,
        verifyingContract: tokenAddress,
      };
      const types = {
        Permit: [
          { name: "owner", type: "address" },
          { name: "spender", type: "address" },
          { name: "value", type: "uint256" },
          { name: "nonce", type: "uint256" },
          { name: "deadline", type: "uint256" },
        ],
      };
      const message = {
        owner: owner.address,
        spender: await ledger.getAddress(),
        value,
        nonce: await token.nonces(owner.address),
        deadline,
      };
      const sig = ethers.Signature.from(await owner.signTypedData(domain, types, message));
      // someone front-runs the permit itself
      await token.permit(owner.address, message.spender, value, deadline, sig.v, sig.r, sig.s);
      await expect(
        ledger
          .connect(owner)
          .depositWithPermit(CARRIER_C, tokenAddress, value, deadline, sig.v, sig.r, sig.s),
      )
        .to.emit(ledger, "Deposited")
        .withArgs(CARRIER_C, tokenAddress, owner.address, value);
      // a fresh permit
      const message2 = { ...message, nonce: await token.nonces(owner.address) };
      const sig2 = ethers.Signature.from(await owner.signTypedData(domain, types, message2));
      await ledger
        .connect(owner)
        .depositWithPermit(CARRIER_C, tokenAddress, value, deadline, sig2.v, sig2.r, sig2.s);
      expect(await ledger.escrowOf(CARRIER_C, tokenAddress)).to.equal(DEPOSIT + 2n * value);
      await expectConservation(fx);
    });

    it("credits what actually arrived from a fee-on-transfer token", async function () {
      const fx = await loadFixture(ledgerFixture);
      const fee = await (await ethers.getContractFactory("FeeOnTransferToken")).deploy();
      await fx.registry.setToken(await fee.getAddress(), true);
      await fee.approve(await fx.ledger.getAddress(), 1_000n);
      await expect(fx.ledger.deposit(CARRIER_A, await fee.getAddress(), 1_000n))
        .to.emit(fx.ledger, "Deposited")
        .withArgs(CARRIER_A, await fee.getAddress(), fx.admin.address, 990n);
      expect(await fee.balanceOf(await fx.ledger.getAddress())).to.equal(
        await fx.ledger.escrowOf(CARRIER_A, await fee.getAddress()),
      );
    });
  });

  describe("settle", function () {
    it("refuses the approval of a payer short of the net, naming it; funded, it approves and settles", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMatched(DEPOSIT + 10n, 0n);
      await lc.approve("B");
      await expect(lc.approve("A"))
        .to.be.revertedWithCustomError(fx.ledger, "LedgerInsufficientEscrow")
        .withArgs(CARRIER_A, fx.tokenAddress, DEPOSIT + 10n, DEPOSIT);
      expect(await lc.state()).to.equal(stateIndex("Matched"));
      await fx.ledger.connect(fx.A.treasury).deposit(CARRIER_A, fx.tokenAddress, 10n);
      await expect(lc.approve("A"))
        .to.emit(fx.ledger, "EscrowReserved")
        .withArgs(fx.agreementId, PERIOD, CARRIER_A, fx.tokenAddress, false, DEPOSIT + 10n, anyValue);
      expect(await fx.ledger.reservedOf(CARRIER_A, fx.tokenAddress)).to.equal(DEPOSIT + 10n);
      await lc.settle();
      expect(await fx.ledger.escrowOf(CARRIER_A, fx.tokenAddress)).to.equal(0n);
      expect(await fx.ledger.reservedOf(CARRIER_A, fx.tokenAddress)).to.equal(0n);
      expect((await fx.ledger.reservationOf(fx.agreementId, PERIOD)).amount).to.equal(0n);
      await expectConservation(fx);
    });

    it("reserves nothing for the payee, and nothing for a zero net", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMatched(400n * UNIT, 400n * UNIT);
      await expect(lc.approve("A")).to.not.emit(fx.ledger, "EscrowReserved");
      await expect(lc.approve("B")).to.not.emit(fx.ledger, "EscrowReserved");
      await expect(lc.settle()).to.emit(fx.ledger, "Settled");
      const feb = new PeriodLifecycle(fx, PERIOD + 1);
      await feb.toMatched(100n * UNIT, 300n * UNIT); // B owes A 200
      await expect(feb.approve("A")).to.not.emit(fx.ledger, "EscrowReserved");
      await expect(feb.approve("B"))
        .to.emit(fx.ledger, "EscrowReserved")
        .withArgs(fx.agreementId, PERIOD + 1, CARRIER_B, fx.tokenAddress, false, 200n * UNIT, anyValue);
      const r = await fx.ledger.reservationOf(fx.agreementId, PERIOD + 1);
      expect([r.amount, r.payer, r.partialSettlement]).to.deep.equal([200n * UNIT, 2n, false]);
      // lifecycle approvals are valid for an hour: the reservation expires with them
      expect(r.expiresAt).to.be.closeTo(BigInt(await time.latest()) + 3600n, 5n);
    });
  });

  describe("settleBatch (multilateral netting)", function () {
    async function triangle() {
      const fx = await loadFixture(ledgerFixture);
      const bc = await activate(
        fx,
        makeTerms({ ...fx.terms, carrierA: CARRIER_B, carrierB: CARRIER_C }),
        undefined,
        "c",
        [fx.B, fx.C],
      );
      const ca = await activate(
        fx,
        makeTerms({ ...fx.terms, carrierA: CARRIER_C, carrierB: CARRIER_A }),
        undefined,
        "c",
        [fx.C, fx.A],
      );
      const ab = new PeriodLifecycle(fx, PERIOD);
      const bcl = new PeriodLifecycle(fx, PERIOD, bc.agreementId, [fx.B, fx.C]);
      const cal = new PeriodLifecycle(fx, PERIOD, ca.agreementId, [fx.C, fx.A]);
      await ab.toMatched(100n * UNIT, 0n); // A pays B 100
      await bcl.toMatched(100n * UNIT, 0n); // B pays C 100
      await cal.toMatched(30n * UNIT, 0n); // C pays A 30
      for (const lc of [ab, bcl, cal]) await lc.approveBoth();
      const keys = [ab, bcl, cal].map((lc) => ({ agreementId: lc.agreementId, period: PERIOD }));
      return { fx, keys, lcs: [ab, bcl, cal] };
    }

    it("moves only each carrier's net position", async function () {
      const { fx, keys, lcs } = await triangle();
      const tx = fx.ledger.settleBatch(fx.tokenAddress, keys);
      await expect(tx)
        .to.emit(fx.ledger, "EscrowMoved")
        .withArgs(CARRIER_A, fx.tokenAddress, -70n * UNIT);
      await expect(tx)
        .to.emit(fx.ledger, "EscrowMoved")
        .withArgs(CARRIER_C, fx.tokenAddress, 70n * UNIT);
      const receipt = await (await tx).wait();
      const moved = receipt!.logs
        .map((l) => fx.ledger.interface.parseLog(l))
        .filter((l) => l?.name === "EscrowMoved");
      expect(moved.map((l) => l!.args[0])).to.deep.equal([CARRIER_A, CARRIER_C]);
      for (const lc of lcs) expect(await lc.state()).to.equal(stateIndex("Settled"));
      expect(await fx.ledger.escrowOf(CARRIER_B, fx.tokenAddress)).to.equal(DEPOSIT);
      await expectConservation(fx);
    });

    it("settles a period listed twice once, and skips a settled one later, with an event", async function () {
      const { fx, keys } = await triangle();
      const k0 = keys[0]!;
      await expect(fx.ledger.settleBatch(fx.tokenAddress, [...keys, k0]))
        .to.emit(fx.ledger, "SettlementSkipped")
        .withArgs(k0.agreementId, PERIOD, stateIndex("Settled"));
      expect(await fx.ledger.escrowOf(CARRIER_A, fx.tokenAddress)).to.equal(DEPOSIT - 70n * UNIT);
      const again = fx.ledger.settleBatch(fx.tokenAddress, [k0]);
      await expect(again)
        .to.emit(fx.ledger, "SettlementSkipped")
        .withArgs(k0.agreementId, PERIOD, stateIndex("Settled"));
      await expect(again).to.not.emit(fx.ledger, "EscrowMoved");
      await expectConservation(fx);
    });

    it("refuses periods in another token; a carrier cannot withdraw what its approvals reserved", async function () {
      const { fx, keys } = await triangle();
      const other = await (
        await ethers.getContractFactory("SettlementToken")
      ).deploy("X", "X", fx.admin.address);
      await expect(fx.ledger.settleBatch(await other.getAddress(), keys))
        .to.be.revertedWithCustomError(fx.ledger, "LedgerTokenMismatch")
        .withArgs(keys[0]!.agreementId, PERIOD, await other.getAddress(), fx.tokenAddress);
      // A pays B 100 in A–B: reserved at A's approval, so A's officers can take only the rest.
      expect(await fx.ledger.reservedOf(CARRIER_A, fx.tokenAddress)).to.equal(100n * UNIT);
      await expect(
        fx.ledger.connect(fx.A.officers[0]!).withdraw(CARRIER_A, fx.tokenAddress, DEPOSIT - 69n * UNIT),
      )
        .to.be.revertedWithCustomError(fx.ledger, "LedgerInsufficientEscrow")
        .withArgs(CARRIER_A, fx.tokenAddress, DEPOSIT - 69n * UNIT, DEPOSIT - 100n * UNIT);
      await fx.ledger.connect(fx.A.officers[0]!).withdraw(CARRIER_A, fx.tokenAddress, DEPOSIT - 100n * UNIT);
      await fx.ledger.settleBatch(fx.tokenAddress, keys);
      for (const k of keys)
        expect(await fx.ledger.state(k.agreementId, PERIOD)).to.equal(stateIndex("Settled"));
      expect(await fx.ledger.escrowOf(CARRIER_A, fx.tokenAddress)).to.equal(30n * UNIT);
      for (const id of [CARRIER_A, CARRIER_B, CARRIER_C])
        expect(await fx.ledger.reservedOf(id, fx.tokenAddress)).to.equal(0n);
      await expectConservation(fx);
    });

    it("skips a period that is not approved, with an event, and settles nothing of it", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      await lc.toMatched();
      await lc.approve("A");
      const tx = fx.ledger.settleBatch(fx.tokenAddress, [{ agreementId: fx.agreementId, period: PERIOD }]);
      await expect(tx)
        .to.emit(fx.ledger, "SettlementSkipped")
        .withArgs(fx.agreementId, PERIOD, stateIndex("Matched"));
      await expect(tx).to.not.emit(fx.ledger, "Settled");
      expect(await fx.ledger.reservedOf(CARRIER_A, fx.tokenAddress)).to.equal(600n * UNIT);
      void CARRIER_B;
    });
  });
});
