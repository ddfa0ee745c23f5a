import { BaseError, ConflictError } from "../errors";
import type { StoredField } from "../mediation/formats/format";
import type { MediatedCdr, RejectReason } from "../mediation/types";
import { ensureCdrPartitions } from "./cdr-partitions";
import type { Database, Queryable } from "./database";
import { intArray, textArray } from "./pg-array";

/** Where an ingest reads from. */
export type IngestKind = "file" | "table" | "stream";

/**
 * - `ingesting`: running, or stopped abruptly (a crash, a kill): run it again to resume;
 * - `incomplete`: stopped with a known reason (`incompleteReason`): run it again to resume;
 * - `done`: a file read to its end;
 * - `live`: a table or stream, stored up to its position and read as it grows;
 * - `discarded`: set aside by `icl files discard`, its CDRs and rejects removed.
 */
export type IngestStatus = "ingesting" | "incomplete" | "done" | "live" | "discarded";
export const INGEST_STATUSES: readonly IngestStatus[] = [
  "ingesting",
  "incomplete",
  "done",
  "live",
  "discarded",
];
export const INGEST_KINDS: readonly IngestKind[] = ["file", "table", "stream"];

export interface IngestFile {
  id: number;
  kind: IngestKind;
  fileName: string;
  /** Where it came from: the path given, `postgres://host/db table acc`, `nats://host stream S subject X`. */
  source: string | null;
  /** A file's SHA-256; a table's or stream's identity (what makes it the same source again). */
  contentHash: string;
  format: string;
  byteSize: bigint;
  status: IngestStatus;
  /** Every row up to this line (file line, table id, stream sequence) has been stored; resume after it. */
  checkpointLine: bigint;
  /** A table's or stream's own resume state. */
  position: unknown;
  records: bigint;
  rated: bigint;
  unbilled: bigint;
  rejected: bigint;
  incompleteReason: string | null;
  startedAt: Date;
  finishedAt: Date | null;
  updatedAt: Date;
}

/** A mediated CDR with its rating result, ready to store. `outcome: "rejected"` means NO_RATE. */
export interface RatedCdrRow {
  line: number;
  raw: string;
  cdr: MediatedCdr;
  outcome: "rated" | "unbilled" | "rejected";
  /** The destination of the deck in force, for every attempt it covers (billed or not); null when none. */
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
  /** For IMPLAUSIBLE: the plausibility rule. */
  rule?: string | null | undefined;
}

export interface BatchCounts {
  records: number;
  rated: number;
  unbilled: number;
  rejected: number;
  /** Rows of this batch already stored by an earlier run (a redelivered message, a replayed line): not counted again. */
  redelivered: number;
  /** CDRs stored as late: their period's summary was committed before they arrived. */
  late: number;
}

type FileRow = {
  id: number;
  kind: IngestKind;
  file_name: string;
  source: string | null;
  content_hash: string;
  format: string;
  byte_size: bigint;
  status: IngestStatus;
  checkpoint_line: bigint;
  position: unknown;
  records: bigint;
  rated: bigint;
  unbilled: bigint;
  rejected: bigint;
  incomplete_reason: string | null;
  started_at: Date;
  finished_at: Date | null;
  updated_at: Date;
};

function toFile(row: FileRow): IngestFile {
  return {
    id: row.id,
    kind: row.kind,
    fileName: row.file_name,
    source: row.source,
    contentHash: row.content_hash,
    format: row.format,
    byteSize: row.byte_size,
    status: row.status,
    checkpointLine: row.checkpoint_line,
    position: row.position ?? null,
    records: row.records,
    rated: row.rated,
    unbilled: row.unbilled,
    rejected: row.rejected,
    incompleteReason: row.incomplete_reason,
    startedAt: new Date(row.started_at),
    finishedAt: row.finished_at === null ? null : new Date(row.finished_at),
    updatedAt: new Date(row.updated_at),
  };
}

