/**
 * The live sources' families of `/metrics`: lag, messages, records, last batch and restarts per
 * source, from the live-source registry, as a scrape of the running gateway shows them.
 */
import { expect } from "chai";
import type { Database } from "../../../node/src/db/database";
import { openDatabase } from "../../../node/src/db/open";
import { LiveStatsRegistry, liveStats } from "../../../node/src/ingest/live-stats";
import { headersFor, startGateway, testNode } from "../../../test/helpers/gateway-api";
import type { RunningGateway } from "../gateway";
import { nodeMetrics } from "./node-metrics";

const NATS = "nats://127.0.0.1:4222 stream CDRS subject cdrs.switch1 durable icl-icl-json";

describe("node metrics: live sources", function () {
  it("reports each live source's lag, counters, last batch and state; a lag not known yet is left out", async () => {
    const registry = new LiveStatsRegistry();
    registry.update(NATS, "stream", { records: 1_200, lag: 35, lastBatchAt: 1_760_000_000_500 });
    registry.addMessages(NATS, "stream", 1_000);
    registry.addMessages(NATS, "stream", 250);
    registry.update("postgres://127.0.0.1:5432/kamailio table acc", "table", {
      state: "retrying",
      restarts: 2,
      lastError: "the database is unavailable",
    });
    const families = await nodeMetrics(null, null, registry).collect();
    const sample = (name: string, source: string) =>
      families.find((f) => f.name === name)?.samples.find((s) => s.labels.source === source);

    expect(sample("icl_ingest_source_lag_messages", NATS)).to.deep.equal({
      labels: { source: NATS, kind: "stream" },
      value: 35,
    });
    expect(sample("icl_ingest_source_messages_total", NATS)?.value).to.equal(1_250);
    expect(sample("icl_ingest_source_records_total", NATS)?.value).to.equal(1_200);
    expect(sample("icl_ingest_source_last_batch_timestamp_seconds", NATS)?.value).to.equal(1_760_000_000.5);
    expect(sample("icl_ingest_source_up", NATS)?.value).to.equal(1);
    const table = "postgres://127.0.0.1:5432/kamailio table acc";
    expect(sample("icl_ingest_source_up", table)?.value).to.equal(0);
    expect(sample("icl_ingest_source_restarts_total", table)?.value).to.equal(2);
    expect(sample("icl_ingest_source_lag_messages", table)).to.equal(undefined);
    expect(sample("icl_ingest_source_last_batch_timestamp_seconds", table)).to.equal(undefined);
    expect(families.find((f) => f.name === "icl_ingest_source_records_total")?.type).to.equal("counter");
    expect(families.find((f) => f.name === "icl_metrics_source_up")?.samples).to.deep.include({
      labels: { source: "live_sources" },
      value: 1,
    });

    const none = await nodeMetrics(null, null, new LiveStatsRegistry()).collect();
    expect(none.some((f) => f.name.startsWith("icl_ingest_source_"))).to.equal(false);
  });

  describe("scraped from the gateway", function () {
    let db: Database;
    let gateway: RunningGateway;
    before(async () => {
      db = await openDatabase({ dataDir: null });
      gateway = await startGateway({ node: testNode(db) });
    });
    after(async () => {
      liveStats.clear();
      await gateway.close();
      await db.close();
    });

    it("shows what the process's live sources report, the source as a label", async () => {
      liveStats.update(NATS, "stream", { lag: 7, records: 42 });
      const response = await fetch(`${gateway.url}/metrics`, {
        headers: headersFor({ kind: "token", roles: ["admin"], scopes: ["metrics:read"] }),
      });
      expect(response.status).to.equal(200);
      const text = await response.text();
      expect(text).to.contain("# TYPE icl_ingest_source_lag_messages gauge");
      expect(text).to.contain(`icl_ingest_source_lag_messages{source="${NATS}",kind="stream"} 7`);
      expect(text).to.contain(`icl_ingest_source_records_total{source="${NATS}",kind="stream"} 42`);
    });
  });
});
