/**
 * The console's signing routes against a real ledger (Hardhat JSON-RPC on 127.0.0.1), carrier A's node:
 * what the relay refuses to broadcast (someone else's signature, another contract, another chain, a
 * call that is not a dispute step, an unsigned transaction), a plan the ledger would refuse, and the
 * evidence upload's limits. The happy paths run in the browser suite (gateway/src/console/).
 */
import { expect } from "chai";
import { Transaction, Wallet, ZeroAddress } from "ethers";
import { type ChainClient } from "../../../node/src/chain/client";
import {
  CARRIER_A,
  PERIOD,
  hardhatWallet,
  type HardhatNode,
  type ScriptedLedger,
} from "../../../test/helpers/hardhat";
import type { Database } from "../../../node/src/db/database";
import { deriveEvidenceKey, getEvidence } from "../../../node/src/evidence/bundle";
import { primaryTarget } from "../../../test/helpers/databases";
import type { CarrierNode } from "../../../node/src/node";
import type { RunningGateway } from "../gateway";
import { carrierAChain, carrierAOnLedger } from "../../../test/helpers/ledger-node";
import { headersFor, startGateway, testNode } from "../../../test/helpers/gateway-api";

const target = primaryTarget();
const SECRET = Buffer.alloc(32, 0x42);
const MONTH = `${String(PERIOD).slice(0, 4)}-${String(PERIOD).slice(4)}`;

