import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  CARRIER_A,
  CARRIER_B,
  CARRIER_C,
  PERIOD,
  activate,
  ledgerFixture,
  makeTerms,
} from "./helpers/fixture";

describe("AgreementBook", function () {
  it("activates a version once both carriers reach their thresholds", async function () {
    const fx = await loadFixture(ledgerFixture);
    const terms = makeTerms({ ...fx.terms, toleranceBps: 50 });
    const tx = fx.book.connect(fx.B.officers[0]!).propose(ethers.ZeroHash, CARRIER_B, terms, "ipfs://t2");
    await expect(tx).to.emit(fx.book, "AgreementProposed");
    const log = (await (await tx).wait())!.logs
      .map((l) => fx.book.interface.parseLog(l))
      .find((l) => l?.name === "AgreementProposed");
    const [id, proposalId] = [log!.args[0] as string, log!.args[1] as string];
    await expect(fx.book.connect(fx.B.officers[0]!).approveProposal(proposalId, CARRIER_B))
      .to.be.revertedWithCustomError(fx.book, "BookAlreadyApproved")
      .withArgs(proposalId, CARRIER_B, fx.B.officers[0]!.address);
    await fx.book.connect(fx.A.officers[0]!).approveProposal(proposalId, CARRIER_A);
    await fx.book.connect(fx.A.officers[1]!).approveProposal(proposalId, CARRIER_A);
    expect(await fx.book.versionCount(id)).to.equal(0);
    await expect(fx.book.termsAt(id, PERIOD))
      .to.be.revertedWithCustomError(fx.book, "BookNoVersion")
      .withArgs(id, PERIOD);
    await expect(fx.book.connect(fx.B.officers[2]!).approveProposal(proposalId, CARRIER_B))
      .to.emit(fx.book, "AgreementVersionActivated")
      .withArgs(id, 0, proposalId, PERIOD);
    const [t, cid] = await fx.book.versionOf(id, 0);
    expect([t.toleranceBps, cid]).to.deep.equal([50n, "ipfs://t2"]);
    const p = await fx.book.proposalOf(proposalId);
    expect([p.active, p.activatedVersion, p.agreementId]).to.deep.equal([true, 0n, id]);
    await expect(fx.book.connect(fx.B.officers[1]!).approveProposal(proposalId, CARRIER_B))
      .to.be.revertedWithCustomError(fx.book, "BookUnknownProposal")
      .withArgs(proposalId);
    await expect(fx.book.versionOf(id, 1))
      .to.be.revertedWithCustomError(fx.book, "BookNoVersion")
      .withArgs(id, 0);
  });

  it("refuses invalid terms, naming the field", async function () {
    const fx = await loadFixture(ledgerFixture);
    const base = fx.terms;
    const cases: [Parameters<typeof makeTerms>[0], number][] = [
      [{ carrierB: CARRIER_A }, 1],
      [{ carrierB: ethers.encodeBytes32String("ghost") }, 1],
      [{ carrierA: ethers.encodeBytes32String("ghost") }, 1],
      [{ token: fx.outsider.address }, 2],
      [{ arbiter: fx.outsider.address }, 3],
      [{ toleranceBps: 10_001 }, 4],
      [{ windows: { ...base.windows, commit: 0 } }, 5],
      [{ windows: { ...base.windows, reveal: 0 } }, 5],
      [{ windows: { ...base.windows, reconcile: 0 } }, 5],
      [{ windows: { ...base.windows, dispute: 0 } }, 5],
      [{ windows: { ...base.windows, response: 0 } }, 5],
      [{ windows: { ...base.windows, arbitration: 0 } }, 5],
      [{ effectiveFrom: 203000 }, 6],
    ];
    for (const [o, reason] of cases) {
      await expect(
        fx.book
          .connect(fx.A.officers[0]!)
          .propose(ethers.ZeroHash, CARRIER_A, makeTerms({ ...base, ...o }), ""),
      )
        .to.be.revertedWithCustomError(fx.book, "BookInvalidTerms")
        .withArgs(reason);
    }
    await expect(
      fx.book
        .connect(fx.A.officers[0]!)
        .propose(fx.agreementId, CARRIER_A, makeTerms({ ...base, carrierB: CARRIER_C }), ""),
    )
      .to.be.revertedWithCustomError(fx.book, "BookInvalidTerms")
      .withArgs(7);
    await expect(fx.book.connect(fx.A.officers[0]!).propose(ethers.id("nope"), CARRIER_A, base, ""))
      .to.be.revertedWithCustomError(fx.book, "BookNoVersion")
      .withArgs(ethers.id("nope"), PERIOD);
    await expect(fx.book.connect(fx.C.officers[0]!).propose(ethers.ZeroHash, CARRIER_C, base, ""))
      .to.be.revertedWithCustomError(fx.book, "BookNotParty")
      .withArgs(anyId(), CARRIER_C);
  });

  it("refuses approvals of unknown proposals and of non-parties", async function () {
    const fx = await loadFixture(ledgerFixture);
    await expect(fx.book.connect(fx.A.officers[0]!).approveProposal(ethers.id("x"), CARRIER_A))
      .to.be.revertedWithCustomError(fx.book, "BookUnknownProposal")
      .withArgs(ethers.id("x"));
    const tx = await fx.book.connect(fx.A.officers[0]!).propose(ethers.ZeroHash, CARRIER_A, fx.terms, "");
    const log = (await tx.wait())!.logs
      .map((l) => fx.book.interface.parseLog(l))
      .find((l) => l?.name === "AgreementProposed");
    await expect(fx.book.connect(fx.C.officers[0]!).approveProposal(log!.args[1] as string, CARRIER_C))
      .to.be.revertedWithCustomError(fx.book, "BookNotParty")
      .withArgs(log!.args[0] as string, CARRIER_C);
  });

  it("amends only from a later period than both the latest version and the current month", async function () {
    const fx = await loadFixture(ledgerFixture);
    await expect(activate(fx, makeTerms({ ...fx.terms, effectiveFrom: PERIOD }), fx.agreementId))
      .to.be.revertedWithCustomError(fx.book, "BookInvalidEffectivePeriod")
      .withArgs(PERIOD, PERIOD);
    await time.increaseTo(Date.UTC(2030, 5, 1) / 1000); // June 2030
    await expect(activate(fx, makeTerms({ ...fx.terms, effectiveFrom: 203006 }), fx.agreementId))
      .to.be.revertedWithCustomError(fx.book, "BookInvalidEffectivePeriod")
      .withArgs(203006, PERIOD);
    await activate(fx, makeTerms({ ...fx.terms, effectiveFrom: 203007 }), fx.agreementId);
    expect(await fx.book.versionCount(fx.agreementId)).to.equal(2);
    const [, v] = await fx.book.termsAt(fx.agreementId, 203012);
    expect(v).to.equal(1);
    void CARRIER_B;
  });

  describe("L-1: proposals expire and can be cancelled", function () {
    async function proposed() {
      const fx = await loadFixture(ledgerFixture);
      const terms = makeTerms({ ...fx.terms, toleranceBps: 75, effectiveFrom: 203007 });
      const tx = await fx.book
        .connect(fx.A.officers[0]!)
        .propose(fx.agreementId, CARRIER_A, terms, "ipfs://v2");
      const log = (await tx.wait())!.logs
        .map((l) => fx.book.interface.parseLog(l))
        .find((l) => l?.name === "AgreementProposed");
      const proposalId = log!.args[1] as string;
      const proposedAt = Number((await fx.book.proposalOf(proposalId)).proposedAt);
      return { fx, proposalId, proposedAt };
    }

    it("an old proposal nobody acted on cannot be approved into force months later", async function () {
      const { fx, proposalId, proposedAt } = await proposed();
      const lifetime = Number(await fx.book.PROPOSAL_LIFETIME());
      expect(lifetime).to.equal(30 * 86_400);
      await time.increaseTo(proposedAt + lifetime + 1);
      await expect(fx.book.connect(fx.B.officers[0]!).approveProposal(proposalId, CARRIER_B))
        .to.be.revertedWithCustomError(fx.book, "BookProposalClosed")
        .withArgs(proposalId, proposedAt + lifetime);
    });

    it("either party's officer cancels it, after which no approval counts", async function () {
      const { fx, proposalId } = await proposed();
      await expect(
        fx.book.connect(fx.C.officers[0]!).cancelProposal(proposalId, CARRIER_C),
      ).to.be.revertedWithCustomError(fx.book, "BookNotParty");
      await expect(fx.book.connect(fx.A.officers[0]!).cancelProposal(proposalId, CARRIER_B))
        .to.be.revertedWithCustomError(fx.book, "BookNotOfficer")
        .withArgs(CARRIER_B, fx.A.officers[0]!.address);
      await expect(fx.book.connect(fx.B.officers[0]!).cancelProposal(proposalId, CARRIER_B))
        .to.emit(fx.book, "ProposalCancelled")
        .withArgs(proposalId, CARRIER_B, fx.B.officers[0]!.address);
      expect((await fx.book.proposalOf(proposalId)).cancelled).to.equal(true);
      for (const officer of fx.B.officers.slice(0, 2)) {
        await expect(fx.book.connect(officer).approveProposal(proposalId, CARRIER_B))
          .to.be.revertedWithCustomError(fx.book, "BookProposalClosed")
          .withArgs(proposalId, 0);
      }
      await expect(
        fx.book.connect(fx.A.officers[0]!).cancelProposal(proposalId, CARRIER_A),
      ).to.be.revertedWithCustomError(fx.book, "BookProposalClosed");
      expect(await fx.book.versionCount(fx.agreementId)).to.equal(1);
    });

    it("an active version's proposal can no longer be cancelled", async function () {
      const fx = await loadFixture(ledgerFixture);
      const terms = makeTerms({ ...fx.terms, effectiveFrom: 203007 });
      await activate(fx, terms, fx.agreementId);
      const events = await fx.book.queryFilter(fx.book.filters.AgreementVersionActivated());
      const proposalId = events.at(-1)!.args.proposalId;
      await expect(fx.book.connect(fx.A.officers[0]!).cancelProposal(proposalId, CARRIER_A))
        .to.be.revertedWithCustomError(fx.book, "BookUnknownProposal")
        .withArgs(proposalId);
    });
  });
});

function anyId(): (x: unknown) => boolean {
  return (x: unknown) => typeof x === "string" && x.length === 66;
}
