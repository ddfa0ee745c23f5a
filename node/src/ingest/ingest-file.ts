import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Database } from "../db/database";
import {
  finishFile,
  prepareBatch,
  startFile,
  storeBatch,
  type IngestFile,
  type RatedCdrRow,
  type RejectRow,
} from "../db/ingest-store";
import { listPartners } from "../db/partners";
import { loadActiveDecks } from "../db/tariffs";
import { mediateStream } from "../mediation/mediate";
import type { CdrFormat, MediationOptions } from "../mediation/types";
import { Rater } from "../rating/rater";

/**
 * Rows per stored batch (one transaction, one checkpoint). Larger batches mean fewer commits, each an
 * fsync; 16 384 rows keep a batch's memory around 20 MB.
 */
export const INGEST_BATCH_ROWS = 16_384;

export interface IngestProgress {
  bytesRead: number;
  byteSize: number;
  records: number;
}

export interface IngestResult {
  file: IngestFile;
  /** True when the same content had already been ingested completely: nothing was done. */
  alreadyIngested: boolean;
  /** Line after which this run resumed an interrupted ingest (0 = from the start). */
  resumedAfterLine: number;
}

/** SHA-256 of a file's content, hex. */
export async function hashFile(filePath: string): Promise<string> {
  const hash = crypto.createHash("sha256");
  for await (const chunk of fs.createReadStream(filePath, { highWaterMark: 1 << 20 }))
    hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Ingests one CDR file: mediates it as a stream, rates every CDR against the active deck of its
 * partner and direction, and stores CDRs, rejects and counts batch by batch, each batch in one
 * transaction with the file's checkpoint. The file is identified by its content hash: ingesting the
 * same content again is a no-op, and a run interrupted at any moment resumes after the last
 * committed batch, so the totals always equal those of one clean run.
 * @throws BaseError for I/O and database failures (the committed batches stay; re-run to resume).
 */
export async function ingestFile(
  db: Database,
  filePath: string,
  format: CdrFormat,
  options: Omit<MediationOptions, "fileName" | "matchRules">,
  onProgress?: (progress: IngestProgress) => void,
): Promise<IngestResult> {
  const byteSize = fs.statSync(filePath).size;
  const contentHash = await hashFile(filePath);
  const file = await startFile(db, { fileName: path.basename(filePath), contentHash, format, byteSize });
  if (file.status === "done")
    return { file, alreadyIngested: true, resumedAfterLine: Number(file.checkpointLine) };

  const partners = await listPartners(db);
  const known = new Set(partners.map((partner) => partner.id));
  const matchRules = partners.flatMap((partner) => partner.matchRules);
  const decks = new Map<string, { deckId: number; rater: Rater }>();
  for (const [key, deck] of await loadActiveDecks(db))
    decks.set(key, { deckId: deck.deckId, rater: new Rater(deck.rows) });

  const checkpoint = Number(file.checkpointLine);
  let bytesRead = 0;
  let records = Number(file.records);
  const stream = fs.createReadStream(filePath, { highWaterMark: 1 << 20 });
  stream.on("data", (chunk) => {
    bytesRead += chunk.length;
  });

  let pending: Promise<unknown> | undefined;
  for await (const batch of mediateStream(
    stream,
    format,
    { ...options, fileName: filePath, matchRules },
    INGEST_BATCH_ROWS,
  )) {
    const cdrs: RatedCdrRow[] = [];
    const rejects: RejectRow[] = [];
    let lastLine = checkpoint;
    for (const row of batch) {
      lastLine = row.line;
      if (row.line <= checkpoint) continue;
      if (row.kind === "reject") {
        rejects.push({
          line: row.line,
          raw: row.raw,
          reason: row.reason,
          field: row.field,
          message: row.message,
          sourceKey: null,
        });
        continue;
      }
      const cdr = row.cdr;
      if (!known.has(cdr.partner)) {
        rejects.push({
          line: row.line,
          raw: row.raw,
          reason: "UNKNOWN_PARTNER",
          field: "partner",
          message: `partner '${cdr.partner}' is not registered (icl partners add)`,
          sourceKey: cdr.key,
        });
        continue;
      }
      const deck = decks.get(`${cdr.partner}|${cdr.direction}`);
      const rating = deck
        ? deck.rater.rate(cdr)
        : ({
            outcome: "rejected",
            reason: "NO_RATE",
            message: `no active tariff deck for ${cdr.partner} ${cdr.direction} (icl tariffs import)`,
          } as const);
      const rated = rating.outcome === "rated" ? rating : null;
      cdrs.push({
        line: row.line,
        raw: row.raw,
        cdr,
        outcome: rating.outcome,
        destination: rated?.destination ?? null,
        prefix: rated?.prefix ?? null,
        band: rated?.band ?? null,
        billed: rated?.billed ?? 0,
        amount: rated?.amount ?? 0n,
        deckId: rated ? (deck?.deckId ?? null) : null,
        tariffLine: rated?.tariffLine ?? null,
        rejectMessage: rating.outcome === "rejected" ? rating.message : null,
      });
    }
    if (cdrs.length === 0 && rejects.length === 0) continue;
    // Mediate, rate and prepare the next batch while this one is written; one write in flight keeps order.
    const prepared = prepareBatch(file.id, lastLine, cdrs, rejects);
    await pending;
    records += cdrs.length + rejects.length;
    const write = storeBatch(db, prepared);
    write.catch(() => undefined); // awaited below; this only keeps a failure from counting as unhandled meanwhile
    pending = write;
    onProgress?.({ bytesRead, byteSize, records });
  }
  await pending;
  const finished = await finishFile(db, file.id);
  onProgress?.({ bytesRead: byteSize, byteSize, records: Number(finished.records) });
  return { file: finished, alreadyIngested: false, resumedAfterLine: checkpoint };
}