describe(`API dispute signing routes on a ledger (${target.name})`, function () {
  this.timeout(120_000);
  let hardhat: HardhatNode;
  let fx: ScriptedLedger;
  let db: Database;
  let node: CarrierNode;
  let chain: ChainClient;
  let gateway: RunningGateway;
  let officer: Wallet;

  before(async () => {
    const started = await carrierAOnLedger(target, SECRET);
    ({ hardhat, fx, db } = started);
    officer = hardhatWallet(1, hardhat.provider);
    node = testNode(db);
    chain = await carrierAChain(started);
    gateway = await startGateway({ node, chain, uploads: { fileBytes: 2 * 1024 * 1024 } });
  });
  after(async () => {
    await gateway?.close();
    chain?.close();
    await hardhat?.stop();
    await target.cleanup();
  });

  const as = (address: string) => headersFor({ kind: "session", roles: ["officer"], address });
  const post = (path: string, body: unknown, address = officer.address) =>
    fetch(`${gateway.url}${path}`, {
      method: "POST",
      headers: { ...as(address), "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  /** A dispute step signed by `wallet`, with fields overridden. */
  async function signed(wallet: Wallet, fields: Partial<{ to: string; data: string; chainId: bigint }> = {}) {
    const data =
      fields.data ??
      chain.ledger.interface.encodeFunctionData("openDispute", [fx.agreementId, PERIOD, CARRIER_A, 1, ""]);
    return wallet.signTransaction({
      type: 2,
      chainId: fields.chainId ?? chain.chainId,
      nonce: await hardhat.provider.getTransactionCount(wallet.address),
      to: fields.to ?? fx.addresses.ledger,
      data,
      gasLimit: 300_000n,
      maxFeePerGas: 10n ** 10n,
      maxPriorityFeePerGas: 1n,
    });
  }

  it("relays nothing but a dispute step signed by the signed-in person to this ledger on this chain", async () => {
    const nonceBefore = await hardhat.provider.getTransactionCount(officer.address);
    const other = hardhatWallet(2, hardhat.provider);
    const cases: [string, string, number, string][] = [
      ["someone else's signature", await signed(other), 403, "SIGNER_MISMATCH"],
      [
        "another contract",
        await signed(officer, { to: fx.addresses.registry }),
        400,
        "not to this node's ledger",
      ],
      ["another chain", await signed(officer, { chainId: 1n }), 400, "for chain 1"],
      [
        "not a dispute step",
        await signed(officer, {
          data: chain.ledger.interface.encodeFunctionData("deposit", [CARRIER_A, ZeroAddress, 1n]),
        }),
        400,
        "not a dispute step",
      ],
      [
        "unsigned",
        Transaction.from({
          type: 2,
          chainId: chain.chainId,
          to: fx.addresses.ledger,
          data: "0x",
          nonce: 0,
          gasLimit: 1n,
        }).unsignedSerialized,
        400,
        "not signed",
      ],
      ["not a transaction", "0xdeadbeef", 400, "not a signed transaction"],
    ];
    for (const [what, raw, status, text] of cases) {
      const response = await post("/api/v1/chain/transactions", { raw });
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(response.status, what).to.equal(status);
      expect(`${body.error.code} ${body.error.message}`, what).to.contain(text);
    }
    expect(await hardhat.provider.getTransactionCount(officer.address), "nothing was broadcast").to.equal(
      nonceBefore,
    );
  });

  it("plans nothing the ledger would refuse: a dispute on a period that is not Mismatched is a 409", async () => {
    const response = await post(`/api/v1/periods/A-B/${MONTH}/disputes/plan`, {
      step: "open",
      reason: "missing_cdrs",
    });
    const body = (await response.json()) as { error: { message: string } };
    expect(response.status).to.equal(409);
    expect(body.error.message).to.match(/Mismatched|state/);
  });

  it("takes a rationale as text for a ruling only, never beside a CID, and not beyond its length", async () => {
    const plan = (body: object) => post(`/api/v1/periods/A-B/${MONTH}/disputes/plan`, body);
    const onOpen = await plan({ step: "open", rationale: "because" });
    expect(onOpen.status).to.equal(400);
    expect(((await onOpen.json()) as { error: { message: string } }).error.message).to.contain(
      "only a ruling has a rationale",
    );
    const cid = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4";
    const both = await plan({
      step: "rule",
      amountAB: "1",
      amountBA: "1",
      rationale: "why",
      evidenceCid: cid,
    });
    expect(both.status).to.equal(400);
    const long = await plan({ step: "rule", amountAB: "1", amountBA: "1", rationale: "x".repeat(20_001) });
    expect(long.status).to.equal(400);
    expect(((await long.json()) as { error: { field: string } }).error.field).to.equal("body.rationale");
  });

  it("seals an evidence file only the agreement's key opens; refuses traversal names, empty and oversized bodies", async () => {
    const upload = (name: string, body: string) =>
      fetch(`${gateway.url}/api/v1/periods/A-B/${MONTH}/evidence?name=${encodeURIComponent(name)}`, {
        method: "POST",
        headers: { ...as(officer.address), "content-type": "text/csv" },
        body,
      });
    const ok = await upload("calls.csv", "cdr_id\nA-1\n");
    expect(ok.status).to.equal(201);
    const stored = (await ok.json()) as { cid: string; bytes: number };
    expect(stored.bytes).to.equal(11);
    const bundle = (await getEvidence(
      node.evidence,
      stored.cid,
      deriveEvidenceKey(SECRET, fx.agreementId, PERIOD),
      {
        agreementId: fx.agreementId,
        period: PERIOD,
        purpose: "dispute-evidence",
      },
    )) as { files: { name: string; base64: string }[] };
    expect(bundle.files.map((f) => [f.name, Buffer.from(f.base64, "base64").toString()])).to.deep.equal([
      ["calls.csv", "cdr_id\nA-1\n"],
    ]);
    expect((await upload("../../etc/passwd", "x")).status).to.equal(400);
    expect((await upload("calls.csv", "")).status).to.equal(400);
    expect((await upload("big.csv", "x".repeat(2 * 1024 * 1024 + 1))).status).to.equal(413);
  });

  it("seals an evidence file larger than one block (a UnixFS DAG) up to the file upload limit", async () => {
    const file = "cdr_id,a_number,b_number\n" + "A-1,+4930123456,+4417001234\n".repeat(56_000);
    const response = await fetch(`${gateway.url}/api/v1/periods/A-B/${MONTH}/evidence?name=calls.csv`, {
      method: "POST",
      headers: { ...as(officer.address), "content-type": "text/csv" },
      body: file,
    });
    expect(response.status).to.equal(201);
    const stored = (await response.json()) as { cid: string; bytes: number };
    expect(stored.bytes).to.equal(file.length);
    expect(stored.bytes).to.be.above(1024 * 1024);
    expect(stored.cid).to.match(/^bafybei/);
    const bundle = (await getEvidence(
      node.evidence,
      stored.cid,
      deriveEvidenceKey(SECRET, fx.agreementId, PERIOD),
      { agreementId: fx.agreementId, period: PERIOD, purpose: "dispute-evidence" },
    )) as { files: { name: string; base64: string }[] };
    expect(Buffer.from(bundle.files[0]!.base64, "base64").toString()).to.equal(file);
  });
});
