/**
 * `/readyz` (database, chain, evidence store) and `/metrics` (Prometheus text: request counts and
 * latency by route and status, and the node's gauges).
 */
import { expect } from "chai";
import { JsonRpcProvider, Network } from "ethers";
import type { ChainClient } from "../../../node/src/chain/client";
import { freePort } from "../../../test/helpers/hardhat";
import type { Database } from "../../../node/src/db/database";
import { databaseTargets } from "../../../test/helpers/databases";
import type { RunningGateway } from "../gateway";
import { headersFor, startGateway, testNode } from "../../../test/helpers/gateway-api";

const SCRAPER = headersFor({ kind: "token", roles: ["admin"], scopes: ["metrics:read"] });
/** `name{labels} value` or `name value`, as the exposition format writes samples. */
const SAMPLE =
  /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$/;

interface Parsed {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses exposition text; throws on a line that is neither a comment nor a sample. */
function parseMetrics(text: string): Parsed[] {
  const samples: Parsed[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = value!;
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** A chain client whose RPC endpoint is a closed port: enough for the readiness check. */
async function deadChain(): Promise<ChainClient> {
  const provider = new JsonRpcProvider(`http://127.0.0.1:${await freePort()}`, Network.from(31337), {
    staticNetwork: true,
  });
  return { provider, close: () => provider.destroy() } as unknown as ChainClient;
}

for (const target of databaseTargets()) {
  describe(`/readyz and /metrics on ${target.name}`, function () {
    let db: Database;
    let gateway: RunningGateway;

    before(async () => {
      db = await target.open();
      gateway = await startGateway({ node: testNode(db) });
    });
    after(async () => {
      await gateway.close();
      await db.close();
      await target.cleanup();
    });

    it("is ready with a database and no chain configured", async () => {
      const response = await fetch(`${gateway.url}/readyz`);
      expect(response.status).to.equal(200);
      const body = (await response.json()) as { status: string; checks: Record<string, { status: string }> };
      expect(body.status).to.equal("ready");
      expect(body.checks.database!.status).to.equal("ok");
      expect(body.checks.chain!.status).to.equal("skipped");
    });

    it("answers 503 naming the chain when its RPC endpoint is dead", async () => {
      const chain = await deadChain();
      const dead = await startGateway({ node: testNode(db), chain });
      try {
        const response = await fetch(`${dead.url}/readyz`);
        expect(response.status).to.equal(503);
        const body = (await response.json()) as {
          status: string;
          checks: Record<string, { status: string }>;
        };
        expect(body.status).to.equal("unavailable");
        expect(body.checks.chain!.status).to.equal("failed");
        expect(body.checks.database!.status).to.equal("ok");
        expect(JSON.stringify(body)).to.not.match(/127\.0\.0\.1|ECONNREFUSED/);
      } finally {
        await dead.close();
        chain.close();
      }
    });

    it("answers 503 without a node", async () => {
      const bare = await startGateway({ node: null });
      try {
        expect((await fetch(`${bare.url}/readyz`)).status).to.equal(503);
      } finally {
        await bare.close();
      }
    });

    it("serves Prometheus text that parses and counts requests by route and status", async () => {
      const operator = headersFor({ kind: "session", roles: ["operator"] });
      for (let i = 0; i < 3; i++)
        await (await fetch(`${gateway.url}/api/v1/partners`, { headers: operator })).text();
      await (await fetch(`${gateway.url}/api/v1/rejects?limit=0`, { headers: operator })).text();
      await (await fetch(`${gateway.url}/api/v1/partners`)).text();
      await (await fetch(`${gateway.url}/no/such/route/123`)).text();

      const response = await fetch(`${gateway.url}/metrics`, { headers: SCRAPER });
      expect(response.status).to.equal(200);
      expect(response.headers.get("content-type")).to.match(/^text\/plain; version=0\.0\.4/);
      const samples = parseMetrics(await response.text());
      const value = (name: string, labels: Record<string, string>) =>
        samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
          ?.value;
      const route = "/api/v1/partners";
      expect(value("icl_http_requests_total", { method: "GET", route, status: "200" })).to.equal(3);
      expect(value("icl_http_requests_total", { method: "GET", route, status: "401" })).to.equal(1);
      expect(value("icl_http_requests_total", { route: "/api/v1/rejects", status: "400" })).to.equal(1);
      expect(value("icl_http_requests_total", { route: "unmatched", status: "404" })).to.equal(1);
      expect(
        samples.some((s) => s.labels.route?.includes("123")),
        "raw URLs are never labels",
      ).to.equal(false);
      expect(value("icl_http_request_duration_seconds_count", { route, status: "200" })).to.equal(3);
      expect(
        value("icl_http_request_duration_seconds_bucket", { route, status: "200", le: "+Inf" }),
      ).to.equal(3);
      expect(value("icl_ingest_files", { status: "done" })).to.equal(0);
      expect(value("icl_metrics_source_up", { source: "ingest" })).to.equal(1);
    });

    it("keeps /metrics for operators, admins and tokens with metrics:read", async () => {
      expect((await fetch(`${gateway.url}/metrics`)).status).to.equal(401);
      const regulator = headersFor({ kind: "session", roles: ["regulator"] });
      expect((await fetch(`${gateway.url}/metrics`, { headers: regulator })).status).to.equal(403);
      const token = headersFor({ kind: "token", roles: ["admin"], scopes: ["periods:read"] });
      expect((await fetch(`${gateway.url}/metrics`, { headers: token })).status).to.equal(403);
    });
  });
}
