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
export async function storeBatch(
  db: Database,
  fileId: number,
  lastLine: number,
  cdrs: readonly RatedCdrRow[],
  rejects: readonly RejectRow[],
): Promise<BatchCounts> {
  return db.transaction(async (tx) => {
    // Batches of concurrent ingests (other files, other processes) take turns, so the duplicate check
    // below and the insert see the same set of stored keys: a plain INSERT is then safe, and much
    // cheaper than INSERT … ON CONFLICT's speculative insertion.
    await tx.query("SELECT pg_advisory_xact_lock(7355608)");
    // Within the batch the first row of a key wins (later ones are duplicates); against stored CDRs
    // the insert skips keys already present and returns the lines it stored.
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
    const fresh: RatedCdrRow[] = [];
    if (candidates.length > 0) {
      const ints = (pick: (row: RatedCdrRow) => number | bigint | null) => intArray(candidates.map(pick));
      const texts = (pick: (row: RatedCdrRow) => string | null) => textArray(candidates.map(pick));
      const { rows } = await tx.query<{ line: bigint }>(
        `INSERT INTO cdrs (source_key, file_id, line, partner_id, direction, service, start_time, duration, volume,
           a_number, b_number, disposition, outcome, destination, prefix, band, billed, amount_micro, tariff_deck_id, tariff_line)
         SELECT u.key, $1, u.line, u.partner, u.direction, u.service,
                timestamptz 'epoch' + u.start_ms * interval '1 millisecond', u.duration, u.volume,
                u.a_number, u.b_number, u.disposition, u.outcome, u.destination, u.prefix, u.band, u.billed, u.amount,
                u.deck_id, u.tariff_line
           FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::int[], $9::bigint[],
                       $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[],
                       $17::bigint[], $18::bigint[], $19::int[], $20::int[])
                AS u(key, line, partner, direction, service, start_ms, duration, volume, a_number, b_number,
                     disposition, outcome, destination, prefix, band, billed, amount, deck_id, tariff_line)
          WHERE NOT EXISTS (SELECT 1 FROM cdrs c WHERE c.source_key = u.key)
         RETURNING line`,
        [
          fileId,
          texts((r) => r.cdr.key),
          ints((r) => r.line),
          texts((r) => r.cdr.partner),
          texts((r) => r.cdr.direction),
          texts((r) => r.cdr.service),
          ints((r) => r.cdr.startMs),
          ints((r) => r.cdr.duration),
          ints((r) => r.cdr.volume),
          texts((r) => r.cdr.aNumber),
          texts((r) => r.cdr.bNumber),
          texts((r) => r.cdr.disposition),
          texts((r) => r.outcome),
          texts((r) => r.destination),
          texts((r) => r.prefix),
          texts((r) => r.band),
          ints((r) => r.billed),
          ints((r) => r.amount),
          ints((r) => r.deckId),
          ints((r) => r.tariffLine),
        ],
      );
      const stored = new Set(rows.map((row) => Number(row.line)));
      for (const row of candidates) (stored.has(row.line) ? fresh : duplicates).push(row);
      duplicates.sort((a, b) => a.line - b.line);
    }

    const counts: BatchCounts = {
      records: cdrs.length + rejects.length,
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

/** PostgreSQL text cannot hold NUL; keys are compared after the same replacement the array literal makes. */
function sanitize(text: string): string {
  return text.includes("\u0000") ? text.replaceAll("\u0000", "\uFFFD") : text;
}
