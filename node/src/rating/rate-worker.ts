/**
 * Worker thread of the parallel dry run (see parallel-rate.ts): mediates and rates one segment of a
 * CDR file at a time and returns, per CDR in file order, its key fingerprint and rating outcome as
 * typed arrays. Duplicates are decided by the coordinator, which sees the segments in file order.
 */
import { parentPort, workerData } from "node:worker_threads";
import { BAD_RECORD, NEED_MORE } from "../mediation/csv-reader";
import { formatById } from "../mediation/formats/registry";
import { fingerprint } from "../mediation/key-set";
import { badRecord, createFormatHandler, recordReader } from "../mediation/mediate";
import type { ParsedRow } from "../mediation/types";
import { plausibilityOf, type DryRunPlausibility } from "./rate-stream";
import type { CdrFormat, MediationOptions } from "../mediation/types";
import { Rater } from "./rater";
import { loadTariffDeck } from "./tariff-deck";

export interface RateWorkerInit {
  format: CdrFormat;
  options: MediationOptions;
  deckText: string;
  deckFile: string;
  /** Destination names, sorted; results carry indexes into this list. */
  destinations: string[];
  /** The plausibility settings and clock of the whole run (the coordinator's). */
  plausibility: DryRunPlausibility;
}

export interface SegmentJob {
  seq: number;
  /** Whole lines of the file, raw UTF-8. */
  bytes: Uint8Array;
  /** The format's header rows (its descriptor's `headerRows`), prepended to every segment; null for headerless formats. */
  header: string | null;
  /** The file's last segment: read to the end rather than stopping at the last whole record. */
  final: boolean;
}

/** Outcome codes in {@link SegmentResult.outcome}. */
export const OUTCOME_RATED = 0;
export const OUTCOME_UNBILLED = 1;
export const OUTCOME_NO_RATE = 2;

export interface SegmentResult {
  seq: number;
  /** False when the segment did not end on a record boundary: the coordinator must not trust the split. */
  clean: boolean;
  /** Rows read, CDRs and rejects. */
  records: number;
  /** Mediation rejects by reason (INVALID, UNKNOWN_PARTNER). */
  rejected: Record<string, number>;
  /** CDRs in file order: fingerprint pairs, outcome, destination index, billed voice seconds, amount. */
  count: number;
  fingerprints: Uint32Array;
  outcome: Uint8Array;
  destination: Int32Array;
  seconds: Float64Array;
  amount: BigInt64Array;
}

function countLines(text: string): number {
  let lines = 1;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lines++;
  return lines;
}

/** Mediates and rates one segment. Exported for tests; the worker calls it per message. */
export function rateSegment(
  init: RateWorkerInit,
  rater: Rater,
  destinations: Map<string, number>,
  job: SegmentJob,
): SegmentResult {
  const text = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength).toString("utf8");
  const capacity = countLines(text) + 1;
  const fingerprints = new Uint32Array(capacity * 2);
  const outcome = new Uint8Array(capacity);
  const destination = new Int32Array(capacity);
  const seconds = new Float64Array(capacity);
  const amount = new BigInt64Array(capacity);
  const rejected: Record<string, number> = {};
  const format = formatById(init.format);
  const plausible = plausibilityOf(format, init.plausibility);
  const handler = createFormatHandler(format, init.options);
  const reader = recordReader(format.syntax);
  reader.push(job.header === null ? text : job.header + "\n" + text);
  if (job.final) reader.end();
  let records = 0;
  let count = 0;
  const rows: ParsedRow[] = [];
  for (let status = reader.next(); status !== NEED_MORE; status = reader.next()) {
    rows.length = 0;
    if (status === BAD_RECORD) rows.push(badRecord(reader));
    else handler.record(reader, rows);
    // Formats that pair records are never split into segments (parallel-rate.ts), so one record gives at most one row.
    const read = rows[0];
    if (read === undefined) continue;
    records++;
    const row = read.kind === "cdr" ? plausible(read) : read;
    if (row.kind === "reject") {
      rejected[row.reason] = (rejected[row.reason] ?? 0) + 1;
      continue;
    }
    const [h1, h2] = fingerprint(row.cdr.key);
    fingerprints[count * 2] = h1;
    fingerprints[count * 2 + 1] = h2;
    const result = rater.rate(row.cdr);
    if (result.outcome === "rated") {
      outcome[count] = OUTCOME_RATED;
      destination[count] = destinations.get(result.destination) ?? -1;
      seconds[count] = row.cdr.service === "voice" ? result.billed : 0;
      amount[count] = result.amount;
    } else {
      outcome[count] = result.outcome === "unbilled" ? OUTCOME_UNBILLED : OUTCOME_NO_RATE;
    }
    count++;
  }
  const clean = job.final || reader.atRecordBoundary();
  return {
    seq: job.seq,
    clean,
    records,
    rejected,
    count,
    fingerprints,
    outcome,
    destination,
    seconds,
    amount,
  };
}

if (parentPort && workerData && (workerData as { role?: string }).role === "icl-rate-worker") {
  const init = (workerData as { init: RateWorkerInit }).init;
  const rater = new Rater(loadTariffDeck(init.deckText, init.deckFile));
  const destinations = new Map(init.destinations.map((name, i) => [name, i]));
  const port = parentPort;
  port.on("message", (job: SegmentJob) => {
    const result = rateSegment(init, rater, destinations, job);
    port.postMessage(result, [
      result.fingerprints.buffer,
      result.outcome.buffer,
      result.destination.buffer,
      result.seconds.buffer,
      result.amount.buffer,
    ] as ArrayBuffer[]);
  });
}
