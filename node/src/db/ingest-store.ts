import { ConflictError } from "../errors";
import type { MediatedCdr, RejectReason } from "../mediation/types";
import type { Database, Queryable } from "./database";
import { intArray, textArray } from "./pg-array";

export interface IngestFile {
  id: number;
  fileName: string;
  contentHash: string;
  format: string;
  byteSize: bigint;
  status: "ingesting" | "done";
  checkpointLine: bigint;
  records: bigint;
  rated: bigint;
  unbilled: bigint;
  rejected: bigint;
  startedAt: Date;
  finishedAt: Date | null;
}

/** A mediated CDR with its rating result, ready to store. `outcome: "rejected"` means NO_RATE. */
export interface RatedCdrRow {
  line: number;
  raw: string;
  cdr: MediatedCdr;
  outcome: "rated" | "unbilled" | "rejected";
  destination: string | null;
  prefix: string | null;
  band: string | null;
  billed: number;
  amount: bigint;
  deckId: number | null;
  tariffLine: number | null;
  /** For outcome "rejected": why, for the reject store. */
  rejectMessage: string | null;
}

export interface RejectRow {
  line: number;
  raw: string;
  reason: RejectReason;
  field: string | null;
  message: string;
  sourceKey: string | null;
}

export interface BatchCounts {
  records: number;
  rated: number;
  unbilled: number;
  rejected: number;
}

type FileRow = {
  id: number;
  file_name: string;
  content_hash: string;
  format: string;
  byte_size: bigint;
  status: "ingesting" | "done";
  checkpoint_line: bigint;
  records: bigint;
  rated: bigint;
  unbilled: bigint;
  rejected: bigint;
  started_at: Date;
  finished_at: Date | null;
};

function toFile(row: FileRow): IngestFile {
  return {
    id: row.id,
    fileName: row.file_name,
    contentHash: row.content_hash,
    format: row.format,
    byteSize: row.byte_size,
    status: row.status,
    checkpointLine: row.checkpoint_line,
    records: row.records,
    rated: row.rated,
    unbilled: row.unbilled,
    rejected: row.rejected,
    startedAt: new Date(row.started_at),
    finishedAt: row.finished_at === null ? null : new Date(row.finished_at),
  };
}

/**
 * Finds the file by content hash and format, or registers it. A file already registered is returned
 * as it is: `done` means there is nothing to do; `ingesting` means an earlier run stopped after
 * `checkpointLine`, and ingest resumes from there.
 */
export async function startFile(
  db: Queryable,
  file: { fileName: string; contentHash: string; format: string; byteSize: number },
): Promise<IngestFile> {
  await db.query(
    `INSERT INTO ingest_files (file_name, content_hash, format, byte_size, status)
     VALUES ($1, $2, $3, $4, 'ingesting') ON CONFLICT (content_hash, format) DO NOTHING`,
    [file.fileName, file.contentHash, file.format, file.byteSize],
  );
  const { rows } = await db.query<FileRow>(
    "SELECT * FROM ingest_files WHERE content_hash = $1 AND format = $2",
    [file.contentHash, file.format],
  );
  return toFile(rows[0]!);
}

/**
 * Stores one batch atomically: the CDRs (a key already stored, in this batch or before, makes the
 * later row a DUPLICATE reject), the rejects, and the file's counts and checkpoint. A crash before
 * the commit leaves the batch entirely absent, so a re-run from the checkpoint gives the same totals.
 */
export interface PreparedBatch {
  fileId: number;
  lastLine: number;
  rejects: readonly RejectRow[];
  /** First row of each key in the batch, with the COPY text for them. */
  candidates: RatedCdrRow[];
  candidatesCsv: string;
  /** Later rows of a key already in the batch. */
  duplicates: RatedCdrRow[];
  records: number;
}

/**
 * The CPU part of storing a batch (duplicates within the batch, the COPY text), done outside the
 * database transaction so the caller can overlap it with the previous batch's write.
 */
