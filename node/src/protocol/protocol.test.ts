/**
 * The protocol's TypeScript copy against a deployed ledger: the EIP-712 domains the contracts
 * report (EIP-5267), the Approval struct's digest, the commitment, MAX_ROUNDS, the period states,
 * the flag bits of `PeriodRecord.flags` as the ledger sets them through a period's life
 * (approved by each side, settled; a released reservation clears its payer's bit; a disputed
 * period's DISPUTED bit), the officers' signature encoding as the registry and the ledger read
 * it (a contract officer's ERC-1271 signature), and the fast path's `Settlement` digest, opening rule
 * and settled record against a fast-path settlement. The audit suites compare
 * every flag of every period they replay with the record the ledger stores, which covers the
 * partial-settlement bits as well.
 */
import { expect } from "chai";
import { ZeroAddress, id, type Wallet } from "ethers";
import { ERC1271WalletMock__factory } from "../../../typechain-types";
import { toChainError, type ContractRevertError } from "../chain/errors";
import { startHardhatNode, PERIOD, type HardhatNode } from "../../../test/helpers/hardhat";
import {
  advance,
  commitAndReveal,
  fundEscrow,
  scriptConsortium,
  type Consortium,
  type ConsortiumAgreement,
} from "../../../scripts/lib/consortium";
import { LedgerFastPath__factory } from "../../../typechain-types";
import {
  APPROVAL_TYPES,
  approvalDigest,
  FAST_PATH_FLAGS,
  SETTLEMENT_TYPES,
  LEDGER_EIP712_NAME,
  LEDGER_EIP712_VERSION,
  MAX_PROPOSALS,
  MAX_ROUNDS,
  OFFICER_UPDATE_TYPES,
  PERIOD_FLAGS,
  REGISTRY_EIP712_NAME,
  REGISTRY_EIP712_VERSION,
  computeCommitment,
  contractSignature,
  contractSigner,
  fastPathOpen,
  ledgerDomain,
  officerSlotsOf,
  readDomain,
  registryDomain,
  settledByFastPath,
  settlementDigest,
  stateIndex,
  type ApprovalData,
  type SettlementData,
} from "./index";

