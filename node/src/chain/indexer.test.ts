import { expect } from "chai";
import { JsonRpcProvider, Network, id, toQuantity, type JsonRpcSigner } from "ethers";
import { databaseTargets } from "../../../test/helpers/databases";
import { silentLogger } from "../logger";
import type { Database } from "../db/database";
import { listChainEvents, readIndexCursor } from "../db/chain-store";
import { EventIndexer, type EventIndexerOptions } from "./indexer";
import {
  CARRIER_A,
  CARRIER_B,
  PERIOD,
  TcpProxy,
  commitCall,
  scriptLedger,
  startHardhatNode,
  type HardhatNode,
  type ScriptedLedger,
} from "../../../test/helpers/hardhat";

describe("chain: event indexer", function () {
  this.timeout(120_000);
  let node: HardhatNode;
  let fx: ScriptedLedger;
  let nodeA: JsonRpcSigner;
  let nodeB: JsonRpcSigner;
  let snapshot: string;

  before(async () => {
    node = await startHardhatNode();
    fx = await scriptLedger(node.provider);
    nodeA = await node.provider.getSigner(fx.nodeA.address);
    nodeB = await node.provider.getSigner(fx.nodeB.address);
  });
  after(async () => {
    await node?.stop();
  });
  beforeEach(async () => {
    snapshot = (await node.provider.send("evm_snapshot", [])) as string;
  });
  afterEach(async () => {
    await node.provider.send("evm_revert", [snapshot]);
  });

  const amounts = { ab: 1_000_000_000n, ba: 400_000_000n };
  async function send(signer: JsonRpcSigner, data: string): Promise<void> {
    await (await signer.sendTransaction({ to: fx.addresses.ledger, data })).wait();
  }
  /** Both carriers commit and reveal the same figures: Committed ×2, Revealed ×2, Evaluated. */
  async function matchedPeriod(): Promise<void> {
    const a = commitCall(fx, CARRIER_A, amounts, id("salt-a"));
    const b = commitCall(fx, CARRIER_B, amounts, id("salt-b"));
    await send(nodeA, a.data);
    await send(nodeB, b.data);
    await send(nodeA, a.reveal);
    await send(nodeB, b.reveal);
  }
  /** Every log of the three contracts since the deploy block, as `block:index` keys. */
  async function chainLogKeys(): Promise<string[]> {
    // Raw JSON-RPC: ethers would answer a repeated identical getLogs from its short-lived cache.
    const logs = (await node.provider.send("eth_getLogs", [
      {
        address: [fx.addresses.ledger, fx.addresses.registry, fx.addresses.book],
        fromBlock: toQuantity(fx.addresses.deployBlock),
        toBlock: "latest",
      },
    ])) as { blockNumber: string; logIndex: string; blockHash: string }[];
    return logs.map((log) => `${BigInt(log.blockNumber)}:${BigInt(log.logIndex)}:${log.blockHash}`);
  }
  /** The chain head by raw JSON-RPC (ethers' getBlockNumber may answer from its cache). */
  async function head(): Promise<bigint> {
    return BigInt((await node.provider.send("eth_blockNumber", [])) as string);
  }
  async function indexedKeys(db: Database): Promise<string[]> {
    const events = await listChainEvents(db, { chainId: fx.addresses.chainId });
    return events.map((e) => `${e.blockNumber}:${e.logIndex}:${e.blockHash}`);
  }

  for (const target of databaseTargets()) {
    describe(`on ${target.name}`, () => {
      let db: Database;
      beforeEach(async () => {
        db = await target.open();
      });
      afterEach(async () => {
        await db.close();
      });
      after(() => target.cleanup());

      const indexer = (options: EventIndexerOptions = {}) =>
        new EventIndexer(
          { provider: node.provider, deployment: fx.addresses, db, logger: silentLogger },
          { batchSize: 4, pollIntervalMs: 50, ...options },
        );

      it("indexes a scripted agreement-period with its agreement, period and carrier columns", async () => {
        await matchedPeriod();
        const report = await indexer().sync();
        expect(report.cursor).to.equal(await head());
        expect(await indexedKeys(db)).to.deep.equal(await chainLogKeys());

        const period = await listChainEvents(db, {
          chainId: fx.addresses.chainId,
          agreementId: fx.agreementId,
          period: PERIOD,
        });
        expect(period.map((e) => e.name)).to.deep.equal([
          "Committed",
          "Committed",
          "Revealed",
          "Revealed",
          "Evaluated",
        ]);
        expect(period.map((e) => e.carrierId)).to.deep.equal([
          CARRIER_A,
          CARRIER_B,
          CARRIER_A,
          CARRIER_B,
          null,
        ]);
        const revealed = period[2]!;
        expect(revealed.contract).to.equal("SettlementLedger");
        expect(revealed.args).to.deep.include({
          period: String(PERIOD),
          amountAB: "1000000000",
          amountBA: "400000000",
        });
        // Different roots, equal amounts: Reconciled (2).
        expect(period[4]!.args).to.deep.include({ outcome: "2", amountAB: "1000000000" });

        const names = new Set(
          (await listChainEvents(db, { chainId: fx.addresses.chainId })).map((e) => e.name),
        );
        for (const name of [
          "CarrierRegistered",
          "NodeSet",
          "TokenListed",
          "AgreementProposed",
          "AgreementVersionActivated",
        ]) {
          expect(names.has(name), name).to.equal(true);
        }
        const [proposed] = await listChainEvents(db, {
          chainId: fx.addresses.chainId,
          name: "AgreementProposed",
        });
        expect(proposed?.agreementId).to.equal(fx.agreementId);
        expect(proposed?.carrierId).to.equal(CARRIER_A);
        expect((proposed?.args.terms as Record<string, unknown>).effectiveFrom).to.equal(String(PERIOD));
      });

      it("resumes from its cursor after a restart without duplicates, and follows new blocks", async () => {
        const a = commitCall(fx, CARRIER_A, amounts, id("salt-a"));
        await send(nodeA, a.data);
        const first = await indexer().sync();
        const stored = (await indexedKeys(db)).length;

        await send(nodeB, commitCall(fx, CARRIER_B, amounts, id("salt-b")).data);
        const restarted = indexer();
        expect(await restarted.cursor()).to.equal(first.cursor);
        const second = await restarted.sync();
        expect(second.events).to.equal(1);
        expect((await indexedKeys(db)).length).to.equal(stored + 1);
        expect(await indexedKeys(db)).to.deep.equal(await chainLogKeys());

        // follow() picks up a reveal while it runs and stops on the signal.
        const stop = new AbortController();
        const following = restarted.follow(stop.signal);
        await send(nodeA, a.reveal);
        const tip = await head();
        const cursor = () => readIndexCursor(db, fx.addresses.chainId, fx.addresses.ledger);
        for (let i = 0; i < 200 && ((await cursor()) ?? 0n) < tip; i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        stop.abort();
        await following;
        expect(await cursor()).to.equal(tip);
        expect(await indexedKeys(db)).to.deep.equal(await chainLogKeys());
      });

      it("follows through an RPC outage and catches up when the node returns", async () => {
        const proxy = await TcpProxy.start(node.port);
        const viaProxy = new JsonRpcProvider(proxy.url, Network.from(31337), { staticNetwork: true });
        const stop = new AbortController();
        try {
          const idx = new EventIndexer(
            { provider: viaProxy, deployment: fx.addresses, db, logger: silentLogger },
            { pollIntervalMs: 50, retry: { initialMs: 50, maxMs: 200, maxElapsedMs: 60_000 } },
          );
          await idx.sync();
          const following = idx.follow(stop.signal);
          await proxy.close();
          await send(nodeA, commitCall(fx, CARRIER_A, amounts, id("salt-a")).data);
          const tip = await head();
          await new Promise((resolve) => setTimeout(resolve, 500));
          expect(((await idx.cursor()) ?? 0n) < tip, "indexed during the outage").to.equal(true);
          await proxy.open();
          for (let i = 0; i < 200 && ((await idx.cursor()) ?? 0n) < tip; i++) {
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          stop.abort();
          await following;
          expect(await idx.cursor()).to.equal(tip);
          expect(await indexedKeys(db)).to.deep.equal(await chainLogKeys());
        } finally {
          stop.abort();
          viaProxy.destroy();
          await proxy.close();
        }
      });

      it("detects a reorganisation and corrects the index", async () => {
        const fork = (await node.provider.send("evm_snapshot", [])) as string;
        await matchedPeriod();
        const idx = indexer();
        await idx.sync();
        const before = await indexedKeys(db);
        expect(before).to.deep.equal(await chainLogKeys());

        // The chain drops those blocks and grows a longer branch where only A commits, other figures.
        await node.provider.send("evm_revert", [fork]);
        await send(nodeA, commitCall(fx, CARRIER_A, { ab: 7n, ba: 8n }, id("salt-other")).data);
        await node.provider.send("hardhat_mine", ["0x6"]);

        const report = await idx.sync();
        expect(report.reorgs).to.have.length(1);
        expect(report.reorgs[0]!.removed).to.equal(5);
        const after = await indexedKeys(db);
        expect(after).to.deep.equal(await chainLogKeys());
        const period = await listChainEvents(db, {
          chainId: fx.addresses.chainId,
          agreementId: fx.agreementId,
          period: PERIOD,
        });
        expect(period.map((e) => e.name)).to.deep.equal(["Committed"]);
        const expected = commitCall(fx, CARRIER_A, { ab: 7n, ba: 8n }, id("salt-other"));
        expect(fx.deployment.ledger.interface.decodeFunctionData("commit", expected.data)[2]).to.equal(
          period[0]!.args.commitment,
        );
      });

      it("notices a reorganisation that shortens the chain", async () => {
        const fork = (await node.provider.send("evm_snapshot", [])) as string;
        await matchedPeriod();
        const idx = indexer();
        await idx.sync();
        await node.provider.send("evm_revert", [fork]);
        await node.provider.send("hardhat_mine", ["0x1"]);
        const report = await idx.sync();
        expect(report.reorgs).to.have.length(1);
        expect(await indexedKeys(db)).to.deep.equal(await chainLogKeys());
        expect(
          await listChainEvents(db, {
            chainId: fx.addresses.chainId,
            agreementId: fx.agreementId,
            period: PERIOD,
          }),
        ).to.have.length(0);
      });
    });
  }
});