/**
 * Finds the ingest by identity (a file's content hash) and format, or registers it. An ingest
 * already registered is returned as it is: `done` means there is nothing to do; `ingesting` or
 * `incomplete` means an earlier run stopped after `checkpointLine`, and ingest resumes from there;
 * `discarded` means an operator set it aside. Registering again marks a stopped ingest `ingesting`.
 */
export async function startFile(
  db: Queryable,
  file: {
    fileName: string;
    contentHash: string;
    format: string;
    byteSize: number;
    kind?: IngestKind;
    source?: string | null;
  },
): Promise<IngestFile> {
  await db.query(
    `INSERT INTO ingest_files (file_name, content_hash, format, byte_size, status, kind, source)
     VALUES ($1, $2, $3, $4, 'ingesting', $5, $6) ON CONFLICT (content_hash, format) DO NOTHING`,
    [file.fileName, file.contentHash, file.format, file.byteSize, file.kind ?? "file", file.source ?? null],
  );
  const { rows } = await db.query<FileRow>(
    `UPDATE ingest_files SET status = CASE WHEN status = 'incomplete' THEN 'ingesting' ELSE status END,
            incomplete_reason = CASE WHEN status = 'incomplete' THEN NULL ELSE incomplete_reason END,
            byte_size = GREATEST(byte_size, $3), updated_at = now()
      WHERE content_hash = $1 AND format = $2 RETURNING *`,
    [file.contentHash, file.format, file.byteSize],
  );
  return toFile(rows[0]!);
}

/** The cdr_keys columns of a stored CDR's key, in COPY order. */
const KEY_COLUMNS = ["source_key", "file_id", "line", "period"] as const;

/** The cdrs columns a CDR is stored in, in COPY order. */
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
  "setup_time",
  "answer_time",
  "end_time",
  "total_seconds",
  "trunk",
  "sip_code",
  "q850_cause",
  "pdd_ms",
  "warnings",
  "call_key",
  "call_key_period",
] as const;

/**
 * A CDR's call key (reconciliation/call-key.ts) in the summary of `period` (YYYYMM), as 0x hex, or null
 * when it is not known at ingest: stored with the CDR so a comparison need not hash every call again.
 */
export type CallKeyer = (
  cdr: Pick<MediatedCdr, "partner" | "direction" | "aNumber" | "bNumber" | "startMs">,
  period: number,
) => string | null;

/** Names the source field behind a cdrs column, for the reject of a value the database refused. */
export type FieldNamer = (column: StoredField) => string | null;

/**
 * One batch, prepared outside the database transaction (duplicates within the batch, the COPY
 * text) so the caller can overlap it with the previous batch's write.
 */
export interface PreparedBatch {
  fileId: number;
  /** Every row up to this line is stored once this batch is: the ingest's new checkpoint. */
  checkpointLine: number;
  /** A table's or stream's resume state after this batch (undefined: unchanged). */
  position: unknown;
  rejects: readonly RejectRow[];
  /** First row of each key in the batch, with the COPY text for them. */
  candidates: RatedCdrRow[];
  candidatesCsv: string;
  /** Later rows of a key already in the batch. */
  duplicates: RatedCdrRow[];
  fieldOf: FieldNamer;
  keyer: CallKeyer | null;
}

/** The CPU part of storing a batch. */
export function prepareBatch(
  fileId: number,
  checkpointLine: number,
  cdrs: readonly RatedCdrRow[],
  rejects: readonly RejectRow[],
  options: { position?: unknown; fieldOf?: FieldNamer; keyer?: CallKeyer | null } = {},
): PreparedBatch {
  const keyer = options.keyer ?? null;
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
  return {
    fileId,
    checkpointLine,
    position: options.position,
    rejects,
    candidates,
    candidatesCsv: candidates.map((row) => cdrLine(row, fileId, keyer)).join("\n"),
    duplicates,
    fieldOf: options.fieldOf ?? ((column) => column),
    keyer,
  };
}

/** SQLSTATEs of a value the database will not store as given: data exceptions, not-null and check violations, limits. */
function isRefusedValue(error: unknown): boolean {
  const code = error instanceof BaseError ? error.code : "";
  return /^SQLSTATE_(22|23502|23514|54)/.test(code);
}

