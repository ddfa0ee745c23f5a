/**
 * Gauges read from the node when Prometheus scrapes: periods by ledger state, the node key's
 * transactions not yet final, the ingest counters, and the live sources `icl run` consumes (lag,
 * messages, records, last batch, from the process's live-source registry). Each uses the node's
 * own listing functions; the periods are those `icl periods list` shows (summaries, and
 * commitments in the ledger's logs), their states one `eth_call` each, cached for
 * {@link PERIOD_CACHE_MS}.
 */
import type { ChainClient } from "../../../node/src/chain/client";
import { PERIOD_STATES } from "../../../node/src/protocol";
import { INGEST_STATUSES, type IngestStatus } from "../../../node/src/services/records";
import { liveStats, type LiveStatsRegistry } from "../../../node/src/ingest/live-stats";
import type { CarrierNode } from "../../../node/src/node";
import type { Family } from "./metrics";

/** How long a count of periods by state is reused: scrapes come every 15–60 s, states change in days. */
export const PERIOD_CACHE_MS = 30_000;
/** Beyond this many periods the gauge reports the first ones only (and says so in its own gauge). */
const MAX_PERIODS = 1_000;

/**
 * Gauges of the node's data; a part that is missing (no chain) leaves its gauges out. `live` is the
 * registry the live sources report to (the process's own unless a test gives one).
 */
export function nodeMetrics(
  node: CarrierNode | null,
  chain: ChainClient | null,
  live: LiveStatsRegistry = liveStats,
) {
  let cached: { at: number; families: Family[] } | null = null;

  async function periodFamilies(): Promise<Family[]> {
    if (node === null || chain === null) return [];
    if (cached !== null && Date.now() - cached.at < PERIOD_CACHE_MS) return cached.families;
    const periods = await node.periods.known(chain);
    const counts = new Map<string, number>(PERIOD_STATES.map((state) => [state, 0]));
    const states = await Promise.all(
      periods
        .slice(0, MAX_PERIODS)
        .map(async (p) => PERIOD_STATES[Number(await chain.ledger.state(p.agreementId, p.period))]),
    );
    for (const state of states) if (state !== undefined) counts.set(state, (counts.get(state) ?? 0) + 1);
    const families: Family[] = [
      {
        name: "icl_periods",
        help: "Agreement-periods this node follows, by ledger state.",
        type: "gauge",
        samples: [...counts].map(([state, value]) => ({ labels: { state }, value })),
      },
    ];
    cached = { at: Date.now(), families };
    return families;
  }

  async function transactionFamilies(): Promise<Family[]> {
    if (node === null || chain === null || chain.address === null) return [];
    const pending = await node.chainRecords.pendingTxs(chain.chainId, chain.address);
    return [
      {
        name: "icl_chain_transactions_pending",
        help: "Transactions of the node key not yet final (intent, signed or sent).",
        type: "gauge",
        samples: [{ labels: {}, value: pending.length }],
      },
    ];
  }

  async function ingestFamilies(): Promise<Family[]> {
    if (node === null) return [];
    const files = await node.cdrs.files();
    const byStatus = Object.fromEntries(INGEST_STATUSES.map((status) => [status, 0])) as Record<
      IngestStatus,
      number
    >;
    const records = { rated: 0n, unbilled: 0n, rejected: 0n };
    for (const file of files) {
      byStatus[file.status] += 1;
      records.rated += file.rated;
      records.unbilled += file.unbilled;
      records.rejected += file.rejected;
    }
    return [
      {
        name: "icl_ingest_files",
        help: "CDR files known to the node, by ingest status.",
        type: "gauge",
        samples: Object.entries(byStatus).map(([status, value]) => ({ labels: { status }, value })),
      },
      {
        name: "icl_ingest_records_total",
        help: "CDR records ingested, by outcome.",
        type: "counter",
        samples: Object.entries(records).map(([outcome, value]) => ({
          labels: { outcome },
          value: Number(value),
        })),
      },
    ];
  }

  /** The live sources' figures: Prometheus takes the rate of the counters, the lag is a gauge. */
  async function liveSourceFamilies(): Promise<Family[]> {
    const sources = live.list();
    if (sources.length === 0) return [];
    const per = (value: (s: (typeof sources)[number]) => number | null) =>
      sources.flatMap((s) => {
        const v = value(s);
        return v === null ? [] : [{ labels: { source: s.source, kind: s.kind }, value: v }];
      });
    return [
      {
        name: "icl_ingest_source_up",
        help: "Whether each live source is being read (1) or is waiting for a restart, failed or stopped (0).",
        type: "gauge",
        samples: per((s) => (s.state === "running" ? 1 : 0)),
      },
      {
        name: "icl_ingest_source_lag_messages",
        help: "Messages of each live source not yet stored: not yet delivered, or delivered and not yet acknowledged.",
        type: "gauge",
        samples: per((s) => s.lag),
      },
      {
        name: "icl_ingest_source_messages_total",
        help: "Messages this process took from each live source, redeliveries included.",
        type: "counter",
        samples: per((s) => s.messages),
      },
      {
        name: "icl_ingest_source_records_total",
        help: "Records stored from each live source (rated, unbilled or rejected; over every run of its ingest).",
        type: "counter",
        samples: per((s) => s.records),
      },
      {
        name: "icl_ingest_source_last_batch_timestamp_seconds",
        help: "When each live source last had a batch stored and acknowledged, Unix seconds.",
        type: "gauge",
        samples: per((s) => (s.lastBatchAt === null ? null : s.lastBatchAt / 1000)),
      },
      {
        name: "icl_ingest_source_restarts_total",
        help: "Restarts of each live source after a failure.",
        type: "counter",
        samples: per((s) => s.restarts),
      },
    ];
  }

  return {
    /** Every node gauge; a failing source is left out and named in `icl_metrics_source_up`. */
    async collect(): Promise<Family[]> {
      const sources = {
        periods: periodFamilies,
        transactions: transactionFamilies,
        ingest: ingestFamilies,
        live_sources: liveSourceFamilies,
      };
      const results = await Promise.all(
        Object.entries(sources).map(async ([source, read]) => {
          try {
            return { source, up: true, families: await read() };
          } catch {
            return { source, up: false, families: [] as Family[] };
          }
        }),
      );
      return [
        ...results.flatMap((r) => r.families),
        {
          name: "icl_metrics_source_up",
          help: "Whether reading each node source for this scrape succeeded (1) or failed (0).",
          type: "gauge",
          samples: results.map((r) => ({ labels: { source: r.source }, value: r.up ? 1 : 0 })),
        },
      ];
    },
  };
}
