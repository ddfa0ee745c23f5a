/**
 * The co-signed fast path (issue 16 item 2): when both nodes built the same summary, both carriers'
 * officers sign one `Settlement` and one transaction records the figures and settles. Every refusal is
 * asserted with its custom error and arguments.
 */
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
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
  type Party,
} from "./helpers/fixture";
import { PeriodLifecycle, figures } from "./helpers/lifecycle";
import { FastPath, slots } from "./helpers/fastpath";
import { deploySettlementLedger } from "../../scripts/lib/deployLedger";
import {
  OFFICER_UPDATE_TYPES,
  PERIOD_FLAGS,
  ledgerDomain,
  registryDomain,
  settlementDigest,
  stateBitmap,
  stateIndex,
  type OfficerUpdateData,
} from "../../scripts/lib/protocol";
import { LedgerFastPath__factory } from "../../typechain-types";

const OPEN = stateBitmap("Committing", "Revealing");
const AB = 1_000n * UNIT;
const BA = 400n * UNIT;

/** The fixture with the clock at the end of PERIOD: the commit window is open. */
async function ended() {
  const fx = await loadFixture(ledgerFixture);
  const lc = new PeriodLifecycle(fx, PERIOD);
  await lc.toCommitWindow();
  return { fx, lc, fp: new FastPath(lc), ledger: fx.ledger, id: fx.agreementId };
}

/** Applies an officer update of `party` signed by its first two officers. */
async function updateOfficers(
  fx: LedgerFixture,
  party: Party,
  change: { add?: string[]; remove?: string[]; threshold: number },
): Promise<void> {
  const update: OfficerUpdateData = {
    carrierId: party.id,
    add: change.add ?? [],
    remove: change.remove ?? [],
    threshold: change.threshold,
    treasury: ethers.ZeroAddress,
    nonce: await fx.registry.officerNonce(party.id),
    deadline: BigInt((await time.latest()) + 600),
  };
  const domain = registryDomain(fx.chainId, await fx.registry.getAddress());
  const sigs = await Promise.all(
    party.officers.slice(0, 2).map((o) => o.signTypedData(domain, OFFICER_UPDATE_TYPES, update)),
  );
  await fx.registry.updateOfficers(update, sigs);
}