/** `COPY cdrs, line 3, column start_time: "…"` → line 3 and column start_time. */
function copyErrorPlace(error: unknown): { line: number; column: string | null } | null {
  const cause = (error as { cause?: { where?: unknown } }).cause;
  const where = typeof cause?.where === "string" ? cause.where : "";
  const match = /COPY \w+, line (\d+)(?:, column (\w+))?/.exec(where);
  return match ? { line: Number(match[1]), column: match[2] ?? null } : null;
}

/** What inserting a batch's candidates gave. */
interface Inserted {
  fresh: RatedCdrRow[];
  /** Keys stored by another file or line: DUPLICATE. */
  duplicates: RatedCdrRow[];
  /** This very row (same ingest and line) was stored by an earlier run. */
  redelivered: number;
  refused: RejectRow[];
}

/**
 * Stores one prepared batch atomically: the CDRs (a key already stored makes the later row a
 * DUPLICATE reject; the same row stored by an earlier run of this ingest is recognised and
 * skipped), the rejects, the late flags, and the ingest's counts, checkpoint and position. A value
 * the database refuses becomes an INVALID reject naming its line and field; nothing aborts. A
 * crash before the commit leaves the batch entirely absent.
 */
export async function storeBatch(db: Database, batch: PreparedBatch): Promise<BatchCounts> {
  const { fileId, rejects } = batch;
  return db.transaction(async (tx) => {
    // Batches of concurrent ingests (other files, other processes) and period closes take turns,
    // so the check for stored keys and the insert see the same set of keys, and a period is
    // either closed before a batch (its CDRs are late) or after it (they are in the summary).
    await tx.query("SELECT pg_advisory_xact_lock($1)", [INGEST_LOCK]);
    const inserted = await insertCandidates(tx, fileId, batch.candidates, batch.candidatesCsv, batch);
    const duplicates = [...batch.duplicates, ...inserted.duplicates].sort((a, b) => a.line - b.line);

    const allRejects: RejectRow[] = [...rejects, ...inserted.refused];
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
    let rated = 0;
    let unbilled = 0;
    for (const row of inserted.fresh) {
      if (row.outcome === "rated") rated++;
      else if (row.outcome === "unbilled") unbilled++;
      else {
        allRejects.push({
          line: row.line,
          raw: row.raw,
          reason: "NO_RATE",
          field: "b_number",
          message: row.rejectMessage ?? "no rate",
          sourceKey: row.cdr.key,
        });
      }
    }
    const late = await markLate(tx, inserted.fresh, batch.keyer);
    const span = startSpan(inserted.fresh);

    // A reject of a line this ingest stored before (a replay, a redelivery) is not stored or counted twice.
    let storedRejects = 0;
    let freshNoRate = 0;
    if (allRejects.length > 0) {
      const { rows } = await tx.query<{ reason: string }>(
        `INSERT INTO rejects (file_id, line, reason, field, message, raw, source_key, rule)
         SELECT $1, u.line, u.reason, u.field, u.message, u.raw, u.source_key, u.rule
           FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
                AS u(line, reason, field, message, raw, source_key, rule)
         ON CONFLICT (file_id, line) DO NOTHING RETURNING reason`,
        [
          fileId,
          intArray(allRejects.map((r) => r.line)),
          textArray(allRejects.map((r) => r.reason)),
          textArray(allRejects.map((r) => r.field)),
          textArray(allRejects.map((r) => sanitize(r.message))),
          textArray(allRejects.map((r) => sanitize(r.raw))),
          textArray(allRejects.map((r) => (r.sourceKey === null ? null : sanitize(r.sourceKey)))),
          textArray(allRejects.map((r) => r.rule ?? null)),
        ],
      );
      storedRejects = rows.length;
      freshNoRate = rows.filter((row) => row.reason === "NO_RATE").length;
    }
    const redelivered = inserted.redelivered + (allRejects.length - storedRejects);
    // A NO_RATE CDR is a cdrs row and a reject: counted once, as rejected.
    const counts: BatchCounts = {
      records: rated + unbilled + storedRejects,
      rated,
      unbilled,
      rejected: storedRejects,
      redelivered,
      late,
    };
    if (freshNoRate !== inserted.fresh.length - rated - unbilled) {
      throw new BaseError("the batch's NO_RATE CDRs and rejects disagree", {
        code: "INGEST_INCONSISTENT",
        details: `file ${fileId}: ${inserted.fresh.length - rated - unbilled} NO_RATE CDRs, ${freshNoRate} NO_RATE rejects`,
      });
    }
    await tx.query(
      `UPDATE ingest_files SET checkpoint_line = GREATEST(checkpoint_line, $2), records = records + $3,
              rated = rated + $4, unbilled = unbilled + $5, rejected = rejected + $6,
              position = COALESCE($7::jsonb, position), updated_at = now(),
              first_start = LEAST(first_start, $8::timestamptz), last_start = GREATEST(last_start, $9::timestamptz)
        WHERE id = $1`,
      [
        fileId,
        batch.checkpointLine,
        counts.records,
        counts.rated,
        counts.unbilled,
        counts.rejected,
        batch.position === undefined ? null : JSON.stringify(batch.position),
        span.first === null ? null : new Date(span.first).toISOString(),
        span.last === null ? null : new Date(span.last).toISOString(),
      ],
    );
    return counts;
  });
}

