/**
 * The sources a running node consumes continuously (config.json's `sources`, read by `icl run`):
 * each is opened through {@link openRemoteSource} and ingested until the run stops, in the
 * background of the node. A source that fails with a retryable error (its server or the database
 * went away) is restarted with a growing delay; one that cannot work as configured (a missing
 * stream, a bad table name) is logged and left stopped, and the others go on.
 */
import type { LiveSourceConfig } from "../config/config";
import { BaseError } from "../errors";
import type { Logger } from "../logger";
import { formatById } from "../mediation/formats/registry";
import type { IngestProgress, IngestResult } from "./pipeline";
import { liveStats, type LiveStatsRegistry } from "./live-stats";
import { openRemoteSource, redactUrl, type RemoteSourceSpec } from "./remote-source";
import type { IngestSource } from "./source";

/** First and longest wait before a failed source is opened again, ms. */
export const LIVE_RESTART_MS = { initial: 1_000, max: 60_000 } as const;
/** A source that ran this long before failing starts over from the first delay. */
const HEALTHY_MS = 60_000;

export interface LiveSourcesDeps {
  /** The node's ingest of one source (CarrierNode.ingestSource). */
  ingest(
    source: IngestSource,
    options: { signal: AbortSignal; onProgress: (progress: IngestProgress) => void },
  ): Promise<IngestResult>;
  sources: readonly LiveSourceConfig[];
  logger: Logger;
  stats?: LiveStatsRegistry;
  /** Opens a source (default {@link openRemoteSource}); tests count the opens. */
  open?: (spec: RemoteSourceSpec) => IngestSource;
  restartMs?: { initial: number; max: number };
}

/** The spec a configured source opens with: read as it grows, never drained. */
export function liveSourceSpec(config: LiveSourceConfig): RemoteSourceSpec {
  const format = formatById(config.format);
  return config.kind === "nats"
    ? {
        url: config.url,
        format,
        stream: config.stream,
        subject: config.subject,
        durable: config.durable,
        drain: false,
      }
    : {
        url: config.url,
        format,
        table: config.table,
        idColumn: config.idColumn,
        pollMs: config.pollMs,
        drain: false,
      };
}

/** How a configured source is named before it opens (its location once it has). */
function describeConfig(config: LiveSourceConfig): string {
  const where =
    config.kind === "nats" ? `stream ${config.stream} subject ${config.subject}` : `table ${config.table}`;
  return `${redactUrl(config.url)} ${where}`;
}

/**
 * Consumes every configured source until `signal` aborts, then lets each finish the batch in hand
 * (stored and acknowledged) and resolves. Never rejects: failures are logged and reported in the
 * live-source stats.
 */
export async function runLiveSources(deps: LiveSourcesDeps, signal: AbortSignal): Promise<void> {
  await Promise.all(deps.sources.map((config) => runOne(deps, config, signal)));
}

async function runOne(deps: LiveSourcesDeps, config: LiveSourceConfig, signal: AbortSignal): Promise<void> {
  const stats = deps.stats ?? liveStats;
  const restart = deps.restartMs ?? LIVE_RESTART_MS;
  const kind = config.kind === "nats" ? "stream" : "table";
  let label = describeConfig(config);
  let delay = restart.initial;
  let restarts = 0;
  while (!signal.aborted) {
    const started = Date.now();
    try {
      const source = (deps.open ?? openRemoteSource)(liveSourceSpec(config));
      label = source.location;
      stats.update(label, source.kind, { state: "running", restarts });
      deps.logger.info("live source started", { source: label, format: config.format });
      await deps.ingest(source, {
        signal,
        onProgress: (progress) => stats.update(label, source.kind, { records: progress.records }),
      });
      if (signal.aborted) break;
      // A live source ends on its own only when something outside stopped it: read it again.
      deps.logger.warn("live source ended; reading it again", { source: label });
      delay = restart.initial;
      await sleep(delay, signal);
    } catch (error) {
      if (signal.aborted) break;
      const message = error instanceof BaseError ? error.message : String(error);
      // Errors outside the node's own (a client library's) are taken as transient: a live source
      // that stops for good must have been told why by the node.
      const retryable = !(error instanceof BaseError) || error.retryable;
      if (!retryable) {
        stats.update(label, kind, { state: "failed", lastError: message });
        deps.logger.error("live source stopped: it cannot work as configured", {
          source: label,
          error: message,
        });
        return;
      }
      if (Date.now() - started >= HEALTHY_MS) delay = restart.initial;
      restarts += 1;
      stats.update(label, kind, { state: "retrying", lastError: message, restarts });
      deps.logger.warn("live source failed; restarting", { source: label, error: message, inMs: delay });
      await sleep(delay, signal);
      delay = Math.min(delay * 2, restart.max);
    }
  }
  stats.update(label, kind, { state: "stopped" });
  deps.logger.info("live source stopped", { source: label });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