export function prepareBatch(
  fileId: number,
  lastLine: number,
  cdrs: readonly RatedCdrRow[],
  rejects: readonly RejectRow[],
): PreparedBatch {
  // Within the batch the first row of a key wins; later ones are duplicates.
  const candidates: RatedCdrRow[] = [];
  const duplicates: RatedCdrRow[] = [];
  const batchKeys = new Set<string>();
  for (const row of cdrs) {
    const key = sanitize(row.cdr.key);
    if (batchKeys.has(key)) duplicates.push(row);
    else {
      batchKeys.add(key);
      candidates.push(row);
    }
  }
  const candidatesCsv = candidates.map((row) => cdrLine(row, fileId)).join("\n");
  return {
    fileId,
    lastLine,
    rejects,
    candidates,
    candidatesCsv,
    duplicates,
    records: cdrs.length + rejects.length,
  };
}

/**
 * Stores one prepared batch atomically: the CDRs (a key already stored, in this batch or before,
 * makes the later row a DUPLICATE reject), the rejects, and the file's counts and checkpoint. A
 * crash before the commit leaves the batch entirely absent, so a re-run from the checkpoint gives
 * the same totals.
 */
export async function storeBatch(db: Database, batch: PreparedBatch): Promise<BatchCounts> {
  const { fileId, lastLine, rejects, candidates } = batch;
  return db.transaction(async (tx) => {
    // Batches of concurrent ingests (other files, other processes) take turns, so the fallback's
    // check for stored keys and its insert see the same set of keys.
    await tx.query("SELECT pg_advisory_xact_lock(7355608)");
    const duplicates = [...batch.duplicates];
    let fresh: RatedCdrRow[] = [];
    if (candidates.length > 0) {
      // Fast path: COPY straight into cdrs, as fast as PostgreSQL loads anything. A key stored by an
      // earlier file makes it fail with a unique violation; then (rarely) the batch goes through a
      // staging table and one INSERT … SELECT that skips stored keys and reports what it stored.
      await tx.query("SAVEPOINT cdr_bulk");
      try {
        await tx.copyFrom("cdrs", CDR_COLUMNS, batch.candidatesCsv);
        await tx.query("RELEASE SAVEPOINT cdr_bulk");
        fresh = candidates;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        await tx.query("ROLLBACK TO SAVEPOINT cdr_bulk");
        fresh = await insertSkippingStored(tx, fileId, candidates);
        const stored = new Set(fresh);
        for (const row of candidates) if (!stored.has(row)) duplicates.push(row);
        duplicates.sort((a, b) => a.line - b.line);
      }
    }

    const counts: BatchCounts = {
      records: batch.records,
      rated: 0,
      unbilled: 0,
      rejected: rejects.length,
    };
    const allRejects: RejectRow[] = [...rejects];
    for (const row of duplicates) {
      allRejects.push({
        line: row.line,
        raw: row.raw,
        reason: "DUPLICATE",
        field: null,
        message: `CDR ${row.cdr.key} was already ingested`,
        sourceKey: row.cdr.key,
      });
    }
    counts.rejected += duplicates.length;
    for (const row of fresh) {
      if (row.outcome === "rated") counts.rated++;
      else if (row.outcome === "unbilled") counts.unbilled++;
      else {
        allRejects.push({
          line: row.line,
          raw: row.raw,
          reason: "NO_RATE",
          field: "b_number",
          message: row.rejectMessage ?? "no rate",
          sourceKey: row.cdr.key,
        });
        counts.rejected++;
      }
    }

    if (allRejects.length > 0) {
      await tx.query(
        `INSERT INTO rejects (file_id, line, reason, field, message, raw, source_key)
         SELECT $1, u.line, u.reason, u.field, u.message, u.raw, u.source_key
           FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
                AS u(line, reason, field, message, raw, source_key)`,
        [
          fileId,
          intArray(allRejects.map((r) => r.line)),
          textArray(allRejects.map((r) => r.reason)),
          textArray(allRejects.map((r) => r.field)),
          textArray(allRejects.map((r) => r.message)),
          textArray(allRejects.map((r) => r.raw)),
          textArray(allRejects.map((r) => r.sourceKey)),
        ],
      );
    }

    await tx.query(
      `UPDATE ingest_files SET checkpoint_line = $2, records = records + $3, rated = rated + $4,
              unbilled = unbilled + $5, rejected = rejected + $6 WHERE id = $1`,
      [fileId, lastLine, counts.records, counts.rated, counts.unbilled, counts.rejected],
    );
    return counts;
  });
}

