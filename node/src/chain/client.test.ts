import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import { inspect } from "node:util";
import { Wallet, encryptKeystoreJson, id } from "ethers";
import { databaseTargets, tempDir } from "../../../test/helpers/databases";
import { BaseError, InputError } from "../errors";
import { streamLogger } from "../logger";
import type { Database } from "../db/database";
import { createChainClient } from "./client";
import { loadDeployment } from "./deployment";
import { loadNodeKey, readKeyPassword } from "./keys";
import {
  CARRIER_A,
  PERIOD,
  commitCall,
  scriptLedger,
  startHardhatNode,
  type HardhatNode,
  type ScriptedLedger,
} from "../../../test/helpers/hardhat";

const PASSWORD = "correct horse battery staple";

describe("chain: client, deployment file and node key", function () {
  this.timeout(120_000);
  let node: HardhatNode;
  let fx: ScriptedLedger;
  let dir: string;
  let keyFile: string;
  const [target] = databaseTargets();
  let db: Database;

  before(async () => {
    node = await startHardhatNode();
    fx = await scriptLedger(node.provider);
    dir = tempDir("icl-chain-");
    keyFile = path.join(dir, "node-key.json");
    // A cheap scrypt setting keeps the test fast; real keystores use ethers' default.
    const json = await encryptKeystoreJson(
      { address: fx.nodeA.address, privateKey: fx.nodeA.privateKey },
      PASSWORD,
      { scrypt: { N: 1 << 10 } },
    );
    fs.writeFileSync(keyFile, json);
    db = await target!.open();
  });
  after(async () => {
    await db?.close();
    await target?.cleanup();
    await node?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("loads the node key from an encrypted keystore and refuses a wrong password without echoing it", async () => {
    const wallet = await loadNodeKey(keyFile, PASSWORD);
    expect(wallet.address).to.equal(fx.nodeA.address);
    let caught: unknown;
    await loadNodeKey(keyFile, "hunter2-not-it").catch((error: unknown) => (caught = error));
    expect(caught).to.be.instanceOf(InputError);
    expect(String(caught)).to.not.include("hunter2-not-it");
  });

  it("takes the password from ICL_KEY_PASSWORD, else prompts without echo", async () => {
    const output = new PassThrough();
    expect(
      await readKeyPassword({ env: { ICL_KEY_PASSWORD: PASSWORD }, input: new PassThrough(), output }),
    ).to.equal(PASSWORD);

    const modes: boolean[] = [];
    const input = Object.assign(new PassThrough(), {
      isTTY: true,
      setRawMode: (mode: boolean) => modes.push(mode),
    });
    let shown = "";
    output.on("data", (chunk: Buffer) => (shown += chunk.toString()));
    const reading = readKeyPassword({ env: {}, input, output });
    input.write("secrex\u007ft\r");
    expect(await reading).to.equal("secret");
    expect(modes).to.deep.equal([true, false]);
    expect(shown).to.equal("Node key password: \n");
  });

  it("reads deployments/<network>.json and checks its chain id", () => {
    const file = path.join(dir, "hardhat.json");
    const contents = {
      network: "hardhat",
      chainId: 31337,
      deployBlock: fx.addresses.deployBlock,
      deployer: fx.admin.address,
      contracts: {
        CarrierRegistry: fx.addresses.registry,
        AgreementBook: fx.addresses.book,
        SettlementLedger: fx.addresses.ledger,
      },
      token: { address: fx.deployment.tokenAddress, symbol: "ICUSD", decimals: 6, demo: true },
      eip712: { name: "InterconnectLedger", version: "1" },
      deployedAt: new Date().toISOString(),
    };
    fs.writeFileSync(file, JSON.stringify(contents));
    const loaded = loadDeployment(file, 31337n);
    expect(loaded).to.deep.include({ ...fx.addresses, network: "hardhat" });

    let wrongChain: unknown;
    try {
      loadDeployment(file, 1n);
    } catch (error) {
      wrongChain = error;
    }
    expect(wrongChain).to.be.instanceOf(InputError);
    expect((wrongChain as InputError).field).to.equal("chainId");

    fs.writeFileSync(
      file,
      JSON.stringify({ ...contents, contracts: { ...contents.contracts, AgreementBook: "0x12" } }),
    );
    expect(() => loadDeployment(file)).to.throw(InputError, /contracts\.AgreementBook/);
  });

  it("connects with typed contracts, sends through the transaction manager and indexes", async () => {
    const wallet = await loadNodeKey(keyFile, PASSWORD);
    const client = await createChainClient({
      rpcUrl: node.url,
      deployment: fx.addresses,
      signer: wallet,
      db,
      logger: streamLogger(new PassThrough(), "info"),
      transactions: { pollIntervalMs: 50 },
    });
    try {
      expect(client.address).to.equal(fx.nodeA.address);
      expect(await client.ledger.state(fx.agreementId, PERIOD)).to.equal(1n); // Committing
      expect(await client.registry.carrierOfNode(fx.nodeA.address)).to.equal(CARRIER_A);
      const commit = commitCall(fx, CARRIER_A, { ab: 1n, ba: 2n }, id("client-salt"));
      const result = await client.transactions!.send({
        kind: "commit",
        idempotencyKey: `commit:${fx.agreementId}:${PERIOD}:0`,
        to: fx.addresses.ledger,
        data: commit.data,
      });
      expect(result.status).to.equal("confirmed");
      await client.indexer.sync();
      const committed = await db.query<{ n: bigint }>(
        "SELECT count(*) AS n FROM chain_events WHERE name = 'Committed'",
      );
      expect(Number(committed.rows[0]?.n)).to.equal(1);
    } finally {
      client.close();
    }
  });

  it("refuses an RPC node of another chain and an address without the ledger", async () => {
    const connect = (deployment: typeof fx.addresses) =>
      createChainClient({ rpcUrl: node.url, deployment, db, logger: streamLogger(new PassThrough()) }).then(
        () => null,
        (error: unknown) => error,
      );
    const otherChain = await connect({ ...fx.addresses, chainId: 1n });
    expect(otherChain).to.be.instanceOf(BaseError);
    expect((otherChain as BaseError).code).to.equal("CHAIN_MISMATCH");
    const noLedger = await connect({ ...fx.addresses, ledger: fx.admin.address });
    expect((noLedger as BaseError).code).to.equal("DEPLOYMENT_MISMATCH");
  });

  it("never shows the key or the password when the client is logged, inspected or serialised", async () => {
    const lines: string[] = [];
    const sink = new PassThrough();
    sink.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
    const logger = streamLogger(sink, "info");
    const wallet = await loadNodeKey(keyFile, PASSWORD);
    const client = await createChainClient({
      rpcUrl: node.url,
      deployment: fx.addresses,
      signer: wallet,
      db,
      logger,
    });
    try {
      logger.info("client ready", { client, transactions: client.transactions });
      const secret = wallet.privateKey.slice(2).toLowerCase();
      const shown = [
        lines.join(""),
        JSON.stringify(client),
        JSON.stringify(client.transactions),
        inspect(client, { depth: Infinity }),
        inspect(client.transactions, { depth: Infinity }),
        inspect(client.ledger, { depth: 8 }),
        inspect(wallet, { depth: 8 }),
        String(client),
      ].join("\n");
      expect(shown).to.include(wallet.address);
      expect(shown.toLowerCase()).to.not.include(secret);
      expect(shown).to.not.include(PASSWORD);
      expect(new Wallet(wallet.privateKey).address).to.equal(fx.nodeA.address);
    } finally {
      client.close();
    }
  });
});
