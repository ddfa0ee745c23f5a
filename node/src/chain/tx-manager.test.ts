import { expect } from "chai";
import { JsonRpcProvider, Network, id, type Wallet } from "ethers";
import { databaseTargets } from "../../../test/helpers/databases";
import { ConflictError } from "../errors";
import { silentLogger } from "../logger";
import type { Database } from "../db/database";
import { findTx } from "../db/chain-store";
import { ContractRevertError } from "./errors";
import { TxManager, type TxManagerOptions } from "./tx-manager";
import {
  CARRIER_A,
  PERIOD,
  TcpProxy,
  commitCall,
  scriptLedger,
  startHardhatNode,
  type HardhatNode,
  type ScriptedLedger,
} from "../../../test/helpers/hardhat";

const FAST = { pollIntervalMs: 50, retry: { initialMs: 50, maxMs: 400, maxElapsedMs: 60_000 } };

describe("chain: transaction manager", function () {
  this.timeout(120_000);
  let node: HardhatNode;
  let fx: ScriptedLedger;
  let snapshot: string;

  before(async () => {
    node = await startHardhatNode();
    fx = await scriptLedger(node.provider);
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

  const key = `commit:A:${PERIOD}:0`;
  const commitA = () => commitCall(fx, CARRIER_A, { ab: 1_000_000n, ba: 400_000n }, id("salt-a"));
  const request = () => ({
    kind: "commit",
    idempotencyKey: key,
    to: fx.addresses.ledger,
    data: commitA().data,
  });

  function manager(
    db: Database,
    options: TxManagerOptions = {},
    provider: JsonRpcProvider = node.provider,
  ): TxManager {
    const wallet: Wallet = fx.nodeA.connect(provider);
    return new TxManager(
      { provider, wallet, chainId: fx.addresses.chainId, db, logger: silentLogger },
      { ...FAST, ...options },
    );
  }

  const sentCount = async () =>
    BigInt(await node.provider.send("eth_getTransactionCount", [fx.nodeA.address, "latest"]));
  /** Committed events of A for PERIOD, by raw JSON-RPC (ethers may answer a repeated getLogs from its cache). */
  const committedCount = async () => {
    const ledger = fx.deployment.ledger;
    const topics = await ledger.filters.Committed(fx.agreementId, PERIOD, CARRIER_A).getTopicFilter();
    const logs = (await node.provider.send("eth_getLogs", [
      { address: fx.addresses.ledger, topics, fromBlock: "0x0", toBlock: "latest" },
    ])) as unknown[];
    return logs.length;
  };

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

      it("sends a commit once; a second send with the same key returns the first result", async () => {
        const before = await sentCount();
        const txs = manager(db);
        const first = await txs.send(request());
        expect(first.status).to.equal("confirmed");
        expect(first.nonce).to.equal(before);
        const again = await txs.send(request());
        expect(again).to.deep.equal(first);
        expect(await manager(db).send(request())).to.deep.equal(first);
        expect(await sentCount()).to.equal(before + 1n);
        expect(await committedCount()).to.equal(1);
        const row = await findTx(db, key);
        expect(row?.status).to.equal("confirmed");
        expect(row?.txHash).to.equal(first.txHash);
      });

      it("refuses a key already used for other calldata", async () => {
        const txs = manager(db);
        await txs.send(request());
        const other = commitCall(fx, CARRIER_A, { ab: 5n, ba: 6n }, id("other")).data;
        let caught: unknown;
        await txs.send({ ...request(), data: other }).catch((error: unknown) => (caught = error));
        expect(caught).to.be.instanceOf(ConflictError);
      });

      it("names a reverting call and broadcasts nothing", async () => {
        const before = await sentCount();
        let caught: unknown;
        await manager(db)
          .send({
            kind: "reveal",
            idempotencyKey: `reveal:A:${PERIOD}:0`,
            to: fx.addresses.ledger,
            data: commitA().reveal,
          })
          .catch((error: unknown) => (caught = error));
        expect(caught).to.be.instanceOf(ContractRevertError);
        expect((caught as ContractRevertError).errorName).to.equal("LedgerUnexpectedState");
        expect((await findTx(db, `reveal:A:${PERIOD}:0`))?.status).to.equal("failed");
        expect(await sentCount()).to.equal(before);
      });

      it("a node killed between broadcast and receipt sends nothing twice after restart", async () => {
        const before = await sentCount();
        const crash = new Error("process killed after broadcast");
        let broadcastHash = "";
        const dying = manager(db, {
          hooks: {
            afterBroadcast: (hash) => {
              broadcastHash = hash;
              throw crash;
            },
          },
        });
        let caught: unknown;
        await dying.send(request()).catch((error: unknown) => (caught = error));
        expect(caught).to.equal(crash);
        expect((await findTx(db, key))?.status).to.equal("signed");

        const restarted = manager(db);
        const reconciled = await restarted.reconcile();
        expect(reconciled.map((r) => r.txHash)).to.deep.equal([broadcastHash]);
        const result = await restarted.send(request());
        expect(result.txHash).to.equal(broadcastHash);
        expect(result.status).to.equal("confirmed");
        expect(await sentCount()).to.equal(before + 1n);
        expect(await committedCount()).to.equal(1);
      });

      it("a node killed after signing but before broadcasting sends the same signed transaction once", async () => {
        const before = await sentCount();
        let signedHash = "";
        const dying = manager(db, {
          hooks: {
            afterSign: (hash) => {
              signedHash = hash;
              throw new Error("process killed before broadcast");
            },
          },
        });
        await dying.send(request()).catch(() => undefined);
        expect(await sentCount()).to.equal(before);

        const result = await manager(db).send(request());
        expect(result.txHash).to.equal(signedHash);
        expect(await sentCount()).to.equal(before + 1n);
        expect(await committedCount()).to.equal(1);
      });

      it("signs again when the stored transaction's nonce went to another transaction", async () => {
        const before = await sentCount();
        let signedHash = "";
        await manager(db, {
          hooks: {
            afterSign: (hash) => {
              signedHash = hash;
              throw new Error("killed");
            },
          },
        })
          .send(request())
          .catch(() => undefined);
        // Someone else uses the node key's next nonce meanwhile.
        const unlocked = await node.provider.getSigner(fx.nodeA.address);
        await (await unlocked.sendTransaction({ to: fx.nodeA.address, value: 0n })).wait();

        const [result] = await manager(db).reconcile();
        expect(result?.status).to.equal("confirmed");
        expect(result?.txHash).to.not.equal(signedHash);
        expect(result?.nonce).to.equal(before + 1n);
        expect(await sentCount()).to.equal(before + 2n);
        expect(await committedCount()).to.equal(1);
      });

      it("sends a mined transaction whose block left the chain again, the same signed bytes", async () => {
        const before = await sentCount();
        const fork = (await node.provider.send("evm_snapshot", [])) as string;
        const txs = manager(db);
        const first = await txs.send(request());
        expect(await txs.recheckRecent(), "nothing dropped yet").to.deep.equal([]);
        // The block holding it leaves the chain (a reorganisation; a chain restored from an older dump).
        await node.provider.send("evm_revert", [fork]);
        expect(await node.provider.send("eth_getTransactionReceipt", [first.txHash])).to.equal(null);
        expect(await sentCount()).to.equal(before);

        const [again, ...more] = await txs.recheckRecent();
        expect(more).to.deep.equal([]);
        expect([again?.txHash, again?.nonce, again?.status]).to.deep.equal([
          first.txHash,
          before,
          "confirmed",
        ]);
        expect(await sentCount()).to.equal(before + 1n);
        expect(await committedCount()).to.equal(1);
        expect((await txs.send(request())).txHash, "the key keeps its transaction").to.equal(first.txHash);
      });

      it("signs a dropped transaction again when its nonce went to another on the new chain", async () => {
        const before = await sentCount();
        const fork = (await node.provider.send("evm_snapshot", [])) as string;
        const first = await manager(db).send(request());
        await node.provider.send("evm_revert", [fork]);
        const unlocked = await node.provider.getSigner(fx.nodeA.address);
        await (await unlocked.sendTransaction({ to: fx.nodeA.address, value: 0n })).wait();

        // On start, reconcile() rechecks too.
        const [again] = await manager(db).reconcile();
        expect(again?.status).to.equal("confirmed");
        expect(again?.txHash).to.not.equal(first.txHash);
        expect(again?.nonce).to.equal(before + 1n);
        expect(await sentCount()).to.equal(before + 2n);
        expect(await committedCount()).to.equal(1);
      });

      it("signs again with a fresh nonce when the node answers nonce too low", async () => {
        const before = await sentCount();
        let firstHash = "";
        let raced = false;
        const result = await manager(db, {
          hooks: {
            afterSign: async (hash) => {
              if (raced) return;
              raced = true;
              firstHash = hash;
              // Another process takes the nonce between signing and broadcasting.
              const unlocked = await node.provider.getSigner(fx.nodeA.address);
              await (await unlocked.sendTransaction({ to: fx.nodeA.address, value: 0n })).wait();
            },
          },
        }).send(request());
        expect(result.status).to.equal("confirmed");
        expect(result.txHash).to.not.equal(firstHash);
        expect(result.nonce).to.equal(before + 1n);
        expect(await sentCount()).to.equal(before + 2n);
        expect(await committedCount()).to.equal(1);
      });

      it("records a transaction that reverted on chain and keeps its key used", async () => {
        const before = await sentCount();
        // Too little gas: the estimate passes, the mined transaction runs out of gas.
        const result = await manager(db, { gasMarginPercent: 60 }).send(request());
        expect(result.status).to.equal("reverted");
        expect(await sentCount()).to.equal(before + 1n);
        expect(await committedCount()).to.equal(0);
        expect(await manager(db).send(request())).to.deep.equal(result);
        expect(await sentCount()).to.equal(before + 1n);
      });

      it("gives concurrent sends distinct consecutive nonces", async () => {
        const before = await sentCount();
        const txs = manager(db);
        const results = await Promise.all(
          [1, 2, 3].map((n) =>
            txs.send({ kind: "ping", idempotencyKey: `ping:${n}`, to: fx.admin.address, data: "0x" }),
          ),
        );
        expect(results.map((r) => r.nonce).sort()).to.deep.equal([before, before + 1n, before + 2n]);
        expect(await sentCount()).to.equal(before + 3n);
      });

      it("waits while the RPC node is unreachable and completes the send when it returns", async () => {
        const proxy = await TcpProxy.start(node.port);
        const viaProxy = new JsonRpcProvider(proxy.url, Network.from(31337), { staticNetwork: true });
        try {
          const before = await sentCount();
          await proxy.close();
          let settled = false;
          const sending = manager(db, {}, viaProxy)
            .send(request())
            .finally(() => (settled = true));
          await new Promise((resolve) => setTimeout(resolve, 1_500));
          expect(settled).to.equal(false);
          expect(await sentCount()).to.equal(before);
          await proxy.open();
          const result = await sending;
          expect(result.status).to.equal("confirmed");
          expect(await sentCount()).to.equal(before + 1n);
          expect(await committedCount()).to.equal(1);
        } finally {
          viaProxy.destroy();
          await proxy.close();
        }
      });
    });
  }
});