/** The slow path of storeBatch: stage, then insert the rows whose key is not stored yet; returns them. */
async function insertSkippingStored(
  tx: Queryable,
  fileId: number,
  candidates: readonly RatedCdrRow[],
): Promise<RatedCdrRow[]> {
  await tx.query(`CREATE TEMP TABLE IF NOT EXISTS cdr_stage (
      source_key text, line bigint, partner_id text, direction text, service text, start_ms bigint,
      duration integer, volume bigint, a_number text, b_number text, disposition text, outcome text,
      destination text, prefix text, band text, billed bigint, amount_micro bigint, tariff_deck_id integer,
      tariff_line integer) ON COMMIT DELETE ROWS`);
  await tx.query("TRUNCATE cdr_stage");
  await tx.copyFrom("cdr_stage", STAGE_COLUMNS, candidates.map(stageLine).join("\n"));
  const { rows } = await tx.query<{ line: bigint }>(
    `INSERT INTO cdrs (source_key, file_id, line, partner_id, direction, service, start_time, duration, volume,
       a_number, b_number, disposition, outcome, destination, prefix, band, billed, amount_micro, tariff_deck_id, tariff_line)
     SELECT s.source_key, $1, s.line, s.partner_id, s.direction, s.service,
            timestamptz 'epoch' + s.start_ms * interval '1 millisecond', s.duration, s.volume,
            s.a_number, s.b_number, s.disposition, s.outcome, s.destination, s.prefix, s.band, s.billed,
            s.amount_micro, s.tariff_deck_id, s.tariff_line
       FROM cdr_stage s
      WHERE NOT EXISTS (SELECT 1 FROM cdrs c WHERE c.source_key = s.source_key)
     RETURNING line`,
    [fileId],
  );
  const stored = new Set(rows.map((row) => Number(row.line)));
  return candidates.filter((row) => stored.has(row.line));
}

/** Marks a file completely ingested and returns its final record. */
export async function finishFile(db: Queryable, fileId: number): Promise<IngestFile> {
  const { rows } = await db.query<FileRow>(
    "UPDATE ingest_files SET status = 'done', finished_at = now() WHERE id = $1 RETURNING *",
    [fileId],
  );
  return toFile(rows[0]!);
}

/** Every ingested file, oldest first. */
export async function listFiles(db: Queryable): Promise<IngestFile[]> {
  const { rows } = await db.query<FileRow>("SELECT * FROM ingest_files ORDER BY id");
  return rows.map(toFile);
}

/** One ingested file by id, or null. */
export async function getFile(db: Queryable, fileId: number): Promise<IngestFile | null> {
  const { rows } = await db.query<FileRow>("SELECT * FROM ingest_files WHERE id = $1", [fileId]);
  return rows[0] === undefined ? null : toFile(rows[0]);
}

export interface StoredReject {
  fileId: number;
  fileName: string;
  line: bigint;
  reason: RejectReason;
  field: string | null;
  message: string;
  raw: string;
}

