/**
 * Worker thread of the parallel dry run (see parallel-rate.ts): mediates and rates one segment of a
 * CDR file at a time and returns, per CDR in file order, its key fingerprint and rating outcome as
 * typed arrays. Duplicates are decided by the coordinator, which sees the segments in file order.
 */
import { isAscii } from "node:buffer";
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
  /** The segment's buffer (its text is decoded), handed back to be filled with a later segment. */
  bytes: ArrayBuffer;
  /** False when the segment did not end on a record boundary: the coordinator must not trust the split. */
  clean: boolean;
  /** Rows read, CDRs and rejects. */
  records: number;
  /** Mediation rejects by reason (INVALID, UNKNOWN_PARTNER). */
  rejected: Record<string, number>;
  /** Unbilled and NO_RATE CDRs, duplicates included (the coordinator takes those back out). */
  unbilled: number;
  noRate: number;
  /** Rated CDRs per destination index, duplicates included: records, billed voice seconds, amount. */
  totals: { records: number[]; seconds: number[]; amount: bigint[] };
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

const SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Decodes UTF-8. Text that is all ASCII (CDR files almost always are) reads the same as Latin-1, which
 * Node copies straight into a string: about four times faster than decoding, and found in one
 * vectorised `isAscii` pass.
 */
function decodeUtf8(bytes: Buffer): string {
  return isAscii(bytes) ? bytes.toString("latin1") : bytes.toString("utf8");
}

/** Mediates and rates one segment. Exported for tests; the worker calls it per message. */
export function rateSegment(
  init: RateWorkerInit,
  rater: Rater,
  destinations: Map<string, number>,
  job: SegmentJob,
): SegmentResult {
  const text = decodeUtf8(Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength));
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
  // Sums of exact integers kept as doubles while they stay below 2^53 (no bigint per CDR); what
  // would not fit goes to the bigint part.
  const n = destinations.size;
  const destRecords = new Array<number>(n).fill(0);
  const destSeconds = new Array<number>(n).fill(0);
  const destMicros = new Array<number>(n).fill(0);
  const destBig = new Array<bigint>(n).fill(0n);
  let unbilled = 0;
  let noRate = 0;
  let records = 0;
  let count = 0;
  const rows: ParsedRow[] = [];
  // The header rows are pushed apart from the segment so the reader never copies the segment's text
  // to join them.
  const parts = job.header === null ? [text] : [job.header + "\n", text];
  for (let p = 0; p < parts.length; p++) {
    reader.push(parts[p]!);
    if (job.final && p === parts.length - 1) reader.end();
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
        const d = destinations.get(result.destination) ?? -1;
        const billed = row.cdr.service === "voice" ? result.billed : 0;
        outcome[count] = OUTCOME_RATED;
        destination[count] = d;
        seconds[count] = billed;
        amount[count] = result.amount;
        destRecords[d]!++;
        destSeconds[d]! += billed;
        const micros = Number(result.amount);
        // An inexact conversion or sum lands on 2^53 or more, so the check also catches it.
        if (micros <= SAFE && destMicros[d]! + micros <= SAFE) destMicros[d]! += micros;
        else destBig[d]! += result.amount;
      } else if (result.outcome === "unbilled") {
        outcome[count] = OUTCOME_UNBILLED;
        unbilled++;
      } else {
        outcome[count] = OUTCOME_NO_RATE;
        noRate++;
      }
      count++;
    }
  }
  const clean = job.final || reader.atRecordBoundary();
  return {
    seq: job.seq,
    bytes: job.bytes.buffer as ArrayBuffer,
    clean,
    records,
    rejected,
    unbilled,
    noRate,
    totals: {
      records: destRecords,
      seconds: destSeconds,
      amount: destBig.map((big, d) => big + BigInt(destMicros[d]!)),
    },
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
      result.bytes,
      result.fingerprints.buffer,
      result.outcome.buffer,
      result.destination.buffer,
      result.seconds.buffer,
      result.amount.buffer,
    ] as ArrayBuffer[]);
  });
}
