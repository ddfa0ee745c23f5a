/**
 * The period routes against a real ledger (Hardhat JSON-RPC on 127.0.0.1): a period both carriers
 * revealed with the same figures (and different roots) is Reconciled; its view reads as `icl period show --json` has it; an
 * arbiter does not see it (not disputed); two officers of carrier A sign the typed data the API hands
 * out, in the browser's stead, and the node submits once the threshold is reached.
 */
import { expect } from "chai";
import { id, type Wallet } from "ethers";
import { APPROVAL_TYPES, ledgerDomain } from "../../../node/src/protocol";
import { type ChainClient } from "../../../node/src/chain/client";
import {
  CARRIER_A,
  CARRIER_B,
  PERIOD,
  fundCarrier,
  hardhatWallet,
  type HardhatNode,
  type ScriptedLedger,
  commitAndRevealBoth,
} from "../../../test/helpers/hardhat";
import type { Database } from "../../../node/src/db/database";
import { loadPeriodView } from "../../../node/src/settlement/period-view";
import { primaryTarget } from "../../../test/helpers/databases";
import type { RunningGateway } from "../gateway";
import { carrierAChain, carrierAOnLedger } from "../../../test/helpers/ledger-node";
import { jsonify, periodViewJson } from "./json";
import { headersFor, startGateway, testNode } from "../../../test/helpers/gateway-api";

const target = primaryTarget();
const PERIOD_TEXT = `${String(PERIOD).slice(0, 4)}-${String(PERIOD).slice(4)}`;

