/**
 * What the sources this process reads continuously are doing, for the gateway's `/metrics`: per
 * source, the messages consumed, the records stored, when a batch was last stored, and how far
 * behind the source it is. In-process only: each `icl run` reports its own sources, and the stored
 * truth (counts per ingest) stays in the database.
 */
import type { IngestKind } from "../db/ingest-store";

/** Whether a live source is reading, waiting to be restarted after a failure, or given up. */
export type LiveSourceState = "running" | "retrying" | "failed" | "stopped";

export interface LiveSourceStats {
  /** The source's location (no credentials): the `source` label of its metrics. */
  source: string;
  kind: IngestKind;
  state: LiveSourceState;
  /** Messages (records) this process has taken from the source, redeliveries included. */
  messages: number;
  /** Records the ingest has stored in all (the database's count, over every run). */
  records: number;
  /** When a batch was last stored and acknowledged, ms since the epoch; null before the first. */
  lastBatchAt: number | null;
  /**
   * Messages of the source not yet stored, as the source last reported it (a JetStream consumer's
   * pending plus delivered-but-unacknowledged messages); null when not known yet.
   */
  lag: number | null;
  /** Restarts after a failure since the process started. */
  restarts: number;
  /** The last failure, for people; null when none. */
  lastError: string | null;
}

/** A registry of live sources' figures, keyed by location. */
export class LiveStatsRegistry {
  private readonly sources = new Map<string, LiveSourceStats>();

  /** Merges `patch` into the figures of `source` (created, state `running`, on first use). */
  update(source: string, kind: IngestKind, patch: Partial<Omit<LiveSourceStats, "source" | "kind">>): void {
    let stats = this.sources.get(source);
    if (stats === undefined) {
      stats = {
        source,
        kind,
        state: "running",
        messages: 0,
        records: 0,
        lastBatchAt: null,
        lag: null,
        restarts: 0,
        lastError: null,
      };
      this.sources.set(source, stats);
    }
    Object.assign(stats, patch);
  }

  /** Adds `count` consumed messages to `source`. */
  addMessages(source: string, kind: IngestKind, count: number): void {
    this.update(source, kind, { messages: (this.sources.get(source)?.messages ?? 0) + count });
  }

  /** A copy of every source's figures, in the order they were first seen. */
  list(): LiveSourceStats[] {
    return [...this.sources.values()].map((stats) => ({ ...stats }));
  }

  /** Forgets every source (tests). */
  clear(): void {
    this.sources.clear();
  }
}

/**
 * This process's registry: the JetStream source and the live-source runner write to it, and the
 * gateway's `/metrics` reads it unless it is given another (tests give their own).
 */
export const liveStats = new LiveStatsRegistry();