/** The advisory lock ingest batches, period closes and re-rates take turns on. */
export const INGEST_LOCK = 7355608;

/**
 * Inserts the batch's first-of-key rows: their keys by COPY into cdr_keys (the CDR key's uniqueness
 * over every month, archived ones included: db/cdr-partitions.ts), then the rows by COPY into cdrs'
 * monthly partitions (created first where missing); as fast as PostgreSQL loads anything. A key
 * stored before makes the first COPY fail with a unique violation, and then (rarely) the batch is
 * classified against the stored keys: this ingest's own earlier rows (a replay or redelivery:
 * skipped) and other rows' keys (DUPLICATE). A value the database refuses is found by the COPY
 * error's line (or by halving) and becomes an INVALID reject naming the field.
 */
async function insertCandidates(
  tx: Queryable,
  fileId: number,
  candidates: RatedCdrRow[],
  csv: string | null,
  options: { fieldOf: FieldNamer; keyer: CallKeyer | null },
): Promise<Inserted> {
  const { fieldOf, keyer } = options;
  const none: Inserted = { fresh: [], duplicates: [], redelivered: 0, refused: [] };
  if (candidates.length === 0) return none;
  await tx.query("SAVEPOINT cdr_bulk");
  try {
    const periods = new Set<number>();
    const keys = candidates.map((row) => {
      const period = periodOf(row.cdr.startMs);
      periods.add(period);
      return `${csvText(row.cdr.key)},${fileId},${csvInt(row.line)},${period}`;
    });
    await tx.copyFrom("cdr_keys", KEY_COLUMNS, keys.join("\n"));
    await ensureCdrPartitions(tx, periods);
    await tx.copyFrom(
      "cdrs",
      CDR_COLUMNS,
      csv ?? candidates.map((row) => cdrLine(row, fileId, keyer)).join("\n"),
    );
    await tx.query("RELEASE SAVEPOINT cdr_bulk");
    return { ...none, fresh: candidates };
  } catch (error) {
    await tx.query("ROLLBACK TO SAVEPOINT cdr_bulk");
    await tx.query("RELEASE SAVEPOINT cdr_bulk");
    if (error instanceof ConflictError) return insertSkippingStored(tx, fileId, candidates, options);
    if (!isRefusedValue(error)) throw error;
    const place = copyErrorPlace(error);
    if (candidates.length === 1 || (place !== null && place.line >= 1 && place.line <= candidates.length)) {
      const at = candidates.length === 1 ? 0 : place!.line - 1;
      const bad = candidates[at]!;
      const column = (place?.column ?? null) as StoredField | null;
      const field = column === null ? null : (fieldOf(column) ?? column);
      const refused: RejectRow = {
        line: bad.line,
        raw: bad.raw,
        reason: "INVALID",
        field,
        message: `the database cannot store ${field ?? "this row"}: ${error instanceof BaseError ? (error.details ?? error.shortMessage) : String(error)}`,
        sourceKey: bad.cdr.key,
      };
      const before = await insertCandidates(tx, fileId, candidates.slice(0, at), null, options);
      const after = await insertCandidates(tx, fileId, candidates.slice(at + 1), null, options);
      return merge(before, after, [refused]);
    }
    const half = candidates.length >> 1;
    const first = await insertCandidates(tx, fileId, candidates.slice(0, half), null, options);
    const second = await insertCandidates(tx, fileId, candidates.slice(half), null, options);
    return merge(first, second, []);
  }
}