describe(`API periods and approvals on a ledger (${target.name})`, function () {
  this.timeout(180_000);
  let hardhat: HardhatNode;
  let fx: ScriptedLedger;
  let db: Database;
  let chain: ChainClient;
  let gateway: RunningGateway;
  let officers: Wallet[];

  before(async () => {
    const started = await carrierAOnLedger(target);
    ({ hardhat, fx, db } = started);
    chain = await carrierAChain(started);
    officers = [hardhatWallet(1, hardhat.provider), hardhatWallet(2, hardhat.provider)];
    // Both carriers commit and reveal the same figures: Matched. A pays the net 0.6 and its approval
    // reserves it, so A's escrow holds it first.
    await fundCarrier(hardhat.provider, fx, CARRIER_A, 1_000_000n);
    const figures = { ab: 1_000_000n, ba: 400_000n };
    await commitAndRevealBoth(hardhat.provider, fx, figures);
    gateway = await startGateway({ node: testNode(db), chain });
  });
  after(async () => {
    await gateway?.close();
    chain?.close();
    await db?.close();
    await hardhat?.stop();
    await target.cleanup();
  });

  const get = async (path: string, who: Parameters<typeof headersFor>[0]) => {
    const response = await fetch(gateway.url + path, { headers: headersFor(who) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it("shows the period as `icl period show --json` does, bigints as strings", async () => {
    const { status, body } = await get(`/api/v1/periods/A-B/${PERIOD_TEXT}`, {
      kind: "session",
      roles: ["regulator"],
    });
    expect(status).to.equal(200);
    expect(body).to.include({ agreement: "A-B", agreementId: fx.agreementId.toLowerCase(), period: PERIOD });
    // Same figures, different roots (each carrier's own tree): Reconciled.
    expect(body.state).to.equal("Reconciled");
    expect(body.sides).to.have.nested.property("A.amountAB", "1000000");
    expect(body.tolerance).to.deep.include({
      direction: "AB",
      ofA: "1000000",
      ofB: "1000000",
      difference: "0",
      allowed: "5000000",
      within: true,
    });
    const agreement = { agreementId: fx.agreementId, name: "A-B", side: "A" as const };
    const expected = jsonify(periodViewJson(await loadPeriodView(db, chain, agreement, PERIOD)));
    const { chainTime: _a, ...rest } = body;
    const { chainTime: _b, ...want } = expected;
    expect(rest).to.deep.equal({ ...JSON.parse(JSON.stringify(want)), reference: null, fastPath: null });
  });

  it("lists periods by state, and an arbiter sees none of the undisputed ones", async () => {
    const officer = { kind: "session" as const, roles: ["officer" as const] };
    const matched = await get("/api/v1/periods?state=reconciled", officer);
    expect((matched.body.periods as unknown[]).length).to.equal(1);
    const mismatched = await get("/api/v1/periods?state=Mismatched", officer);
    expect(mismatched.body.periods).to.deep.equal([]);
    expect((await get("/api/v1/periods?state=Nope", officer)).status).to.equal(400);
    const arbiter = { kind: "session" as const, roles: ["arbiter" as const] };
    expect((await get("/api/v1/periods", arbiter)).body.periods).to.deep.equal([]);
    expect((await get(`/api/v1/periods/A-B/${PERIOD_TEXT}`, arbiter)).status).to.equal(404);
  });

  it("takes two officers' EIP-712 approvals and submits them at the threshold", async () => {
    const as = (wallet: Wallet) => ({
      kind: "session" as const,
      roles: ["officer" as const],
      address: wallet.address,
    });
    const typed = await get(`/api/v1/periods/A-B/${PERIOD_TEXT}/approval`, as(officers[0]!));
    expect(typed.status).to.equal(200);
    const message = typed.body.message as Record<string, string | number | boolean>;
    expect(typed.body.domain).to.deep.include({ chainId: String(chain.chainId) });
    const approval = {
      ...message,
      amountAB: BigInt(message.amountAB as string),
      amountBA: BigInt(message.amountBA as string),
      deadline: BigInt(message.deadline as string),
    };
    const domain = ledgerDomain(chain.chainId, chain.deployment.ledger);
    const post = async (wallet: Wallet, signer: Wallet) => {
      const response = await fetch(`${gateway.url}/api/v1/periods/A-B/${PERIOD_TEXT}/approvals`, {
        method: "POST",
        headers: { ...headersFor(as(wallet)), "content-type": "application/json" },
        body: JSON.stringify({
          approval: message,
          signature: await signer.signTypedData(domain, APPROVAL_TYPES, approval),
        }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const stolen = await post(officers[1]!, officers[0]!);
    expect(stolen.status, "a signature is handed in by its own officer").to.equal(403);

    const first = await post(officers[0]!, officers[0]!);
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    expect(first.body).to.include({ status: "waiting", threshold: 2, officer: officers[0]!.address });
    const second = await post(officers[1]!, officers[1]!);
    expect(second.status, JSON.stringify(second.body)).to.equal(200);
    expect(second.body.status).to.equal("submitted");
    expect(second.body.txHash).to.match(/^0x[0-9a-f]{64}$/);

    const view = await get(`/api/v1/periods/A-B/${PERIOD_TEXT}`, { kind: "session", roles: ["officer"] });
    const finals = (view.body.approvals as { final: { carrier: string; approved: boolean; count: number }[] })
      .final;
    expect(finals.find((c) => c.carrier === CARRIER_A.toLowerCase())).to.include({
      approved: true,
      count: 2,
    });
  });

  it("shows who pays whom once both carriers approved, settles with the node key, and only once", async () => {
    const officer = { kind: "session" as const, roles: ["officer" as const], address: officers[0]!.address };
    const early = await get(`/api/v1/periods/A-B/${PERIOD_TEXT}/settlement`, officer);
    expect(early.status, "A alone approved: nothing to settle yet").to.equal(409);
    expect((early.body.error as { message: string }).message).to.match(
      /is Reconciled; settle needs Approved/,
    );

    // B's officers (accounts 5 and 8) approve the same figures on the ledger themselves.
    const ledger = fx.deployment.ledger.connect(hardhat.provider);
    // The figures, roots and round A's officers signed, as the API hands them out.
    const typed = await get(`/api/v1/periods/A-B/${PERIOD_TEXT}/approval`, officer);
    const m = typed.body.message as Record<string, string | number | boolean>;
    const approval = {
      agreementId: fx.agreementId,
      period: PERIOD,
      carrierId: CARRIER_B,
      round: Number(m.round),
      partialSettlement: false,
      amountAB: BigInt(m.amountAB as string),
      amountBA: BigInt(m.amountBA as string),
      rootA: m.rootA as string,
      rootB: m.rootB as string,
      deadline: 4_000_000_000n,
    };
    for (const i of [5, 8]) {
      await (await ledger.connect(hardhatWallet(i, hardhat.provider)).approve(approval)).wait();
    }

    const preview = await get(`/api/v1/periods/A-B/${PERIOD_TEXT}/settlement`, officer);
    expect(preview.status, JSON.stringify(preview.body)).to.equal(200);
    expect(preview.body).to.include({ kind: "settle", state: "Approved" });
    const plan = preview.body.plan as { periods: { payer: string; amount: string }[]; topUps: unknown[] };
    expect(plan.periods).to.have.length(1);
    expect(plan.periods[0]).to.include({ amount: "0.600000" });
    expect(plan.topUps).to.deep.equal([]);

    const send = () =>
      fetch(`${gateway.url}/api/v1/periods/A-B/${PERIOD_TEXT}/settle`, {
        method: "POST",
        headers: { ...headersFor(officer), "content-type": "application/json" },
        body: "{}",
      });
    const sent = await send();
    const body = (await sent.json()) as { state: string; transaction: { txHash: string } };
    expect(sent.status, JSON.stringify(body)).to.equal(200);
    expect(body.state).to.equal("Settled");
    expect(body.transaction.txHash).to.match(/^0x[0-9a-f]{64}$/);
    const nonce = await hardhat.provider.getTransactionCount(fx.nodeA.address);
    const again = await send();
    expect(again.status, "a Settled period is not settled again").to.equal(409);
    expect(await hardhat.provider.getTransactionCount(fx.nodeA.address), "nothing sent twice").to.equal(
      nonce,
    );
  });

  it("refuses a signature over other figures with 409 and keeps nothing", async () => {
    const wallet = officers[0]!;
    const headers = {
      ...headersFor({ kind: "session", roles: ["officer"], address: wallet.address }),
      "content-type": "application/json",
    };
    const approval = {
      agreementId: fx.agreementId,
      period: PERIOD,
      carrierId: CARRIER_A,
      round: 0,
      partialSettlement: false,
      amountAB: 999n,
      amountBA: 1n,
      rootA: id("root-x"),
      rootB: id("root-y"),
      deadline: 4_000_000_000n,
    };
    const signature = await wallet.signTypedData(
      ledgerDomain(chain.chainId, chain.deployment.ledger),
      APPROVAL_TYPES,
      approval,
    );
    const response = await fetch(`${gateway.url}/api/v1/periods/A-B/${PERIOD_TEXT}/approvals`, {
      method: "POST",
      headers,
      body: JSON.stringify({ approval: jsonify(approval), signature }),
    });
    expect(response.status).to.equal(409);
    const { rows } = await db.query<{ n: bigint }>(
      "SELECT count(*)::bigint AS n FROM officer_approvals WHERE amount_ab = '999'",
    );
    expect(Number(rows[0]!.n)).to.equal(0);
  });

  it("is ready with the chain, and counts periods by state in /metrics", async () => {
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(ready.status).to.equal(200);
    expect(((await ready.json()) as { checks: { chain: { status: string } } }).checks.chain.status).to.equal(
      "ok",
    );
    const metrics = await fetch(`${gateway.url}/metrics`, {
      headers: headersFor({ kind: "token", roles: ["admin"], scopes: ["metrics:read"] }),
    });
    const text = await metrics.text();
    // Both carriers approved and an officer settled it (the test before).
    expect(text).to.match(/^icl_periods\{state="Settled"\} 1$/m);
    expect(text).to.match(/^icl_chain_transactions_pending 0$/m);
  });
});
