/**
 * A real chain restart: Anvil holds the ledger, carrier A's node commits through its transaction
 * manager, Anvil is SIGKILLed once it dumped its state and started again from it on the same port, and
 * the same node goes on (reveals) with the next nonce: the ledger kept the commitment, nothing was
 * sent twice. (Issue 18 builds the demo's `--chain anvil` and the fault suite on this.)
 */
import { expect } from "chai";
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
    await anvil.waitForDump();
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
  });

  it("sends a confirmed transaction the restored chain lost again, the same signed bytes, once", async () => {
    const { fx } = started;
    const call = commitCall(fx, CARRIER_A, { ab: 1_000_000n, ba: 400_000n }, id("salt-A"));
    // B commits too (from its own account), so the period is Revealing and A may reveal.
    const ofB = commitCall(fx, CARRIER_B, { ab: 1_000_000n, ba: 400_000n }, id("salt-B"));
    await sendDirect(await anvil.provider.getSigner(fx.nodeB.address), fx.addresses.ledger, ofB.data);
    // Straight to the RPC node: ethers would answer a repeated request from its 250 ms cache.
    const sent = async () =>
      Number(await anvil.provider.send("eth_getTransactionCount", [fx.nodeA.address, "latest"]));
    const nonceBefore = await sent();
    // B's commit is in the dump; A's reveal, mined just after, is confirmed but never dumped: the
    // chain is killed at once and comes back without it.
    await anvil.waitForDump();
    const request = {
      kind: "reveal",
      idempotencyKey: `reveal:${fx.agreementId}:${PERIOD}:0`,
      to: fx.addresses.ledger,
      data: call.reveal,
    };
    const reveal = await chain.transactions!.send(request);
    expect(reveal.status, reveal.error ?? "").to.equal("confirmed");
    await anvil.kill();
    await anvil.restart();
    expect(
      await anvil.provider.send("eth_getTransactionReceipt", [reveal.txHash]),
      "the restored chain lost the reveal (killed within a second of the dump)",
    ).to.equal(null);
    expect(await sent(), "its nonce is unused again").to.equal(nonceBefore);
    const ledger = fx.deployment.ledger.connect(anvil.provider);
    expect(await ledger.state(fx.agreementId, PERIOD)).to.equal(stateIndex("Revealing"));
    expect((await ledger.periodRecord(fx.agreementId, PERIOD)).amountABofA, "A's reveal is gone").to.equal(
      0n,
    );

    // The node's next pass rechecks its recent transactions: the reveal goes out again, the same bytes.
    const again = await chain.transactions!.recheckRecent();
    expect(again.map((r) => [r.idempotencyKey, r.txHash, r.status])).to.deep.equal([
      [request.idempotencyKey, reveal.txHash, "confirmed"],
    ]);
    expect(await sent(), "one transaction more, not two").to.equal(nonceBefore + 1);
    expect((await chain.transactions!.send(request)).txHash, "the key keeps its transaction").to.equal(
      reveal.txHash,
    );
    expect((await ledger.periodRecord(fx.agreementId, PERIOD)).amountABofA, "A's reveal is back").to.equal(
      1_000_000n,
    );
    expect(await chain.transactions!.recheckRecent(), "nothing more to send").to.deep.equal([]);
  });
});
