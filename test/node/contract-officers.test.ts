/**
 * Officers that are contract wallets (ERC-1271, a stand-in for a Safe: contracts/mocks/ERC1271WalletMock.sol)
 * as the node sees them, on a Hardhat chain with two carrier nodes: carrier A replaces its officer 2 by a
 * wallet owned by account 18. The node accepts the wallet's approval and fast-path Settlement signatures
 * only when the wallet itself validates them (chain/officer-signer.ts), counts them towards A's threshold
 * and submits them, and the ledger takes them; a wallet that says no, reverts or is no contract is refused
 * by name, and nothing is kept.
 */
import { expect } from "chai";
import { JsonRpcProvider, Network, ZeroAddress, type Wallet } from "ethers";
import {
  CARRIER_A,
  CARRIER_B,
  PERIOD,
  TcpProxy,
  fundCarrier,
  hardhatWallet,
  scriptLedger,
  startHardhatNode,
  type HardhatNode,
  type ScriptedLedger,
} from "../helpers/hardhat";
import { officerSigner } from "../../node/src/chain/officer-signer";
import { requireAgreement } from "../../node/src/db/agreements";
import { listSettlementSignatures } from "../../node/src/db/fast-path";
import { BaseError, ConflictError, InputError } from "../../node/src/errors";
import {
  APPROVAL_TYPES,
  OFFICER_UPDATE_TYPES,
  SETTLEMENT_TYPES,
  contractSignature,
  officerSlotsOf,
  registryDomain,
  settledByFastPath,
  stateIndex,
} from "../../node/src/protocol";
import {
  acceptSignature,
  prepareApproval,
  signApproval,
  submitIfReady,
} from "../../node/src/settlement/approvals";
import {
  acceptSettlementSignature,
  gatheredSignatures,
  ourSettlement,
  signSettlement,
} from "../../node/src/settlement/cosign";
import { loadPeriodContext } from "../../node/src/settlement/period-context";
import { ERC1271WalletMock__factory } from "../../typechain-types";
import { primaryTarget } from "../helpers/databases";
import { closePairPeriod, settlePair, startPair, stopPair, type PairNode } from "../helpers/carrier-pair";
import { generateCalls } from "../../scripts/lib/traffic";

const SECRET = Buffer.from("7d".repeat(32), "hex");

/** What a call threw (or null): the assertions name the error, not just that one came. */
async function thrown(promise: Promise<unknown>): Promise<BaseError | null> {
  return promise.then(
    () => null,
    (error: unknown) => {
      if (!(error instanceof BaseError)) throw error;
      return error;
    },
  );
}