describe("protocol: the TypeScript copy matches the deployed contracts", function () {
  this.timeout(120_000);
  let node: HardhatNode;
  let c: Consortium;

  before(async () => {
    node = await startHardhatNode();
    c = await scriptConsortium(node.provider);
  });
  after(() => node?.stop());

  it("reads the signing domains from eip712Domain() and refuses a contract of another version", async () => {
    const { ledger, registry } = c.deployment;
    const expected = { name: LEDGER_EIP712_NAME, version: LEDGER_EIP712_VERSION };
    expect(await readDomain(ledger, expected)).to.deep.equal(
      ledgerDomain(c.addresses.chainId, c.addresses.ledger),
    );
    expect(
      await readDomain(registry, { name: REGISTRY_EIP712_NAME, version: REGISTRY_EIP712_VERSION }),
    ).to.deep.equal(registryDomain(c.addresses.chainId, c.addresses.registry));
    let refused: unknown;
    await readDomain(ledger, { name: LEDGER_EIP712_NAME, version: "2" }).catch((e: unknown) => (refused = e));
    expect(String(refused)).to.match(/signs for InterconnectLedger 1, this node for InterconnectLedger 2/);
  });

  it("hashes an Approval and a commitment as the ledger does, with its MAX_ROUNDS", async () => {
    const { ledger } = c.deployment;
    const agreement = c.agreements["ACME-GLOBEX"];
    const approval: ApprovalData = {
      agreementId: agreement.agreementId,
      period: PERIOD,
      carrierId: agreement.a.id,
      round: 1,
      partialSettlement: true,
      amountAB: 123_456_789n,
      amountBA: 42n,
      rootA: id("root A"),
      rootB: id("root B"),
      deadline: 2_000_000_000n,
    };
    const domain = ledgerDomain(c.addresses.chainId, c.addresses.ledger);
    expect(await ledger.approvalDigest(approval)).to.equal(approvalDigest(domain, approval));
    for (const round of [0, 1]) {
      const opening = { root: id("root"), amountAB: 7n, amountBA: 9n, salt: id("salt") };
      expect(
        await ledger.computeCommitment(
          agreement.agreementId,
          PERIOD,
          round,
          agreement.a.id,
          opening.root,
          opening.amountAB,
          opening.amountBA,
          opening.salt,
        ),
      ).to.equal(
        computeCommitment({
          chainId: c.addresses.chainId,
          ledger: c.addresses.ledger,
          agreementId: agreement.agreementId,
          period: PERIOD,
          round,
          party: agreement.a.id,
          ...opening,
        }),
      );
    }
    expect(Number(await ledger.MAX_ROUNDS())).to.equal(MAX_ROUNDS);
    expect(Number(await ledger.MAX_PROPOSALS())).to.equal(MAX_PROPOSALS);
  });

  async function approve(
    agreement: ConsortiumAgreement,
    side: "a" | "b",
    deadline = 2_000_000_000n,
  ): Promise<void> {
    const ledger = c.deployment.ledger.connect(await c.provider.getSigner(0));
    const [amountAB, amountBA, rootA, rootB, round] = await ledger.approvalFigures(
      agreement.agreementId,
      PERIOD,
      false,
    );
    const carrier = agreement[side];
    const approval: ApprovalData = {
      agreementId: agreement.agreementId,
      period: PERIOD,
      carrierId: carrier.id,
      round: Number(round),
      partialSettlement: false,
      amountAB,
      amountBA,
      rootA,
      rootB,
      deadline,
    };
    const domain = await readDomain(ledger, { name: LEDGER_EIP712_NAME, version: LEDGER_EIP712_VERSION });
    const signatures = await Promise.all(
      carrier.officers.slice(0, 2).map((o: Wallet) => o.signTypedData(domain, APPROVAL_TYPES, approval)),
    );
    await (await ledger.approveWithSignatures(approval, signatures)).wait();
  }

  it("sets the flag bits and states this copy names, through approval and settlement", async () => {
    const { ledger } = c.deployment;
    const agreement = c.agreements["ACME-GLOBEX"];
    const flags = async () => BigInt((await ledger.periodRecord(agreement.agreementId, PERIOD)).flags);
    const state = async () => await ledger.state(agreement.agreementId, PERIOD);
    const root = id("the same summary");
    await commitAndReveal(c, agreement, { ab: 1_000_000n, ba: 0n, root }, { ab: 1_000_000n, ba: 0n, root });
    expect(await state()).to.equal(stateIndex("Matched"));
    expect(await flags()).to.equal(0n);
    // A pays: its approval reserves the net, so its escrow must hold it first.
    await fundEscrow(c, agreement.a, "ICUSD", 1_000_000n);
    const now = (await c.provider.getBlock("latest"))!.timestamp;
    await approve(agreement, "a", BigInt(now + 60));
    expect(await flags()).to.equal(PERIOD_FLAGS.APPROVED_A);
    // The approval lapses with B silent: released, A's bit goes with the reservation.
    await advance(c.provider, 120);
    await (await ledger.connect(await c.provider.getSigner(0)).release(agreement.agreementId, PERIOD)).wait();
    expect(await flags()).to.equal(0n);
    await approve(agreement, "a");
    await approve(agreement, "b");
    expect(await flags()).to.equal(PERIOD_FLAGS.APPROVED_A | PERIOD_FLAGS.APPROVED_B);
    expect(await state()).to.equal(stateIndex("Approved"));
    await (await ledger.connect(await c.provider.getSigner(0)).settle(agreement.agreementId, PERIOD)).wait();
    expect(await flags()).to.equal(PERIOD_FLAGS.APPROVED_A | PERIOD_FLAGS.APPROVED_B | PERIOD_FLAGS.SETTLED);
    expect(await state()).to.equal(stateIndex("Settled"));
  });

  it("encodes a contract officer's signature as the registry and the ledger read it (ERC-1271)", async () => {
    const { registry, ledger } = c.deployment;
    const admin = await c.provider.getSigner(0);
    const owner = c.outsiders[0];
    const wallet = await new ERC1271WalletMock__factory(admin).deploy(owner.address, false);
    await wallet.waitForDeployment();
    const walletAddress = await wallet.getAddress();
    const carrier = c.carriers.INITECH;
    const now = (await c.provider.getBlock("latest"))!.timestamp;
    const update = {
      carrierId: carrier.id,
      add: [walletAddress],
      remove: [],
      threshold: 2,
      treasury: ZeroAddress,
      nonce: await registry.officerNonce(carrier.id),
      deadline: BigInt(now + 3600),
    };
    const domain = registryDomain(c.addresses.chainId, c.addresses.registry);
    const sigs = await Promise.all(
      carrier.officers.slice(0, 2).map((o) => o.signTypedData(domain, OFFICER_UPDATE_TYPES, update)),
    );
    await (await registry.connect(admin).updateOfficers(update, sigs)).wait();
    const approval: ApprovalData = {
      agreementId: c.agreements["ACME-INITECH"].agreementId,
      period: PERIOD,
      carrierId: carrier.id,
      round: 0,
      partialSettlement: false,
      amountAB: 1n,
      amountBA: 2n,
      rootA: id("a"),
      rootB: id("b"),
      deadline: 2_000_000_000n,
    };
    const inner = await owner.signTypedData(
      ledgerDomain(c.addresses.chainId, c.addresses.ledger),
      APPROVAL_TYPES,
      approval,
    );
    const encoded = contractSignature(walletAddress, inner);
    expect(contractSigner(encoded)).to.equal(walletAddress);
    expect(contractSigner(inner)).to.equal(null);
    // The ledger's digest is what the wallet validates.
    expect(await wallet.isValidSignature(await ledger.approvalDigest(approval), inner)).to.equal(
      "0x1626ba7e",
    );
    // The period is still Committing: the ledger counts the signer, then refuses on the state; a
    // signature the wallet does not vouch for is refused before that, naming the wallet.
    const refusal = async (signature: string) =>
      ledger
        .connect(admin)
        .approveWithSignatures.staticCall(approval, [signature])
        .then(
          () => null,
          (e: unknown) => toChainError(e, "approveWithSignatures") as ContractRevertError,
        );
    expect((await refusal(encoded))?.errorName).to.equal("LedgerUnexpectedState");
    const forged = contractSignature(
      walletAddress,
      await c.outsiders[1].signTypedData(
        ledgerDomain(c.addresses.chainId, c.addresses.ledger),
        APPROVAL_TYPES,
        approval,
      ),
    );
    const refused = await refusal(forged);
    expect(refused?.errorName).to.equal("OfficerSignatureInvalid");
    expect(refused?.args.officer).to.equal(walletAddress);
    expect(await registry.isOfficer(carrier.id, walletAddress)).to.equal(true);
  });

  it("sets DISPUTED when a dispute opens on a Mismatched period", async () => {
    const { ledger } = c.deployment;
    const agreement = c.agreements["GLOBEX-INITECH"];
    await commitAndReveal(c, agreement, { ab: 5_000_000_000n, ba: 0n }, { ab: 1_000_000n, ba: 0n });
    expect(await ledger.state(agreement.agreementId, PERIOD)).to.equal(stateIndex("Mismatched"));
    const officer = await c.provider.getSigner(agreement.a.officers[0].address);
    await (
      await ledger
        .connect(officer)
        .openDispute(agreement.agreementId, PERIOD, agreement.a.id, 1, "bafkreievidence")
    ).wait();
    expect(BigInt((await ledger.periodRecord(agreement.agreementId, PERIOD)).flags)).to.equal(
      PERIOD_FLAGS.DISPUTED,
    );
    expect(await ledger.state(agreement.agreementId, PERIOD)).to.equal(stateIndex("Disputed"));
  });

  it("hashes a fast-path Settlement as LedgerFastPath does; its rule and record read as the ledger sets them", async () => {
    const { ledger, libraries } = c.deployment;
    const agreement = c.agreements["ACME-INITECH"];
    const sender = ledger.connect(await c.provider.getSigner(0));
    const library = LedgerFastPath__factory.connect(
      libraries["contracts/modules/LedgerFastPath.sol:LedgerFastPath"],
      c.provider,
    );
    const domain = await readDomain(ledger, { name: LEDGER_EIP712_NAME, version: LEDGER_EIP712_VERSION });
    const settlement: SettlementData = {
      agreementId: agreement.agreementId,
      period: PERIOD,
      root: id("both nodes' summary"),
      amountAB: 3_000_000n,
      amountBA: 1_250_000n,
      deadline: 2_000_000_000n,
    };
    const fields = [
      settlement.agreementId,
      settlement.period,
      settlement.root,
      settlement.amountAB,
      settlement.amountBA,
      settlement.deadline,
    ] as const;
    expect(await library.settlementDigest(c.addresses.ledger, ...fields)).to.equal(
      settlementDigest(domain, settlement),
    );

    const record = () => ledger.periodRecord(agreement.agreementId, PERIOD);
    const state = () => ledger.state(agreement.agreementId, PERIOD);
    expect(fastPathOpen(await state(), await record())).to.equal(true);
    await fundEscrow(c, agreement.a, "ICUSD", 1_750_000n);
    const sign = (officers: Wallet[]) =>
      Promise.all(officers.slice(0, 2).map((o) => o.signTypedData(domain, SETTLEMENT_TYPES, settlement)));
    const receipt = await (
      await sender.settleFastPath(
        settlement,
        await sign(agreement.a.officers),
        await sign(agreement.b.officers),
      )
    ).wait();
    const event = receipt!.logs
      .map((l) => ledger.interface.parseLog(l))
      .find((l) => l?.name === "FastPathSettled");
    expect(officerSlotsOf(event!.args.officersA as bigint)).to.deep.equal([0, 1]);
    expect(officerSlotsOf(event!.args.officersB as bigint)).to.deep.equal([0, 1]);
    expect(await state()).to.equal(stateIndex("Settled"));
    expect(BigInt((await record()).flags)).to.equal(FAST_PATH_FLAGS);
    expect(settledByFastPath(await record())).to.equal(true);
    expect(fastPathOpen(await state(), await record())).to.equal(false);
    const matched = await ledger.periodRecord(c.agreements["ACME-GLOBEX"].agreementId, PERIOD);
    expect(settledByFastPath(matched)).to.equal(false);
  });
});
