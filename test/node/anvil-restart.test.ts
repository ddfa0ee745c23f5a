/**
 * A real chain restart: Anvil holds the ledger, carrier A's node commits through its transaction
 * manager, Anvil is SIGKILLed once it dumped its state and started again from it on the same port, and
 * the same node goes on (reveals) with the next nonce: the ledger kept the commitment, nothing was
 * sent twice. (Issue 18 builds the demo's `--chain anvil` and the fault suite on this.)
 */
import { expect } from "chai";
import fs from "node:fs";
import { id } from "ethers";
import type { ChainClient } from "../../node/src/chain/client";
import { stateIndex } from "../../node/src/protocol";
import { anvilBinary, startAnvilNode, type AnvilNode } from "../../scripts/lib/anvil-node";
import { primaryTarget, tempDir } from "../helpers/databases";
import { CARRIER_A, CARRIER_B, PERIOD, commitCall, sendDirect } from "../helpers/hardhat";
import { carrierAChain, carrierAOnChain, type CarrierAOnLedger } from "../helpers/ledger-node";

const target = primaryTarget();

describe(`a chain process killed and restarted from its dumped state (Anvil, ${target.name})`, function () {
  this.timeout(120_000);
  let anvil: AnvilNode;
  let started: CarrierAOnLedger;
  let chain: ChainClient;

  before(async function () {
    if (anvilBinary() === null) {
      // npm installs the binary on Linux x64 only (an optional dependency): there it must be; elsewhere
      // this is said loudly and skipped.
      if (process.platform === "linux" && process.arch === "x64") {
        throw new Error("@foundry-rs/anvil-linux-amd64 is not installed: run npm ci");
      }
      process.stderr.write("\n!!! ANVIL TESTS SKIPPED: no Anvil for this platform (Linux x64 only)\n");
      return this.skip();
    }
    anvil = await startAnvilNode({ stateDir: tempDir("icl-anvil-") });
    started = await carrierAOnChain(target, anvil);
    chain = await carrierAChain(started);
  });
  after(async () => {
    chain?.close();
    await started?.db.close();
    await anvil?.stop();
    await target.cleanup();
  });

  it("keeps what it dumped across a SIGKILL, and the node sends on from the next nonce", async () => {
    const { fx } = started;
    const call = commitCall(fx, CARRIER_A, { ab: 1_000_000n, ba: 400_000n }, id("salt-A"));
    const commit = await chain.transactions!.send({
      kind: "commit",
      idempotencyKey: `commit:${fx.agreementId}:${PERIOD}:0`,
      to: fx.addresses.ledger,
      data: call.data,
    });
    expect(commit.status).to.equal("confirmed");
    const block = await anvil.provider.getBlockNumber();

    // Anvil dumps every second: wait for a dump written after the commit was mined, then kill it.
    const minedAt = Date.now();
    for (
      let i = 0;
      i < 50 && !(fs.existsSync(anvil.statePath) && fs.statSync(anvil.statePath).mtimeMs > minedAt + 100);
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await anvil.kill();
    await anvil.restart();

    const ledger = fx.deployment.ledger.connect(anvil.provider);
    expect(await anvil.provider.getBlockNumber(), "the blocks up to the dump are back").to.be.at.least(block);
    expect(await ledger.state(fx.agreementId, PERIOD)).to.equal(stateIndex("Committing"));
    const receipt = await anvil.provider.getTransactionReceipt(commit.txHash);
    expect(receipt?.status, "the commit's receipt survived").to.equal(1);

    // The same node, through the same client, asks again for the commit (same idempotency key: the
    // stored transaction, not a second one) and sends the next step.
    const again = await chain.transactions!.send({
      kind: "commit",
      idempotencyKey: `commit:${fx.agreementId}:${PERIOD}:0`,
      to: fx.addresses.ledger,
      data: call.data,
    });
    expect(again.txHash).to.equal(commit.txHash);
    // B commits too (from its own account), so the period is Revealing and A may reveal.
    const ofB = commitCall(fx, CARRIER_B, { ab: 1_000_000n, ba: 400_000n }, id("salt-B"));
    await sendDirect(await anvil.provider.getSigner(fx.nodeB.address), fx.addresses.ledger, ofB.data);
    // Straight to the RPC node: ethers would answer a repeated request from its 250 ms cache.
    const sent = async () =>
      Number(await anvil.provider.send("eth_getTransactionCount", [fx.nodeA.address, "latest"]));
    const nonceBefore = await sent();
    const reveal = await chain.transactions!.send({
      kind: "reveal",
      idempotencyKey: `reveal:${fx.agreementId}:${PERIOD}:0`,
      to: fx.addresses.ledger,
      data: call.reveal,
    });
    expect(reveal.status, reveal.error ?? "").to.equal("confirmed");
    expect(
      await anvil.provider.getTransactionCount(fx.nodeA.address),
      "one transaction more, not two",
    ).to.equal(nonceBefore + 1);
  });
});
