/**
 * The dry run of `icl rate` on several cores. The coordinator (this thread) reads the file, cuts it
 * into segments of whole lines, and hands them to worker threads that mediate and rate them. It keeps
 * what must stay sequential: file order, and the one set of CDR keys that decides duplicates.
 *
 * A cut must fall between two records. The coordinator cuts at a line break after an even number of
 * quote characters; each worker then confirms that its segment ended exactly on a record boundary. If
 * any segment did not (a malformed file can fool the quote count), the result is discarded and the
 * caller rates the file sequentially: the parallel run either gives exactly the sequential result or
 * none at all.
 */
import fs from "node:fs";
import { Worker } from "node:worker_threads";
import { KeySet } from "../mediation/key-set";
import { formatById } from "../mediation/formats/registry";
import type { CdrFormat, MediationOptions, RejectReason } from "../mediation/types";
import {
  dryRunPlausibility,
  type DestinationTotal,
  type DryRunPlausibility,
  type RateSummary,
} from "./rate-stream";
import { OUTCOME_RATED, OUTCOME_UNBILLED, type RateWorkerInit, type SegmentResult } from "./rate-worker";
import type { TariffRow } from "./tariff-deck";

/** Bytes per segment: large enough to amortise a message, small enough to keep workers busy. */
const SEGMENT_BYTES = 4 << 20;
/** Give up on cutting (and fall back) when no safe cut appears within this many bytes. */
const MAX_CARRY_BYTES = 64 << 20;

const BOOTSTRAP = `
const { workerData } = require("node:worker_threads");
if (workerData.loader) require(workerData.loader);
require(workerData.entry);
`;

const NL = 0x0a;
const QUOTE = 0x22;

function countQuotes(bytes: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = bytes.indexOf(QUOTE, from); i >= 0 && i < to; i = bytes.indexOf(QUOTE, i + 1)) n++;
  return n;
}

/**
 * Index just after the last line break of `bytes` preceded by an even number of quotes; -1 if none.
 * Works on raw UTF-8: no multi-byte character contains the bytes of `\n` or `"`.
 */
function safeCut(bytes: Buffer): number {
  let nl = bytes.lastIndexOf(NL);
  if (nl < 0) return -1;
  let quotes = countQuotes(bytes, 0, nl);
  for (let tries = 0; tries < 10_000; tries++) {
    if (quotes % 2 === 0) return nl + 1;
    const previous = nl === 0 ? -1 : bytes.lastIndexOf(NL, nl - 1);
    if (previous < 0) return -1;
    quotes -= countQuotes(bytes, previous, nl);
    nl = previous;
  }
  return -1;
}

/**
 * Rates `filePath` on `workers` threads. Returns the same summary as {@link rateStream} over the
 * same file, or null when the file cannot be cut safely (the caller then rates it sequentially).
 * @throws whatever a worker or the file read throws.
 */