function merge(a: Inserted, b: Inserted, refused: RejectRow[]): Inserted {
  return {
    fresh: [...a.fresh, ...b.fresh],
    duplicates: [...a.duplicates, ...b.duplicates],
    redelivered: a.redelivered + b.redelivered,
    refused: [...a.refused, ...refused, ...b.refused],
  };
}

/** The slow path of insertCandidates: stage, classify against stored keys, insert the new ones. */
async function insertSkippingStored(
  tx: Queryable,
  fileId: number,
  candidates: readonly RatedCdrRow[],
  options: { fieldOf: FieldNamer; keyer: CallKeyer | null },
): Promise<Inserted> {
  const keys = candidates.map((row) => sanitize(row.cdr.key));
  const { rows } = await tx.query<{ source_key: string; file_id: number; line: bigint }>(
    "SELECT source_key, file_id, line FROM cdr_keys WHERE source_key = ANY($1::text[])",
    [textArray(keys)],
  );
  const stored = new Map(rows.map((row) => [row.source_key, row]));
  const fresh: RatedCdrRow[] = [];
  const duplicates: RatedCdrRow[] = [];
  let redelivered = 0;
  candidates.forEach((row, i) => {
    const hit = stored.get(keys[i]!);
    if (hit === undefined) fresh.push(row);
    else if (hit.file_id === fileId && Number(hit.line) === row.line) redelivered++;
    else duplicates.push(row);
  });
  // The new ones go through the fast path again (their keys are free now, under the lock).
  const inserted = await insertCandidates(tx, fileId, fresh, null, options);
  return {
    fresh: inserted.fresh,
    duplicates: [...duplicates, ...inserted.duplicates],
    redelivered: redelivered + inserted.redelivered,
    refused: inserted.refused,
  };
}

/** The earliest and latest start of some CDRs (null when none). */
function startSpan(rows: readonly RatedCdrRow[]): { first: number | null; last: number | null } {
  let first: number | null = null;
  let last: number | null = null;
  for (const row of rows) {
    const ms = row.cdr.startMs;
    if (first === null || ms < first) first = ms;
    if (last === null || ms > last) last = ms;
  }
  return { first, last };
}

/** YYYYMM of a UTC instant. */
export function periodOf(ms: number): number {
  const date = new Date(ms);
  return date.getUTCFullYear() * 100 + date.getUTCMonth() + 1;
}

/** The month after YYYYMM. */
export function nextPeriod(period: number): number {
  return period % 100 === 12 ? (Math.floor(period / 100) + 1) * 100 + 1 : period + 1;
}

/**
 * Flags the CDRs just stored whose partner's summary of their month was already committed: they
 * are `late`, never added to that summary, and counted in the first later period of that partner
 * not committed yet (`bill_period`), the day of their leaf still the day they started. A correction
 * round of the committed period, should there be one, is where the partner's figures are set
 * against ours; this node does not rebuild committed summaries. Runs under the ingest lock, which
 * period closes take too. Their call keys move to the salt of that later period. Returns how many
 * were flagged.
 */
