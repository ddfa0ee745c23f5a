import { expect } from "chai";
import { AbiCoder, encodeBytes32String, id } from "ethers";
import { stateBitmap, stateIndex } from "../protocol";
import { UnavailableError } from "../errors";
import { ContractRevertError, decodeRevertData, toChainError } from "./errors";
import {
  CARRIER_A,
  PERIOD,
  scriptLedger,
  startHardhatNode,
  type HardhatNode,
  type ScriptedLedger,
} from "../../../test/helpers/hardhat";

describe("chain: revert decoding", function () {
  this.timeout(120_000);
  let node: HardhatNode;
  let fx: ScriptedLedger;

  before(async () => {
    node = await startHardhatNode();
    fx = await scriptLedger(node.provider);
  });
  after(async () => {
    await node?.stop();
  });

  async function revertOf(promise: Promise<unknown>): Promise<ContractRevertError> {
    try {
      await promise;
    } catch (error) {
      const mapped = toChainError(error, "the test call");
      expect(mapped).to.be.instanceOf(ContractRevertError);
      return mapped as ContractRevertError;
    }
    throw new Error("expected a revert");
  }

  it("names LedgerUnexpectedState with its arguments when a node reveals before both committed", async () => {
    const ledger = fx.deployment.ledger.connect(fx.nodeA);
    const error = await revertOf(
      ledger.reveal.estimateGas(fx.agreementId, PERIOD, id("root"), 1n, 2n, id("salt")),
    );
    expect(error.errorName).to.equal("LedgerUnexpectedState");
    expect(error.signature).to.equal("LedgerUnexpectedState(bytes32,uint32,uint8,bytes32)");
    expect(error.args).to.deep.equal({
      agreementId: fx.agreementId,
      period: BigInt(PERIOD),
      current: stateIndex("Committing"),
      expectedBitmap: stateBitmap("Revealing"),
    });
    expect(error.retryable).to.equal(false);
    expect(error.code).to.equal("CONTRACT_REVERT");
    expect(error.shortMessage).to.match(/^the contract reverted with LedgerUnexpectedState\(agreementId=0x/);
  });

  it("names reverts of the registry, the book and OpenZeppelin's errors", async () => {
    const registry = fx.deployment.registry.connect(fx.admin);
    const exists = await revertOf(
      registry.registerCarrier.staticCall(CARRIER_A, fx.admin.address, [fx.admin.address], 1, []),
    );
    expect(exists.errorName).to.equal("RegistryCarrierExists");
    expect(exists.args).to.deep.equal({ carrierId: CARRIER_A });

    const denied = await revertOf(
      fx.deployment.registry
        .connect(fx.nodeA)
        .registerCarrier.staticCall(encodeBytes32String("X"), fx.nodeA.address, [fx.nodeA.address], 1, []),
    );
    expect(denied.errorName).to.equal("AccessControlUnauthorizedAccount");
    expect(denied.args.account).to.equal(fx.nodeA.address);

    const noVersion = await revertOf(fx.deployment.book.termsAt(fx.agreementId, 202001));
    expect(noVersion.errorName).to.equal("BookNoVersion");
    expect(noVersion.args).to.deep.equal({ agreementId: fx.agreementId, period: 202001n });
  });

  it("decodes Error(string), Panic and unknown data", () => {
    const coder = AbiCoder.defaultAbiCoder();
    const reason = decodeRevertData("0x08c379a0" + coder.encode(["string"], ["boom"]).slice(2));
    expect(reason.errorName).to.equal("Error");
    expect(reason.args).to.deep.equal({ message: "boom" });
    const panic = decodeRevertData("0x4e487b71" + coder.encode(["uint256"], [0x11]).slice(2));
    expect(panic.errorName).to.equal("Panic");
    expect(panic.args).to.deep.equal({ code: 0x11n });
    const unknown = decodeRevertData("0xdeadbeef");
    expect(unknown.errorName).to.equal("unknown");
    expect(unknown.data).to.equal("0xdeadbeef");
  });

  it("reports an unreachable node as a retryable UnavailableError", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const wrapped = Object.assign(new Error("request failed"), { code: "UNKNOWN_ERROR", cause: refused });
    const mapped = toChainError(wrapped, "eth_blockNumber");
    expect(mapped).to.be.instanceOf(UnavailableError);
    expect(mapped.retryable).to.equal(true);
    const http = (statusCode: number) =>
      toChainError(
        Object.assign(new Error("bad response"), { code: "SERVER_ERROR", response: { statusCode } }),
        "x",
      );
    expect(http(503).retryable).to.equal(true);
    expect(http(429).retryable).to.equal(true);
    expect(http(401).retryable).to.equal(false);
  });
});