export async function rateFileParallel(
  filePath: string,
  format: CdrFormat,
  options: MediationOptions,
  deck: { text: string; file: string; rows: readonly TariffRow[] },
  workers: number,
  segmentBytes: number = SEGMENT_BYTES,
  plausibility: DryRunPlausibility = dryRunPlausibility(),
): Promise<RateSummary | null> {
  // A format that pairs records (FreeSWITCH legs=ab) cannot be cut into independent segments.
  if (formatById(format).pairs?.(options) === true) return null;
  const destinationNames = [...new Set(deck.rows.map((row) => row.destination))].sort();
  const init: RateWorkerInit = {
    format,
    options,
    deckText: deck.text,
    deckFile: deck.file,
    destinations: destinationNames,
    plausibility,
  };
  const entry = require.resolve("./rate-worker");
  const loader = entry.endsWith(".ts") ? require.resolve("sucrase/register/ts") : null;
  const pool = Array.from(
    { length: workers },
    () => new Worker(BOOTSTRAP, { eval: true, workerData: { role: "icl-rate-worker", entry, loader, init } }),
  );

  // Sized for the file up front (≈ 100 bytes per CDR) so the set never rehashes on the coordinator.
  const seen = new KeySet(Math.min(1 << 26, Math.max(1 << 16, Math.ceil(fs.statSync(filePath).size / 100))));
  const rejected: Partial<Record<RejectReason, number>> = {};
  const totals = destinationNames.map((destination) => ({
    destination,
    records: 0,
    billedSeconds: 0,
    amount: 0n,
  }));
  let records = 0;
  let unbilled = 0;
  let noRate = 0;
  let duplicates = 0;
  let unsafe = false;

  // A segment comes with its totals over every CDR in it; the coordinator takes back the share of
  // each CDR its key set finds to be a duplicate (few), so it touches nothing else per CDR.
  const absorb = (result: SegmentResult) => {
    if (!result.clean) unsafe = true;
    if (unsafe) return;
    records += result.records;
    for (const [reason, n] of Object.entries(result.rejected)) {
      rejected[reason as RejectReason] = (rejected[reason as RejectReason] ?? 0) + n;
    }
    unbilled += result.unbilled;
    noRate += result.noRate;
    for (let d = 0; d < totals.length; d++) {
      const total = totals[d]!;
      total.records += result.totals.records[d]!;
      total.billedSeconds += result.totals.seconds[d]!;
      total.amount += result.totals.amount[d]!;
    }
    const { fingerprints, outcome, destination, seconds } = result;
    for (let i = 0; i < result.count; i++) {
      if (seen.addFingerprint(fingerprints[i * 2]!, fingerprints[i * 2 + 1]!)) continue;
      duplicates++;
      const code = outcome[i]!;
      if (code === OUTCOME_UNBILLED) unbilled--;
      else if (code !== OUTCOME_RATED) noRate--;
      else {
        const total = totals[destination[i]!]!;
        total.records--;
        total.billedSeconds -= seconds[i]!;
        total.amount -= result.amount[i]!;
      }
    }
  };

  // Results arrive in any order; they are absorbed in segment order.
  const waiting = new Map<number, SegmentResult>();
  let nextToAbsorb = 0;
  let sent = 0;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const idle: Worker[] = [...pool];
  // Segment buffers come back with their results and are filled again: a few buffers serve the
  // whole file, so memory stays flat (buffers freed on another thread than they were allocated on
  // would otherwise pile up in the allocator).
  const spare: ArrayBuffer[] = [];
  for (const worker of pool) {
    worker.on("message", (result: SegmentResult) => {
      idle.push(worker);
      spare.push(result.bytes);
      waiting.set(result.seq, result);
      for (let r = waiting.get(nextToAbsorb); r; r = waiting.get(nextToAbsorb)) {
        waiting.delete(nextToAbsorb++);
        absorb(r);
      }
      wake?.();
    });
    worker.on("error", (error) => {
      failure = error;
      wake?.();
    });
  }
  const nextWorker = async (): Promise<Worker> => {
    while (idle.length === 0 && failure === null) await new Promise<void>((resolve) => (wake = resolve));
    if (failure !== null) throw failure;
    return idle.shift()!;
  };

  const file = await fs.promises.open(filePath, "r");
  try {
    // The format's header rows (icl-csv's names, CUCM's names and types) go with every segment.
    const descriptor = formatById(format);
    const headerLines: string[] = [];
    let header: string | null = null;
    let needHeader = descriptor.headerRows > 0;
    let first = true;
    // What follows the last cut, copied to the front of the next segment.
    let carry: Buffer = Buffer.alloc(0);
    let eof = false;
    /**
     * A new segment in a buffer of its own (so it can be transferred to a worker, not copied): the
     * carry, then the file read on until `size` bytes or its end.
     */
    const fill = async (size: number): Promise<Buffer> => {
      const length = Math.max(size, carry.length);
      const reused = spare.pop();
      const buffer =
        reused !== undefined && reused.byteLength >= length
          ? Buffer.from(reused, 0, length)
          : Buffer.allocUnsafeSlow(length);
      let filled = carry.copy(buffer, 0);
      while (filled < buffer.length && !eof) {
        const { bytesRead } = await file.read(buffer, filled, buffer.length - filled, null);
        if (bytesRead === 0) eof = true;
        filled += bytesRead;
      }
      return buffer.subarray(0, filled);
    };
    const send = async (bytes: Buffer, final: boolean) => {
      const worker = await nextWorker();
      const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
      worker.postMessage({ seq: sent++, bytes: view, header, final }, [bytes.buffer as ArrayBuffer]);
    };
    let size = segmentBytes;
    for (;;) {
      let bytes = await fill(size);
      size = segmentBytes;
      if (first && (bytes.length >= 3 || eof)) {
        first = false;
        if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
      }
      if (needHeader) {
        // The header rows are the first non-blank lines; one whose quotes do not pair (a quoted line
        // break) is left to the sequential reader.
        for (let nl = bytes.indexOf(NL); nl >= 0 && needHeader; nl = bytes.indexOf(NL)) {
          const line = bytes.toString("utf8", 0, nl).replace(/\r$/, "");
          bytes = bytes.subarray(nl + 1);
          if (line.trim() === "") continue; // blank lines before the header are not records
          if ((line.split('"').length - 1) % 2 !== 0) return null;
          headerLines.push(line);
          if (headerLines.length === descriptor.headerRows) {
            header = headerLines.join("\n");
            needHeader = false;
          }
        }
        // No header line at all (empty file, or one unterminated line): the sequential reader decides.
        if (needHeader && (eof || bytes.length > MAX_CARRY_BYTES)) return null;
        if (needHeader) {
          carry = bytes;
          size = Math.max(segmentBytes, bytes.length * 2);
          continue;
        }
      }
      if (eof) {
        await send(bytes, true);
        break;
      }
      const cut = safeCut(bytes);
      if (cut <= 0) {
        if (bytes.length > Math.max(MAX_CARRY_BYTES, segmentBytes * 16)) return null;
        carry = bytes;
        size = bytes.length * 2;
        continue;
      }
      carry = Buffer.from(bytes.subarray(cut));
      await send(bytes.subarray(0, cut), false);
      if (unsafe) return null;
    }
    while (nextToAbsorb < sent && failure === null) await new Promise<void>((resolve) => (wake = resolve));
    if (failure !== null) throw failure;
    if (unsafe) return null;
  } finally {
    await file.close();
    await Promise.all(pool.map((worker) => worker.terminate()));
  }

  if (duplicates > 0) rejected.DUPLICATE = duplicates;
  if (noRate > 0) rejected.NO_RATE = noRate;
  const byDestination: DestinationTotal[] = totals.filter((total) => total.records > 0);
  let rated = 0;
  let billedSeconds = 0;
  let amount = 0n;
  for (const total of byDestination) {
    rated += total.records;
    billedSeconds += total.billedSeconds;
    amount += total.amount;
  }
  return { records, rated, unbilled, rejected, billedSeconds, amount, byDestination };
}