async function markLate(
  tx: Queryable,
  fresh: readonly RatedCdrRow[],
  keyer: CallKeyer | null,
): Promise<number> {
  if (fresh.length === 0) return 0;
  const committed = await committedPeriods(tx);
  if (committed.size === 0) return 0;
  const keys: string[] = [];
  const periods: number[] = [];
  const callKeys: (string | null)[] = [];
  for (const row of fresh) {
    const closed = committed.get(row.cdr.partner);
    const period = periodOf(row.cdr.startMs);
    if (closed === undefined || !closed.has(period)) continue;
    let billed = nextPeriod(period);
    while (closed.has(billed)) billed = nextPeriod(billed);
    keys.push(sanitize(row.cdr.key));
    periods.push(billed);
    callKeys.push(keyer?.(row.cdr, billed) ?? null);
  }
  if (keys.length === 0) return 0;
  await tx.query(
    `UPDATE cdrs c SET late = true, bill_period = u.period, call_key = decode(substr(u.call_key, 3), 'hex'),
            call_key_period = CASE WHEN u.call_key IS NULL THEN NULL ELSE u.period END
       FROM unnest($1::text[], $2::int[], $3::text[]) AS u(source_key, period, call_key)
      WHERE c.source_key = u.source_key`,
    [textArray(keys), intArray(periods), textArray(callKeys)],
  );
  return keys.length;
}

/** Partner → the periods whose summary with that partner was committed. */
export async function committedPeriods(db: Queryable): Promise<Map<string, Set<number>>> {
  const { rows } = await db.query<{ partner_id: string; period: number }>(
    "SELECT partner_id, period FROM summaries WHERE committed_at IS NOT NULL",
  );
  const map = new Map<string, Set<number>>();
  for (const row of rows) {
    let set = map.get(row.partner_id);
    if (set === undefined) map.set(row.partner_id, (set = new Set()));
    set.add(row.period);
  }
  return map;
}

/** Marks a file completely ingested and returns its final record. */
export async function finishFile(db: Queryable, fileId: number): Promise<IngestFile> {
  const { rows } = await db.query<FileRow>(
    `UPDATE ingest_files SET status = 'done', finished_at = now(), updated_at = now(), incomplete_reason = NULL
      WHERE id = $1 RETURNING *`,
    [fileId],
  );
  return toFile(rows[0]!);
}

/** Marks a table or stream ingest `live` (stored up to its position) and returns it. */
export async function markLive(db: Queryable, fileId: number): Promise<IngestFile> {
  const { rows } = await db.query<FileRow>(
    `UPDATE ingest_files SET status = 'live', updated_at = now(), incomplete_reason = NULL WHERE id = $1 RETURNING *`,
    [fileId],
  );
  return toFile(rows[0]!);
}

/** Marks an ingest that stopped on an error `incomplete`, with the reason a person reads. */
export async function markIncomplete(db: Queryable, fileId: number, reason: string): Promise<void> {
  await db.query(
    `UPDATE ingest_files SET status = 'incomplete', incomplete_reason = $2, updated_at = now()
      WHERE id = $1 AND status IN ('ingesting', 'live')`,
    [fileId, reason.slice(0, 2000)],
  );
}

/** Every ingest, oldest first. */
export async function listFiles(db: Queryable): Promise<IngestFile[]> {
  const { rows } = await db.query<FileRow>("SELECT * FROM ingest_files ORDER BY id");
  return rows.map(toFile);
}

/** One ingest by id, or null. */
export async function getFile(db: Queryable, fileId: number): Promise<IngestFile | null> {
  const { rows } = await db.query<FileRow>("SELECT * FROM ingest_files WHERE id = $1", [fileId]);
  return rows[0] === undefined ? null : toFile(rows[0]);
}

/**
 * The unfinished file ingests (`ingesting`, `incomplete`) that may touch the month [startMs,
 * endMs): one whose first CDR stored so far starts before the month ends (a switch file runs
 * forward in time, so its unread rows can fall in this month or a later one), or one that stored
 * no CDR yet (its unread rows could be anything). Its unread rows may hold any partner's calls,
 * so the partner does not narrow it. A summary built while one of them is unfinished would pass
 * a partial result on as a whole one; a row that still turns up later for a committed month is
 * stored as late, never added to that month's summary.
 */
