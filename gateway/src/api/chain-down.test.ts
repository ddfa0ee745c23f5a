/**
 * When the RPC node goes away, the period routes answer 503 with `RPC_UNAVAILABLE`, not 500: every
 * contract call of the chain client passes node/src/chain/guarded.ts. The chain sits behind a TCP
 * proxy that the test closes; opened again, the same gateway answers 200.
 */
import { expect } from "chai";
import { type ChainClient } from "../../../node/src/chain/client";
import { PERIOD, TcpProxy, type HardhatNode, type ScriptedLedger } from "../../../test/helpers/hardhat";
import type { Database } from "../../../node/src/db/database";
import { primaryTarget } from "../../../test/helpers/databases";
import type { RunningGateway } from "../gateway";
import { carrierAChain, carrierAOnLedger } from "../../../test/helpers/ledger-node";
import { headersFor, startGateway, testNode } from "../../../test/helpers/gateway-api";

const target = primaryTarget();
const PERIOD_TEXT = `${String(PERIOD).slice(0, 4)}-${String(PERIOD).slice(4)}`;

describe("API with the chain's RPC node down", function () {
  this.timeout(120_000);
  let hardhat: HardhatNode;
  let proxy: TcpProxy;
  let fx: ScriptedLedger;
  let db: Database;
  let chain: ChainClient;
  let gateway: RunningGateway;

  before(async () => {
    const started = await carrierAOnLedger(target);
    ({ hardhat, fx, db } = started);
    proxy = await TcpProxy.start(hardhat.port);
    // Read-only (no node key) through the proxy, giving up on the RPC node after a second.
    chain = await carrierAChain(started, {
      rpcUrl: proxy.url,
      signer: undefined,
      retry: { maxElapsedMs: 1_000 },
    });
    gateway = await startGateway({ node: testNode(db), chain });
  });
  after(async () => {
    await gateway?.close();
    chain?.close();
    await proxy?.close();
    await db?.close();
    await hardhat?.stop();
    await target.cleanup();
  });

  const get = async (path: string) => {
    const response = await fetch(gateway.url + path, {
      headers: headersFor({ kind: "session", roles: ["regulator"] }),
      signal: AbortSignal.timeout(30_000),
    });
    return {
      status: response.status,
      body: (await response.json()) as { error?: { code: string; message: string } },
    };
  };

  it("answers 503 RPC_UNAVAILABLE (in seconds, not after the retries' minutes) while the RPC node is unreachable, and 200 once it is back", async () => {
    expect((await get(`/api/v1/periods/A-B/${PERIOD_TEXT}`)).status).to.equal(200);
    await proxy.close();
    const down = await get(`/api/v1/periods/A-B/${PERIOD_TEXT}`);
    expect(down.status, JSON.stringify(down.body)).to.equal(503);
    expect(down.body.error?.code).to.equal("RPC_UNAVAILABLE");
    // Named by the contract call that found it down (the agreement book is read first now).
    expect(down.body.error?.message).to.match(
      /the chain node is unreachable \((AgreementBook|SettlementLedger)\.\w+/,
    );
    for (const route of [
      "/api/v1/periods",
      "/api/v1/audit/verify",
      `/api/v1/periods/A-B/${PERIOD_TEXT}/timeline`,
    ]) {
      const answer = await get(route);
      expect(answer.status, `${route}: ${JSON.stringify(answer.body)}`).to.equal(503);
      expect(answer.body.error?.code, route).to.equal("RPC_UNAVAILABLE");
    }
    await proxy.open();
    expect((await get(`/api/v1/periods/A-B/${PERIOD_TEXT}`)).status).to.equal(200);
  });

  it("decodes a revert through the same layer", async () => {
    let error: unknown;
    await chain.ledger.approvalFigures(fx.agreementId, PERIOD, false).catch((e: unknown) => (error = e));
    expect(error).to.have.property("code", "CONTRACT_REVERT");
    expect(String((error as Error).message)).to.match(/LedgerUnexpectedState/);
  });
});
