import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { CARRIER_A, CARRIER_B, UNKNOWN_CARRIER, ledgerFixture, type LedgerFixture } from "./helpers/fixture";
import {
  NODE_UPDATE_TYPES,
  OFFICER_UPDATE_TYPES,
  registryDomain,
  type NodeUpdateData,
  type OfficerUpdateData,
} from "../../node/src/protocol";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

const NEW_CARRIER = ethers.encodeBytes32String("CARRIER-NEW");

async function update(
  fx: LedgerFixture,
  overrides: Partial<OfficerUpdateData> = {},
): Promise<OfficerUpdateData> {
  return {
    carrierId: CARRIER_A,
    add: [],
    remove: [],
    threshold: 2,
    treasury: ethers.ZeroAddress,
    nonce: await fx.registry.officerNonce(overrides.carrierId ?? CARRIER_A),
    deadline: BigInt((await time.latest()) + 600),
    ...overrides,
  };
}

async function sign(
  fx: LedgerFixture,
  u: OfficerUpdateData,
  signers: HardhatEthersSigner[],
): Promise<string[]> {
  const domain = registryDomain(fx.chainId, await fx.registry.getAddress());
  return Promise.all(signers.map((s) => s.signTypedData(domain, OFFICER_UPDATE_TYPES, u)));
}