/** Rejected rows, filtered by file and reason, in file and line order. */
export async function listRejects(
  db: Queryable,
  filter: { fileId?: number | undefined; reason?: RejectReason | undefined; limit: number; offset?: number },
): Promise<StoredReject[]> {
  const { rows } = await db.query<{
    file_id: number;
    file_name: string;
    line: bigint;
    reason: RejectReason;
    field: string | null;
    message: string;
    raw: string;
  }>(
    `SELECT r.file_id, f.file_name, r.line, r.reason, r.field, r.message, r.raw
       FROM rejects r JOIN ingest_files f ON f.id = r.file_id
      WHERE ($1::int IS NULL OR r.file_id = $1) AND ($2::text IS NULL OR r.reason = $2)
      ORDER BY r.file_id, r.line LIMIT $3 OFFSET $4`,
    [filter.fileId ?? null, filter.reason ?? null, filter.limit, filter.offset ?? 0],
  );
  return rows.map((row) => ({
    fileId: row.file_id,
    fileName: row.file_name,
    line: row.line,
    reason: row.reason,
    field: row.field,
    message: row.message,
    raw: row.raw,
  }));
}

const STAGE_COLUMNS = [
  "source_key",
  "line",
  "partner_id",
  "direction",
  "service",
  "start_ms",
  "duration",
  "volume",
  "a_number",
  "b_number",
  "disposition",
  "outcome",
  "destination",
  "prefix",
  "band",
  "billed",
  "amount_micro",
  "tariff_deck_id",
  "tariff_line",
] as const;

const CDR_COLUMNS = [
  "source_key",
  "file_id",
  "line",
  "partner_id",
  "direction",
  "service",
  "start_time",
  "duration",
  "volume",
  "a_number",
  "b_number",
  "disposition",
  "outcome",
  "destination",
  "prefix",
  "band",
  "billed",
  "amount_micro",
  "tariff_deck_id",
  "tariff_line",
] as const;

/** One cdrs row, in CDR_COLUMNS order (start_time as ISO 8601 UTC, which timestamptz reads exactly). */
function cdrLine(row: RatedCdrRow, fileId: number): string {
  const cdr = row.cdr;
  return [
    csvText(cdr.key),
    fileId,
    csvInt(row.line),
    csvText(cdr.partner),
    cdr.direction,
    cdr.service,
    new Date(cdr.startMs).toISOString(),
    csvInt(cdr.duration),
    csvInt(cdr.volume),
    csvText(cdr.aNumber),
    csvText(cdr.bNumber),
    cdr.disposition,
    row.outcome,
    csvText(row.destination),
    csvText(row.prefix),
    csvText(row.band),
    csvInt(row.billed),
    csvInt(row.amount),
    csvInt(row.deckId),
    csvInt(row.tariffLine),
  ].join(",");
}

/** A CSV field for COPY: text always quoted (so "" is an empty string), NULL as nothing. */
function csvText(value: string | null): string {
  if (value === null) return "";
  const text = sanitize(value);
  return '"' + (text.includes('"') ? text.replaceAll('"', '""') : text) + '"';
}

function csvInt(value: number | bigint | null): string {
  return value === null ? "" : String(value);
}

/** One staging row, in STAGE_COLUMNS order. */
function stageLine(row: RatedCdrRow): string {
  const cdr = row.cdr;
  return [
    csvText(cdr.key),
    csvInt(row.line),
    csvText(cdr.partner),
    cdr.direction,
    cdr.service,
    csvInt(cdr.startMs),
    csvInt(cdr.duration),
    csvInt(cdr.volume),
    csvText(cdr.aNumber),
    csvText(cdr.bNumber),
    cdr.disposition,
    row.outcome,
    csvText(row.destination),
    csvText(row.prefix),
    csvText(row.band),
    csvInt(row.billed),
    csvInt(row.amount),
    csvInt(row.deckId),
    csvInt(row.tariffLine),
  ].join(",");
}

/** PostgreSQL text cannot hold NUL; keys are compared after the same replacement the array literal makes. */
function sanitize(text: string): string {
  return text.includes("\u0000") ? text.replaceAll("\u0000", "\uFFFD") : text;
}