export async function unfinishedIngestsTouching(
  db: Queryable,
  query: { endMs: number },
): Promise<IngestFile[]> {
  const { rows } = await db.query<FileRow>(
    `SELECT * FROM ingest_files
      WHERE kind = 'file' AND status IN ('ingesting', 'incomplete')
        AND (first_start IS NULL OR first_start < $1)
      ORDER BY id`,
    [new Date(query.endMs).toISOString()],
  );
  return rows.map(toFile);
}

/**
 * Sets an unfinished or finished ingest aside: removes its CDRs and rejects and marks it
 * `discarded` (kept, with zero counts, so the same content is not ingested by accident again).
 * @throws ConflictError when a committed summary counts any of its CDRs.
 */
export async function discardIngest(db: Database, fileId: number): Promise<IngestFile> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [INGEST_LOCK]);
    const committed = await tx.query<{ period: number; partner_id: string }>(
      `SELECT DISTINCT s.period, s.partner_id FROM summaries s JOIN cdrs c ON c.partner_id = s.partner_id
        WHERE s.committed_at IS NOT NULL AND c.file_id = $1
          AND ((NOT c.late AND to_char(c.start_time AT TIME ZONE 'UTC', 'YYYYMM')::int = s.period)
               OR (c.late AND c.bill_period = s.period))
        LIMIT 5`,
      [fileId],
    );
    if (committed.rows.length > 0) {
      throw new ConflictError(
        `ingest ${fileId} has CDRs counted by a committed summary`,
        committed.rows.map((row) => `  ${row.partner_id} ${row.period}`).join("\n"),
      );
    }
    await tx.query("DELETE FROM cdrs WHERE file_id = $1", [fileId]);
    await tx.query("DELETE FROM cdr_keys WHERE file_id = $1", [fileId]);
    await tx.query("DELETE FROM rejects WHERE file_id = $1", [fileId]);
    const { rows } = await tx.query<FileRow>(
      `UPDATE ingest_files SET status = 'discarded', records = 0, rated = 0, unbilled = 0, rejected = 0,
              updated_at = now() WHERE id = $1 RETURNING *`,
      [fileId],
    );
    if (rows[0] === undefined) throw new ConflictError(`no ingest ${fileId}`);
    return toFile(rows[0]);
  });
}

export interface StoredReject {
  fileId: number;
  fileName: string;
  line: bigint;
  reason: RejectReason;
  field: string | null;
  message: string;
  raw: string;
  rule: string | null;
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
    rule: string | null;
  }>(
    `SELECT r.file_id, f.file_name, r.line, r.reason, r.field, r.message, r.raw, r.rule
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
    rule: row.rule,
  }));
}

/** One cdrs row, in CDR_COLUMNS order (times as ISO 8601 UTC, which timestamptz reads exactly). */
function cdrLine(row: RatedCdrRow, fileId: number, keyer: CallKeyer | null): string {
  const cdr = row.cdr;
  // Keyed for the period of its start; markLate re-keys a CDR that turns out late.
  const period = periodOf(cdr.startMs);
  const key = keyer?.(cdr, period) ?? null;
  return [
    csvText(cdr.key),
    fileId,
    csvInt(row.line),
    csvText(cdr.partner),
    cdr.direction,
    cdr.service,
    csvTime(cdr.startMs),
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
    csvTime(cdr.setupMs),
    csvTime(cdr.answerMs),
    csvTime(cdr.endMs),
    csvInt(cdr.totalSeconds),
    csvText(cdr.trunk),
    csvInt(cdr.sipCode),
    csvInt(cdr.q850Cause),
    csvInt(cdr.pddMs),
    cdr.warnings === null ? "" : csvText(`{${cdr.warnings.join(",")}}`),
    key === null ? "" : `\\x${key.slice(2)}`,
    key === null ? "" : period,
  ].join(",");
}

/** An instant for COPY: ISO 8601 UTC; a value outside what an ISO date can write is left for the database to refuse. */
function csvTime(ms: number | null): string {
  if (ms === null) return "";
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
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

/** PostgreSQL text cannot hold NUL; keys are compared after the same replacement the array literal makes. */
function sanitize(text: string): string {
  return text.includes("\u0000") ? text.replaceAll("\u0000", "\uFFFD") : text;
}