describe("contract officers (ERC-1271) through the node", function () {
  this.timeout(300_000);
  const target = primaryTarget();
  let hardhat: HardhatNode;
  let fx: ScriptedLedger;
  let a: PairNode;
  let b: PairNode;
  /** Carrier A's officer wallet (owner: account 18), and its owner's key. */
  let wallet: string;
  let owner: Wallet;
  /** A key that owns no wallet: its signatures are what a wallet refuses. */
  let stranger: Wallet;
  const w = (i: number) => hardhatWallet(i, hardhat.provider);

  before(async () => {
    hardhat = await startHardhatNode();
    fx = await scriptLedger(hardhat.provider, { toleranceAbs: 1_000n });
    ({ a, b } = await startPair({ target, hardhat, fx, secret: SECRET }));
    for (const carrier of [CARRIER_A, CARRIER_B])
      await fundCarrier(hardhat.provider, fx, carrier, 10n ** 12n);
    owner = w(18);
    stranger = w(19);
    const admin = await hardhat.provider.getSigner(0);
    const mock = await new ERC1271WalletMock__factory(admin).deploy(owner.address, false);
    await mock.waitForDeployment();
    wallet = await mock.getAddress();
    // Carrier A's officers 1 and 2 replace officer 2 by the wallet (threshold stays 2).
    const registry = fx.deployment.registry.connect(admin);
    const update = {
      carrierId: CARRIER_A,
      add: [wallet],
      remove: [w(2).address],
      threshold: 2,
      treasury: ZeroAddress,
      nonce: await registry.officerNonce(CARRIER_A),
      deadline: BigInt((await hardhat.provider.getBlock("latest"))!.timestamp + 3600),
    };
    const domain = registryDomain(fx.addresses.chainId, fx.addresses.registry);
    const signatures = [
      await w(1).signTypedData(domain, OFFICER_UPDATE_TYPES, update),
      await w(2).signTypedData(domain, OFFICER_UPDATE_TYPES, update),
    ];
    await (await registry.updateOfficers(update, signatures)).wait();
    expect(await registry.isOfficer(CARRIER_A, wallet)).to.equal(true);
    expect(await registry.isOfficer(CARRIER_A, w(2).address)).to.equal(false);
  });
  after(async () => {
    await stopPair(a, b);
    await hardhat?.stop();
    await target.cleanup();
  });

  const ledger = () => fx.deployment.ledger.connect(hardhat.provider);

  describe("officerSigner: who signed a digest", () => {
    const digest = "0x" + "ab".repeat(32);
    /** The wallet's owner signs the digest itself, as the mock (like a Safe's owners) validates it. */
    const ownerSigns = (key: Wallet) => key.signingKey.sign(digest).serialized;

    it("the key of an ECDSA signature, the wallet of a contract officer's signature it validates", async () => {
      expect(await officerSigner(a.chain, digest, ownerSigns(w(1)))).to.equal(w(1).address);
      expect(await officerSigner(a.chain, digest, contractSignature(wallet, ownerSigns(owner)))).to.equal(
        wallet,
      );
    });

    it("refuses, naming the wallet, a signature the wallet does not validate, a wallet that reverts, and an address with no wallet", async () => {
      const no = await thrown(
        officerSigner(a.chain, digest, contractSignature(wallet, ownerSigns(stranger))),
      );
      expect(no).to.be.instanceOf(ConflictError);
      expect(no!.shortMessage).to.equal(
        `refused: the contract officer ${wallet} does not validate the signature (ERC-1271)`,
      );
      expect(no!.details).to.equal(
        "its isValidSignature answered 0xffffffff, not the magic value 0x1626ba7e",
      );
      // The agreement book has no isValidSignature: the call reverts.
      const reverts = await thrown(
        officerSigner(a.chain, digest, contractSignature(fx.addresses.book, ownerSigns(owner))),
      );
      expect(reverts).to.be.instanceOf(ConflictError);
      expect(reverts!.shortMessage).to.contain(`the contract officer ${fx.addresses.book} does not validate`);
      expect(reverts!.details).to.match(/^its isValidSignature reverted/);
      const nobody = await thrown(
        officerSigner(a.chain, digest, contractSignature(stranger.address, ownerSigns(stranger))),
      );
      expect(nobody).to.be.instanceOf(ConflictError);
      expect(nobody!.details).to.contain("no contract at that address");
    });

    it("refuses a malformed signature as bad input, and reports an unreachable chain as retryable", async () => {
      const compact = w(1).signingKey.sign(digest).compactSerialized; // 64 bytes: the contracts refuse it
      for (const signature of [compact, "0x1234", "not hex", "0x" + "ff".repeat(100)]) {
        const error = await thrown(officerSigner(a.chain, digest, signature));
        expect(error, signature).to.be.instanceOf(InputError);
        expect(error!.shortMessage).to.contain("field signature: the signature is neither a 65-byte ECDSA");
      }
      const proxy = await TcpProxy.start(hardhat.port);
      const provider = new JsonRpcProvider(proxy.url, Network.from(31337), { staticNetwork: true });
      try {
        await proxy.close();
        const down = await thrown(
          officerSigner({ provider }, digest, contractSignature(wallet, ownerSigns(owner))),
        );
        expect(down?.code).to.equal("RPC_UNAVAILABLE");
        expect(down?.retryable).to.equal(true);
      } finally {
        provider.destroy();
        await proxy.close();
      }
    });
  });

  it("an approval: the wallet's signature counts towards the threshold and approveWithSignatures confirms; a refused one is not kept", async () => {
    const period = PERIOD;
    await closePairPeriod({ hardhat, fx, secret: SECRET }, [a, b], period, generateCalls(period, 200, 31));
    await settlePair(a, b);
    expect(await ledger().state(fx.agreementId, period)).to.equal(stateIndex("Matched"));
    const agreement = await requireAgreement(a.db, "A-B");
    const ctx = await loadPeriodContext(a.chain, agreement, period);
    const { approval } = await prepareApproval(a.db, a.chain, ctx, false);
    const inner = (key: Wallet) => key.signTypedData(a.chain.ledgerDomain, APPROVAL_TYPES, approval);
    const kept = async () =>
      (
        await a.db.query<{ officer: string }>(
          "SELECT officer FROM officer_approvals WHERE period = $1 ORDER BY officer",
          [period],
        )
      ).rows.map((r) => r.officer);

    const refused = await thrown(
      acceptSignature(a.db, a.chain, ctx, approval, contractSignature(wallet, await inner(stranger))),
    );
    expect(refused).to.be.instanceOf(ConflictError);
    expect(refused!.shortMessage).to.contain(
      `the contract officer ${wallet} does not validate the signature`,
    );
    expect(await kept()).to.deep.equal([]);

    expect(
      await acceptSignature(a.db, a.chain, ctx, approval, await signApproval(a.chain, w(1), approval)),
    ).to.equal(w(1).address);
    expect((await submitIfReady(a.db, a.chain, ctx, approval)).status).to.equal("waiting");
    const signature = contractSignature(wallet, await inner(owner));
    expect(await acceptSignature(a.db, a.chain, ctx, approval, signature)).to.equal(wallet);
    const progress = await submitIfReady(a.db, a.chain, ctx, approval);
    expect(progress).to.deep.include({ status: "submitted", threshold: 2 });
    expect(progress.signers).to.have.members([w(1).address, wallet]);
    expect(await kept()).to.have.members([w(1).address, wallet]);

    // On chain: the transaction carried the wallet's signature and carrier A now counts as approved.
    const receipt = await hardhat.provider.getTransactionReceipt(progress.txHash!);
    expect(receipt?.status).to.equal(1);
    const tx = await hardhat.provider.getTransaction(progress.txHash!);
    const call = ledger().interface.parseTransaction(tx!)!;
    expect(call.name).to.equal("approveWithSignatures");
    expect((call.args[1] as string[]).map((s) => s.toLowerCase())).to.include(signature.toLowerCase());
    const onChain = await ledger().approvalsOf(fx.agreementId, period, CARRIER_A, false);
    expect([onChain.approved, Number(onChain.count)]).to.deep.equal([true, 2]);
  });

  it("a fast-path Settlement: the wallet's signature is kept on both nodes and settles the period; a refused one is not kept", async () => {
    const period = PERIOD + 1;
    await closePairPeriod({ hardhat, fx, secret: SECRET }, [a, b], period, generateCalls(period, 200, 32), {
      commit: false,
    });
    const settlement = await ourSettlement(a.db, a.chain, await requireAgreement(a.db, "A-B"), period);
    const now = BigInt((await hardhat.provider.getBlock("latest"))!.timestamp);
    const inner = (key: Wallet) => key.signTypedData(a.chain.ledgerDomain, SETTLEMENT_TYPES, settlement);
    const keptFor = async (node: PairNode, carrier: string) =>
      (await listSettlementSignatures(node.db, fx.agreementId, period, carrier)).map((s) => s.officer);
    const accept = (node: PairNode, carrier: string, signature: string) =>
      acceptSettlementSignature(node.db, node.chain, settlement, carrier.toLowerCase(), signature, now);

    const refused = await thrown(accept(a, CARRIER_A, contractSignature(wallet, await inner(stranger))));
    expect(refused).to.be.instanceOf(ConflictError);
    expect(refused!.shortMessage).to.contain(
      `the contract officer ${wallet} does not validate the signature`,
    );
    expect(await keptFor(a, CARRIER_A)).to.deep.equal([]);

    expect(await accept(a, CARRIER_A, await signSettlement(a.chain, w(1), settlement))).to.equal(
      w(1).address.toLowerCase(),
    );
    expect(await accept(a, CARRIER_A, contractSignature(wallet, await inner(owner)))).to.equal(
      wallet.toLowerCase(),
    );
    for (const officer of [5, 8])
      await accept(b, CARRIER_B, await signSettlement(b.chain, w(officer), settlement));

    const done = await settlePair(a, b);
    const submitted = [...done.a, ...done.b].flatMap((r) => r.fastPath).filter((s) => s.step === "submitted");
    expect(submitted, JSON.stringify(done.a.flatMap((r) => r.fastPath))).to.have.length(1);
    expect(await ledger().state(fx.agreementId, period)).to.equal(stateIndex("Settled"));
    expect(settledByFastPath(await ledger().periodRecord(fx.agreementId, period))).to.equal(true);
    // B's node took A's signatures over the peer protocol, the wallet's checked by ERC-1271 there too.
    const atB = await gatheredSignatures(b.db, b.chain, settlement, CARRIER_A.toLowerCase());
    expect(atB.officers).to.have.members([w(1).address.toLowerCase(), wallet.toLowerCase()]);
    // The event names the officer slots that signed for A: account 1's and the wallet's.
    const [event] = await ledger().queryFilter(ledger().filters.FastPathSettled(fx.agreementId, period));
    const slots = officerSlotsOf(event!.args.officersA);
    const registry = fx.deployment.registry.connect(hardhat.provider);
    const [bitmap] = await registry.officerBitmap(CARRIER_A, [w(1).address, wallet]);
    expect(slots).to.have.length(2);
    expect(event!.args.officersA).to.equal(bitmap);
  });
});