describe("SettlementLedger — co-signed fast path", function () {
  describe("settles in one transaction", function () {
    it("records the figures, moves the net, reads Settled and reports it in one event", async function () {
      const { fx, lc, fp, ledger, id } = await ended();
      expect(await lc.state()).to.equal(stateIndex("Committing"));
      const data = await fp.data(AB, BA);
      const net = AB - BA;
      const tx = await fp.settle(data);
      await expect(tx)
        .to.emit(ledger, "FastPathSettled")
        .withArgs(id, PERIOD, fx.tokenAddress, data.root, AB, BA, slots(0, 1), slots(0, 1))
        .and.to.emit(ledger, "EscrowMoved")
        .withArgs(CARRIER_A, fx.tokenAddress, -net)
        .and.to.emit(ledger, "EscrowMoved")
        .withArgs(CARRIER_B, fx.tokenAddress, net);
      await expect(tx).to.not.emit(ledger, "Settled");
      expect(await ledger.escrowOf(CARRIER_A, fx.tokenAddress)).to.equal(DEPOSIT - net);
      expect(await ledger.escrowOf(CARRIER_B, fx.tokenAddress)).to.equal(DEPOSIT + net);
      expect(await fx.token.balanceOf(await ledger.getAddress())).to.equal(DEPOSIT * 3n);

      expect(await lc.state()).to.equal(stateIndex("Settled"));
      const rec = await ledger.periodRecord(id, PERIOD);
      const block = await ethers.provider.getBlock(tx.blockNumber!);
      expect(rec.outcome).to.equal(1n); // Matched
      expect(rec.flags).to.equal(PERIOD_FLAGS.APPROVED_A | PERIOD_FLAGS.APPROVED_B | PERIOD_FLAGS.SETTLED);
      expect(rec.evaluatedAt).to.equal(block!.timestamp);
      expect([rec.statusA, rec.statusB, rec.round]).to.deep.equal([0n, 0n, 0n]);
      expect([rec.hashA, rec.hashB]).to.deep.equal([ethers.ZeroHash, ethers.ZeroHash]);
    });

    it("moves B→A when B owes more, and nothing when the figures net to zero", async function () {
      const { fx, lc, fp, ledger } = await ended();
      await expect(fp.settle(await fp.data(BA, AB)))
        .to.emit(ledger, "EscrowMoved")
        .withArgs(CARRIER_B, fx.tokenAddress, -(AB - BA));
      expect(await ledger.escrowOf(CARRIER_A, fx.tokenAddress)).to.equal(DEPOSIT + AB - BA);

      const next = new FastPath(new PeriodLifecycle(fx, PERIOD + 1));
      await next.lc.toCommitWindow();
      await expect(next.settle(await next.data(AB, AB))).to.not.emit(ledger, "EscrowMoved");
      expect(await next.lc.state()).to.equal(stateIndex("Settled"));
      expect(await lc.state()).to.equal(stateIndex("Settled"));
    });

    it("supersedes commitments made meanwhile: both committed (Revealing), or one after the commit window", async function () {
      const { fx, lc, fp, ledger, id } = await ended();
      await lc.commit("A", figures(AB, BA));
      await lc.commit("B", figures(AB, BA));
      expect(await lc.state()).to.equal(stateIndex("Revealing"));
      const [hashA, hashB] = [lc.commitment("A", lc.committed.A!), lc.commitment("B", lc.committed.B!)];
      await fp.settle(await fp.data(AB, BA));
      const rec = await ledger.periodRecord(id, PERIOD);
      expect([rec.hashA, rec.hashB, rec.statusA, rec.statusB]).to.deep.equal([hashA, hashB, 0n, 0n]);
      await expect(lc.reveal("A"))
        .to.be.revertedWithCustomError(ledger, "LedgerUnexpectedState")
        .withArgs(id, PERIOD, stateIndex("Settled"), stateBitmap("Revealing"));

      const other = new PeriodLifecycle(fx, PERIOD + 1);
      await other.toCommitWindow();
      await other.commit("B", figures(AB, BA));
      await time.increaseTo(other.end + WINDOWS.commit + 1);
      expect(await other.state()).to.equal(stateIndex("Revealing"));
      const late = new FastPath(other);
      await late.settle(await late.data(AB, BA));
      expect(await other.state()).to.equal(stateIndex("Settled"));
    });

    it("counts more signatures than the threshold, and a threshold lowered after signing", async function () {
      const { fx, fp, ledger } = await ended();
      const data = await fp.data(AB, BA);
      await expect(
        ledger.settleFastPath(
          data,
          await fp.sign(data, fx.A.officers),
          await fp.sign(data, [fx.B.officers[2]!, fx.B.officers[0]!]),
        ),
      )
        .to.emit(ledger, "FastPathSettled")
        .withArgs(fx.agreementId, PERIOD, fx.tokenAddress, data.root, AB, BA, slots(0, 1, 2), slots(0, 2));

      const next = new FastPath(new PeriodLifecycle(fx, PERIOD + 1));
      await next.lc.toCommitWindow();
      const later = await next.data(AB, BA);
      const oneA = await next.sign(later, [fx.A.officers[2]!]);
      await updateOfficers(fx, fx.A, { threshold: 1 });
      await ledger.settleFastPath(later, oneA, await next.sign(later, fx.B.officers.slice(0, 2)));
      expect(await next.lc.state()).to.equal(stateIndex("Settled"));
    });

    it("accepts signatures up to their deadline's last second", async function () {
      const { fx, fp, ledger } = await ended();
      const deadline = BigInt((await time.latest()) + 100);
      const data = await fp.data(AB, BA, ethers.id("root"), deadline);
      const [sa, sb] = [
        await fp.sign(data, fx.A.officers.slice(0, 2)),
        await fp.sign(data, fx.B.officers.slice(1)),
      ];
      await time.setNextBlockTimestamp(deadline);
      await expect(ledger.settleFastPath(data, sa, sb)).to.emit(ledger, "FastPathSettled");
    });

    it("settles with 2-of-3 officers on both sides within 150 000 gas", async function () {
      // solidity-coverage's instrumented contracts spend more gas than the real ones.
      if ((hre as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING) this.skip();
      const { fp } = await ended();
      const receipt = await (await fp.settle(await fp.data(AB, BA))).wait();
      expect(receipt!.gasUsed).to.be.lessThanOrEqual(150_000n);
    });
  });

  describe("refuses", function () {
    it("one carrier's signatures only, or fewer than a carrier's threshold", async function () {
      const { fx, fp, ledger } = await ended();
      const data = await fp.data(AB, BA);
      const a = await fp.sign(data, fx.A.officers.slice(0, 2));
      const b = await fp.sign(data, fx.B.officers.slice(0, 2));
      await expect(ledger.settleFastPath(data, a, []))
        .to.be.revertedWithCustomError(ledger, "LedgerBelowThreshold")
        .withArgs(CARRIER_B, 0, 2);
      await expect(ledger.settleFastPath(data, [], b))
        .to.be.revertedWithCustomError(ledger, "LedgerBelowThreshold")
        .withArgs(CARRIER_A, 0, 2);
      await expect(ledger.settleFastPath(data, a.slice(1), b))
        .to.be.revertedWithCustomError(ledger, "LedgerBelowThreshold")
        .withArgs(CARRIER_A, 1, 2);
      await expect(ledger.settleFastPath(data, a, b.slice(0, 1)))
        .to.be.revertedWithCustomError(ledger, "LedgerBelowThreshold")
        .withArgs(CARRIER_B, 1, 2);
    });

    it("a threshold raised after the officers signed (read from the registry at the time)", async function () {
      const { fx, fp, ledger } = await ended();
      const data = await fp.data(AB, BA);
      const [a, b] = [
        await fp.sign(data, fx.A.officers.slice(0, 2)),
        await fp.sign(data, fx.B.officers.slice(0, 2)),
      ];
      await updateOfficers(fx, fx.A, { threshold: 3 });
      await expect(ledger.settleFastPath(data, a, b))
        .to.be.revertedWithCustomError(ledger, "LedgerBelowThreshold")
        .withArgs(CARRIER_A, 2, 3);
    });

    it("a signer who is not a current officer of the carrier: outsider, the other side's, removed", async function () {
      const { fx, fp, ledger } = await ended();
      const data = await fp.data(AB, BA);
      const b = await fp.sign(data, fx.B.officers.slice(0, 2));
      const withA = async (signers: HardhatEthersSigner[]) =>
        ledger.settleFastPath(data, await fp.sign(data, signers), b);
      await expect(withA([fx.A.officers[0]!, fx.outsider]))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotOfficer")
        .withArgs(CARRIER_A, fx.outsider.address);
      await expect(withA([fx.A.officers[0]!, fx.B.officers[2]!]))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotOfficer")
        .withArgs(CARRIER_A, fx.B.officers[2]!.address);
      await expect(withA([fx.C.officers[0]!, fx.C.officers[1]!]))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotOfficer")
        .withArgs(CARRIER_A, fx.C.officers[0]!.address);
      const signedBeforeRemoval = await fp.sign(data, [fx.A.officers[0]!, fx.A.officers[2]!]);
      await updateOfficers(fx, fx.A, { remove: [fx.A.officers[2]!.address], threshold: 2 });
      await expect(ledger.settleFastPath(data, signedBeforeRemoval, b))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotOfficer")
        .withArgs(CARRIER_A, fx.A.officers[2]!.address);
    });

    it("a duplicate signer, within a side or one address signing for both carriers", async function () {
      const { fx, fp, ledger } = await ended();
      const data = await fp.data(AB, BA);
      const [a0, a1] = await fp.sign(data, fx.A.officers.slice(0, 2));
      const b = await fp.sign(data, fx.B.officers.slice(0, 2));
      await expect(ledger.settleFastPath(data, [a0!, a0!], b))
        .to.be.revertedWithCustomError(ledger, "LedgerDuplicateSigner")
        .withArgs(CARRIER_A, fx.A.officers[0]!.address);
      await expect(ledger.settleFastPath(data, [a0!, a1!, a0!], b))
        .to.be.revertedWithCustomError(ledger, "LedgerDuplicateSigner")
        .withArgs(CARRIER_A, fx.A.officers[0]!.address);

      // A's officer 2 also becomes an officer of B: one signature must not count for both carriers.
      const both = fx.A.officers[2]!;
      await updateOfficers(fx, fx.B, { add: [both.address], threshold: 2 });
      const [sBoth] = await fp.sign(data, [both]);
      await expect(ledger.settleFastPath(data, [a0!, sBoth!], [b[0]!, sBoth!]))
        .to.be.revertedWithCustomError(ledger, "LedgerDuplicateSigner")
        .withArgs(CARRIER_B, both.address);
    });

    it("signatures past their deadline", async function () {
      const { fx, fp, ledger } = await ended();
      const deadline = BigInt((await time.latest()) + 100);
      const data = await fp.data(AB, BA, ethers.id("root"), deadline);
      const [a, b] = [
        await fp.sign(data, fx.A.officers.slice(0, 2)),
        await fp.sign(data, fx.B.officers.slice(0, 2)),
      ];
      await time.setNextBlockTimestamp(deadline + 1n);
      await expect(ledger.settleFastPath(data, a, b))
        .to.be.revertedWithCustomError(ledger, "LedgerSettlementExpired")
        .withArgs(deadline);
    });

    it("figures, root or deadline other than the ones signed", async function () {
      const { fx, fp, ledger } = await ended();
      const data = await fp.data(AB, BA);
      const [a, b] = [
        await fp.sign(data, fx.A.officers.slice(0, 2)),
        await fp.sign(data, fx.B.officers.slice(0, 2)),
      ];
      for (const changed of [
        { ...data, amountAB: data.amountAB + 1n },
        { ...data, amountBA: 0n },
        { ...data, root: ethers.id("another summary") },
        { ...data, deadline: data.deadline + 1n },
        { ...data, agreementId: ethers.id("another agreement") },
      ]) {
        const revert =
          changed.agreementId === data.agreementId
            ? expect(ledger.settleFastPath(changed, a, b))
                .to.be.revertedWithCustomError(fx.registry, "RegistryNotOfficer")
                .withArgs(CARRIER_A, anyValue)
            : expect(ledger.settleFastPath(changed, a, b))
                .to.be.revertedWithCustomError(fx.book, "BookNoVersion")
                .withArgs(changed.agreementId, PERIOD);
        await revert;
      }
      await expect(
        ledger.settleFastPath({ ...data, root: ethers.ZeroHash }, a, b),
      ).to.be.revertedWithCustomError(ledger, "LedgerZeroHash");
      await expect(ledger.settleFastPath(data, [a[0]!.slice(0, -2), a[1]!], b))
        .to.be.revertedWithCustomError(fx.registry, "ECDSAInvalidSignatureLength")
        .withArgs(64);
    });

    it("signatures replayed: twice on the period, on a second period, on another agreement, on a second ledger", async function () {
      const { fx, lc, fp, ledger, id } = await ended();
      const data = await fp.data(AB, BA, ethers.id("root"), 2n ** 40n);
      const [a, b] = [
        await fp.sign(data, fx.A.officers.slice(0, 2)),
        await fp.sign(data, fx.B.officers.slice(0, 2)),
      ];

      // A second ledger on the same registry and book: its domain differs, so the signatures recover to others.
      const { ledger: second } = await deploySettlementLedger(
        fx.admin,
        await fx.registry.getAddress(),
        await fx.book.getAddress(),
      );
      await expect(second.settleFastPath(data, a, b))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotOfficer")
        .withArgs(CARRIER_A, anyValue);

      await ledger.settleFastPath(data, a, b);
      await expect(ledger.settleFastPath(data, a, b))
        .to.be.revertedWithCustomError(ledger, "LedgerUnexpectedState")
        .withArgs(id, PERIOD, stateIndex("Settled"), OPEN);
      expect(await lc.state()).to.equal(stateIndex("Settled"));

      await time.increaseTo(new PeriodLifecycle(fx, PERIOD + 1).end);
      await expect(ledger.settleFastPath({ ...data, period: PERIOD + 1 }, a, b))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotOfficer")
        .withArgs(CARRIER_A, anyValue);

      // The same carriers in a second agreement (B as party A): the agreement id is signed, so nothing carries over.
      const { agreementId: other } = await activate(
        fx,
        makeTerms({ ...fx.terms, carrierA: CARRIER_B, carrierB: CARRIER_A, effectiveFrom: PERIOD }),
        undefined,
        "",
        [fx.B, fx.A],
      );
      await expect(ledger.settleFastPath({ ...data, agreementId: other }, b, a))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotOfficer")
        .withArgs(CARRIER_B, anyValue);
    });

    it("before the period ended, and once the round left Committing/Revealing unrevealed (Void)", async function () {
      const fx = await loadFixture(ledgerFixture);
      const lc = new PeriodLifecycle(fx, PERIOD);
      const fp = new FastPath(lc);
      const data = await fp.data(AB, BA, ethers.id("root"), 2n ** 40n);
      const [a, b] = [
        await fp.sign(data, fx.A.officers.slice(0, 2)),
        await fp.sign(data, fx.B.officers.slice(0, 2)),
      ];
      await expect(fx.ledger.settleFastPath(data, a, b))
        .to.be.revertedWithCustomError(fx.ledger, "LedgerUnexpectedState")
        .withArgs(fx.agreementId, PERIOD, stateIndex("Pending"), OPEN);
      await time.increaseTo(lc.end + WINDOWS.commit + 1);
      expect(await lc.state()).to.equal(stateIndex("Void"));
      await expect(fx.ledger.settleFastPath(data, a, b))
        .to.be.revertedWithCustomError(fx.ledger, "LedgerUnexpectedState")
        .withArgs(fx.agreementId, PERIOD, stateIndex("Void"), OPEN);
    });

    it("after a reveal: the commit–reveal round runs to its end", async function () {
      const { fx, lc, fp, ledger, id } = await ended();
      await lc.commit("A", figures(AB, BA));
      await lc.commit("B", figures(AB, BA));
      await lc.reveal("B");
      const data = await fp.data(AB, BA);
      await expect(fp.settle(data))
        .to.be.revertedWithCustomError(ledger, "LedgerAlreadyRevealed")
        .withArgs(id, PERIOD, CARRIER_B);
      await lc.reveal("A");
      expect(await lc.state()).to.equal(stateIndex("Matched"));
      await expect(fp.settle(data))
        .to.be.revertedWithCustomError(ledger, "LedgerUnexpectedState")
        .withArgs(id, PERIOD, stateIndex("Matched"), OPEN);
      void fx;
    });

    it("after A alone revealed", async function () {
      const { lc, fp, ledger, id } = await ended();
      await lc.commit("A", figures(AB, BA));
      await lc.commit("B", figures(AB, BA));
      await lc.reveal("A");
      await expect(fp.settle(await fp.data(AB, BA)))
        .to.be.revertedWithCustomError(ledger, "LedgerAlreadyRevealed")
        .withArgs(id, PERIOD, CARRIER_A);
    });

    it("after an outcome: Mismatched, and the correction round that follows it", async function () {
      const { lc, fp, ledger, id } = await ended();
      await lc.toMismatched();
      await expect(fp.settle(await fp.data(AB, BA)))
        .to.be.revertedWithCustomError(ledger, "LedgerUnexpectedState")
        .withArgs(id, PERIOD, stateIndex("Mismatched"), OPEN);
      await lc.commit("A", figures(AB, BA));
      expect(await lc.state()).to.equal(stateIndex("Committing"));
      await expect(fp.settle(await fp.data(AB, BA)))
        .to.be.revertedWithCustomError(ledger, "LedgerNotFirstRound")
        .withArgs(id, PERIOD, 1);
    });

    it("a period settled by commit–reveal", async function () {
      const { lc, fp, ledger, id } = await ended();
      await lc.toSettled();
      await expect(fp.settle(await fp.data(AB, BA)))
        .to.be.revertedWithCustomError(ledger, "LedgerUnexpectedState")
        .withArgs(id, PERIOD, stateIndex("Settled"), OPEN);
    });

    it("a payer short of escrow, changing nothing", async function () {
      const { fx, lc, fp, ledger } = await ended();
      const data = await fp.data(DEPOSIT + 1n, 0n);
      await expect(fp.settle(data))
        .to.be.revertedWithCustomError(ledger, "LedgerInsufficientEscrow")
        .withArgs(CARRIER_A, fx.tokenAddress, DEPOSIT + 1n, DEPOSIT);
      expect(await lc.state()).to.equal(stateIndex("Committing"));
      expect(await ledger.escrowOf(CARRIER_A, fx.tokenAddress)).to.equal(DEPOSIT);
    });

    it("an invalid period", async function () {
      const { fx, fp, ledger } = await ended();
      const data = { ...(await fp.data(AB, BA)), period: 203013 };
      const [a, b] = [
        await fp.sign(data, fx.A.officers.slice(0, 2)),
        await fp.sign(data, fx.B.officers.slice(0, 2)),
      ];
      await expect(ledger.settleFastPath(data, a, b))
        .to.be.revertedWithCustomError(ledger, "PeriodMathInvalidPeriod")
        .withArgs(203013);
    });
  });

  describe("the typed data and the views it uses", function () {
    it("signs the digest LedgerFastPath.settlementDigest computes for this ledger, and only this ledger", async function () {
      const { fx, fp } = await ended();
      const data = await fp.data(AB, BA);
      const ledgerAddress = await fx.ledger.getAddress();
      const library = LedgerFastPath__factory.connect(
        (await deploySettlementLedger(fx.admin, await fx.registry.getAddress(), await fx.book.getAddress()))
          .libraries["contracts/modules/LedgerFastPath.sol:LedgerFastPath"],
        fx.admin,
      );
      const domain = ledgerDomain(fx.chainId, ledgerAddress);
      const fields = [
        data.agreementId,
        data.period,
        data.root,
        data.amountAB,
        data.amountBA,
        data.deadline,
      ] as const;
      expect(await library.settlementDigest(ledgerAddress, ...fields)).to.equal(
        settlementDigest(domain, data),
      );
      expect(await library.settlementDigest(fx.outsider.address, ...fields)).to.not.equal(
        settlementDigest(domain, data),
      );
      const [sig] = await fp.sign(data, [fx.A.officers[0]!]);
      expect(ethers.recoverAddress(settlementDigest(domain, data), sig!)).to.equal(fx.A.officers[0]!.address);
    });

    it("AgreementBook.settlementTermsAt: the parties, token and windows of termsAt", async function () {
      const { fx } = await ended();
      const [terms] = await fx.book.termsAt(fx.agreementId, PERIOD + 5);
      const compact = await fx.book.settlementTermsAt(fx.agreementId, PERIOD + 5);
      expect([compact.carrierA, compact.carrierB, compact.token]).to.deep.equal([
        terms.carrierA,
        terms.carrierB,
        terms.token,
      ]);
      expect(compact.windows).to.deep.equal(terms.windows);
      await expect(fx.book.settlementTermsAt(fx.agreementId, PERIOD - 1))
        .to.be.revertedWithCustomError(fx.book, "BookNoVersion")
        .withArgs(fx.agreementId, PERIOD - 1);
    });

    it("CarrierRegistry.officerBitmap: the signers' slots and the threshold now", async function () {
      const { fx } = await ended();
      const [o0, o1, o2] = fx.A.officers.map((o) => o.address);
      expect(await fx.registry.officerBitmap(CARRIER_A, [o2!, o0!])).to.deep.equal([slots(0, 2), 2n]);
      expect(await fx.registry.officerBitmap(CARRIER_A, [o1!, o1!])).to.deep.equal([slots(1), 2n]);
      expect(await fx.registry.officerBitmap(CARRIER_C, [])).to.deep.equal([0n, 2n]);
      await expect(fx.registry.officerBitmap(CARRIER_B, [o0!]))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotOfficer")
        .withArgs(CARRIER_B, o0);
    });
  });
});