describe("CarrierRegistry", function () {
  describe("registerCarrier", function () {
    it("registers a carrier with officers, threshold and nodes", async function () {
      const fx = await loadFixture(ledgerFixture);
      const [o1, o2, node] = [fx.outsider.address, fx.admin.address, ethers.Wallet.createRandom().address];
      await expect(fx.registry.registerCarrier(NEW_CARRIER, o1, [o1, o2], 1, [node]))
        .to.emit(fx.registry, "CarrierRegistered")
        .withArgs(NEW_CARRIER, o1)
        .and.to.emit(fx.registry, "OfficerAdded")
        .withArgs(NEW_CARRIER, o2, 1)
        .and.to.emit(fx.registry, "ThresholdChanged")
        .withArgs(NEW_CARRIER, 1)
        .and.to.emit(fx.registry, "NodeSet")
        .withArgs(NEW_CARRIER, node, true);
      expect(await fx.registry.officersOf(NEW_CARRIER)).to.deep.equal([o1, o2]);
      expect(await fx.registry.carrierOfNode(node)).to.equal(NEW_CARRIER);
      expect(await fx.registry.thresholdOf(NEW_CARRIER)).to.equal(1);
      expect(await fx.registry.treasuryOf(NEW_CARRIER)).to.equal(o1);
    });

    it("refuses invalid registrations", async function () {
      const fx = await loadFixture(ledgerFixture);
      const r = fx.registry;
      const o = fx.outsider.address;
      await expect(r.registerCarrier(CARRIER_A, o, [o], 1, []))
        .to.be.revertedWithCustomError(r, "RegistryCarrierExists")
        .withArgs(CARRIER_A);
      await expect(r.registerCarrier(ethers.ZeroHash, o, [o], 1, []))
        .to.be.revertedWithCustomError(r, "RegistryZeroValue")
        .withArgs();
      await expect(r.registerCarrier(NEW_CARRIER, ethers.ZeroAddress, [o], 1, []))
        .to.be.revertedWithCustomError(r, "RegistryZeroValue")
        .withArgs();
      await expect(r.registerCarrier(NEW_CARRIER, o, [ethers.ZeroAddress], 1, []))
        .to.be.revertedWithCustomError(r, "RegistryZeroValue")
        .withArgs();
      await expect(r.registerCarrier(NEW_CARRIER, o, [o, o], 1, []))
        .to.be.revertedWithCustomError(r, "RegistryOfficerExists")
        .withArgs(NEW_CARRIER, o);
      await expect(r.registerCarrier(NEW_CARRIER, o, [o], 2, []))
        .to.be.revertedWithCustomError(r, "RegistryInvalidThreshold")
        .withArgs(NEW_CARRIER, 2, 1);
      await expect(r.registerCarrier(NEW_CARRIER, o, [o], 0, []))
        .to.be.revertedWithCustomError(r, "RegistryInvalidThreshold")
        .withArgs(NEW_CARRIER, 0, 1);
      await expect(r.registerCarrier(NEW_CARRIER, o, [o], 1, [fx.A.node.address]))
        .to.be.revertedWithCustomError(r, "RegistryNodeTaken")
        .withArgs(fx.A.node.address, CARRIER_A);
    });

    it("caps a carrier at 256 officer slots over its lifetime", async function () {
      const fx = await loadFixture(ledgerFixture);
      const officers = Array.from({ length: 256 }, (_, i) => ethers.zeroPadValue(ethers.toBeHex(i + 1), 20));
      await fx.registry.registerCarrier(NEW_CARRIER, fx.outsider.address, officers, 1, []);
      await expect(
        fx.registry.registerCarrier(
          ethers.id("x"),
          fx.outsider.address,
          [...officers, fx.outsider.address],
          1,
          [],
        ),
      )
        .to.be.revertedWithCustomError(fx.registry, "RegistryOfficerLimit")
        .withArgs(ethers.id("x"));
    });
  });

  describe("updateNodes (M-5: M-of-N, without the admin)", function () {
    async function nodeUpdate(
      fx: LedgerFixture,
      over: Partial<NodeUpdateData> = {},
    ): Promise<NodeUpdateData> {
      return {
        carrierId: CARRIER_A,
        add: [],
        remove: [],
        nonce: await fx.registry.officerNonce(over.carrierId ?? CARRIER_A),
        deadline: BigInt((await time.latest()) + 3600),
        ...over,
      };
    }
    async function signNodes(fx: LedgerFixture, u: NodeUpdateData, signers: HardhatEthersSigner[]) {
      const domain = registryDomain(fx.chainId, await fx.registry.getAddress());
      return Promise.all(signers.map((s) => s.signTypedData(domain, NODE_UPDATE_TYPES, u)));
    }

    it("the carrier's officers at their threshold add and remove nodes; the nonce is the officers' one", async function () {
      const fx = await loadFixture(ledgerFixture);
      const node = ethers.Wallet.createRandom().address;
      const u = await nodeUpdate(fx, { add: [node], remove: [fx.A.node.address] });
      expect(await fx.registry.nodeUpdateDigest(u)).to.equal(
        ethers.TypedDataEncoder.hash(
          registryDomain(fx.chainId, await fx.registry.getAddress()),
          NODE_UPDATE_TYPES,
          u,
        ),
      );
      const sigs = await signNodes(fx, u, fx.A.officers.slice(0, 2));
      await expect(fx.registry.updateNodes(u, sigs))
        .to.emit(fx.registry, "NodeSet")
        .withArgs(CARRIER_A, node, true)
        .and.to.emit(fx.registry, "NodeSet")
        .withArgs(CARRIER_A, fx.A.node.address, false)
        .and.to.emit(fx.registry, "NodesUpdated");
      expect(await fx.registry.carrierOfNode(node)).to.equal(CARRIER_A);
      expect(await fx.registry.carrierOfNode(fx.A.node.address)).to.equal(ethers.ZeroHash);
      await expect(fx.registry.updateNodes(u, sigs))
        .to.be.revertedWithCustomError(fx.registry, "RegistryBadNonce")
        .withArgs(CARRIER_A, u.nonce + 1n, u.nonce);
    });

    it("refuses one officer alone, another carrier's officers, the admin, a taken node and a zero address", async function () {
      const fx = await loadFixture(ledgerFixture);
      const node = ethers.Wallet.createRandom().address;
      const u = await nodeUpdate(fx, { add: [node] });
      await expect(fx.registry.updateNodes(u, await signNodes(fx, u, [fx.A.officers[0]!])))
        .to.be.revertedWithCustomError(fx.registry, "RegistryInsufficientSignatures")
        .withArgs(CARRIER_A, 1, 2);
      await expect(fx.registry.updateNodes(u, await signNodes(fx, u, [fx.admin, fx.A.officers[0]!])))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotOfficer")
        .withArgs(CARRIER_A, fx.admin.address);
      await expect(fx.registry.updateNodes(u, await signNodes(fx, u, fx.B.officers.slice(0, 2))))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotOfficer")
        .withArgs(CARRIER_A, fx.B.officers[0]!.address);
      const taken = await nodeUpdate(fx, { add: [fx.B.node.address] });
      await expect(fx.registry.updateNodes(taken, await signNodes(fx, taken, fx.A.officers.slice(0, 2))))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNodeTaken")
        .withArgs(fx.B.node.address, CARRIER_B);
      const zero = await nodeUpdate(fx, { add: [ethers.ZeroAddress] });
      await expect(
        fx.registry.updateNodes(zero, await signNodes(fx, zero, fx.A.officers.slice(0, 2))),
      ).to.be.revertedWithCustomError(fx.registry, "RegistryZeroValue");
      const unknown = await nodeUpdate(fx, { carrierId: UNKNOWN_CARRIER, add: [node] });
      await expect(fx.registry.updateNodes(unknown, []))
        .to.be.revertedWithCustomError(fx.registry, "RegistryUnknownCarrier")
        .withArgs(UNKNOWN_CARRIER);
      const late = await nodeUpdate(fx, { add: [node], deadline: BigInt(await time.latest()) - 1n });
      await expect(fx.registry.updateNodes(late, await signNodes(fx, late, fx.A.officers.slice(0, 2))))
        .to.be.revertedWithCustomError(fx.registry, "RegistryExpired")
        .withArgs(late.deadline);
      // The attack of M-5: the admin (or one officer) adding a node that commits for the carrier.
      expect(ethers.Interface.from(fx.registry.interface.fragments).getFunction("setNode")).to.equal(null);
    });
  });

  describe("updateOfficers (M-of-N without the admin)", function () {
    it("adds and removes officers, changes threshold and treasury", async function () {
      const fx = await loadFixture(ledgerFixture);
      const newcomer = fx.outsider.address;
      const [o0, o1, o2] = fx.A.officers;
      const u = await update(fx, {
        add: [newcomer],
        remove: [o0!.address],
        threshold: 3,
        treasury: newcomer,
      });
      expect(await fx.registry.officerUpdateDigest(u)).to.equal(
        ethers.TypedDataEncoder.hash(
          registryDomain(fx.chainId, await fx.registry.getAddress()),
          OFFICER_UPDATE_TYPES,
          u,
        ),
      );
      const sigs = await sign(fx, u, [o1!, o2!]);
      await expect(fx.registry.connect(fx.outsider).updateOfficers(u, sigs))
        .to.emit(fx.registry, "OfficerRemoved")
        .withArgs(CARRIER_A, o0!.address, 0)
        .and.to.emit(fx.registry, "OfficerAdded")
        .withArgs(CARRIER_A, newcomer, 3)
        .and.to.emit(fx.registry, "ThresholdChanged")
        .withArgs(CARRIER_A, 3)
        .and.to.emit(fx.registry, "TreasuryChanged")
        .withArgs(CARRIER_A, newcomer)
        .and.to.emit(fx.registry, "OfficersUpdated")
        .withArgs(CARRIER_A, 0, [o1!.address, o2!.address]);
      expect(await fx.registry.officersOf(CARRIER_A)).to.deep.equal([o1!.address, o2!.address, newcomer]);
      expect(await fx.registry.isOfficer(CARRIER_A, o0!.address)).to.equal(false);
      expect(await fx.registry.officerNonce(CARRIER_A)).to.equal(1);
      await expect(fx.registry.updateOfficers(u, sigs))
        .to.be.revertedWithCustomError(fx.registry, "RegistryBadNonce")
        .withArgs(CARRIER_A, 1, 0);
      // same threshold, same treasury: no change events
      const u2 = await update(fx, { threshold: 3, treasury: newcomer });
      await expect(fx.registry.updateOfficers(u2, await sign(fx, u2, [o1!, o2!, fx.outsider]))).to.not.emit(
        fx.registry,
        "TreasuryChanged",
      );
    });

    it("refuses updates with too few, duplicate, foreign or expired signatures", async function () {
      const fx = await loadFixture(ledgerFixture);
      const [o0, o1] = fx.A.officers;
      const u = await update(fx, { threshold: 1 });
      const [s0] = await sign(fx, u, [o0!]);
      await expect(fx.registry.updateOfficers(u, [s0!]))
        .to.be.revertedWithCustomError(fx.registry, "RegistryInsufficientSignatures")
        .withArgs(CARRIER_A, 1, 2);
      await expect(fx.registry.updateOfficers(u, [s0!, s0!]))
        .to.be.revertedWithCustomError(fx.registry, "RegistryInsufficientSignatures")
        .withArgs(CARRIER_A, 1, 2);
      const [foreign] = await sign(fx, u, [fx.B.officers[0]!]);
      await expect(fx.registry.updateOfficers(u, [s0!, foreign!]))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotOfficer")
        .withArgs(CARRIER_A, fx.B.officers[0]!.address);
      const expired = await update(fx, { deadline: BigInt(await time.latest()) });
      await expect(fx.registry.updateOfficers(expired, await sign(fx, expired, [o0!, o1!])))
        .to.be.revertedWithCustomError(fx.registry, "RegistryExpired")
        .withArgs(expired.deadline);
      const unknown = await update(fx, { carrierId: UNKNOWN_CARRIER });
      await expect(fx.registry.updateOfficers(unknown, []))
        .to.be.revertedWithCustomError(fx.registry, "RegistryUnknownCarrier")
        .withArgs(UNKNOWN_CARRIER);
      const tooHigh = await update(fx, { remove: [o0!.address], threshold: 3 });
      await expect(fx.registry.updateOfficers(tooHigh, await sign(fx, tooHigh, [o0!, o1!])))
        .to.be.revertedWithCustomError(fx.registry, "RegistryInvalidThreshold")
        .withArgs(CARRIER_A, 3, 2);
      const stranger = await update(fx, { remove: [fx.outsider.address] });
      await expect(fx.registry.updateOfficers(stranger, await sign(fx, stranger, [o0!, o1!])))
        .to.be.revertedWithCustomError(fx.registry, "RegistryNotOfficer")
        .withArgs(CARRIER_A, fx.outsider.address);
    });
  });

  describe("roles and tokens", function () {
    it("lists tokens and tells who may arbitrate", async function () {
      const fx = await loadFixture(ledgerFixture);
      const t = fx.outsider.address;
      await expect(fx.registry.setToken(t, true)).to.emit(fx.registry, "TokenListed").withArgs(t, true);
      expect(await fx.registry.isTokenListed(t)).to.equal(true);
      await expect(fx.registry.setToken(ethers.ZeroAddress, true))
        .to.be.revertedWithCustomError(fx.registry, "RegistryZeroValue")
        .withArgs();
      expect(await fx.registry.canArbitrate(fx.arbiter.address)).to.equal(true);
      expect(await fx.registry.canArbitrate(fx.regulator.address)).to.equal(true);
      expect(await fx.registry.canArbitrate(fx.outsider.address)).to.equal(false);
      expect(await fx.registry.isRegistered(CARRIER_B)).to.equal(true);
      expect(await fx.registry.defaultAdmin()).to.equal(fx.admin.address);
    });
  });
});
