/**
 * Archiving a closed month's CDRs: its partition (db/cdr-partitions.ts) detached, written to a gzipped
 * CSV file and dropped, with the file's row count and SHA-256 recorded in `cdr_archives`.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import zlib from "node:zlib";
import { ConflictError, NotFoundError } from "../errors";
import { partitionName } from "./cdr-partitions";
import type { Database, Queryable } from "./database";
import { INGEST_LOCK } from "./ingest-store";

export interface CdrArchive {
  period: number;
  file: string;
  records: bigint;
  sha256: string;
  archivedAt: Date;
}

/** The months archived so far, oldest first. */
export async function listCdrArchives(db: Queryable): Promise<CdrArchive[]> {
  const { rows } = await db.query<{
    period: number;
    file: string;
    records: string;
    sha256: string;
    archived_at: Date;
  }>("SELECT period, file, records::text, sha256, archived_at FROM cdr_archives ORDER BY period");
  return rows.map((row) => ({
    period: row.period,
    file: row.file,
    records: BigInt(row.records),
    sha256: row.sha256,
    archivedAt: new Date(row.archived_at),
  }));
}

/** The partners with CDRs in `period`'s partition and, for each, its agreement and whether it summarised it. */
export async function partnersOfMonth(
  db: Queryable,
  period: number,
): Promise<{ partnerId: string; agreementId: string | null; summarised: boolean }[]> {
  const { rows } = await db.query<{ partner_id: string; agreement_id: string | null; summarised: boolean }>(
    `SELECT p.partner_id, a.agreement_id, s.agreement_id IS NOT NULL AS summarised
       FROM (SELECT DISTINCT partner_id FROM ${partitionName(period)}) p
       LEFT JOIN agreements a ON a.partner_id = p.partner_id
       LEFT JOIN summaries s ON s.agreement_id = a.agreement_id AND s.period = $1
      ORDER BY p.partner_id`,
    [period],
  );
  return rows.map((row) => ({
    partnerId: row.partner_id,
    agreementId: row.agreement_id,
    summarised: row.summarised,
  }));
}

/** How many CDRs one page of the archive reads. */
const PAGE = 50_000;

/**
 * Detaches `period`'s partition, writes its CDRs to `<dir>/cdrs-YYYYMM.csv.gz` (a header line of the
 * column names, then one CSV row per CDR in key order, as PostgreSQL's CSV writes them), records the
 * file with its row count and SHA-256, and drops the partition; all in one transaction under the ingest
 * lock, so a failure (the disk full, say) leaves the month attached. The caller decides the month is
 * closed (`icl cdrs archive` checks every partner's period is summarised and settled on the ledger).
 * @throws NotFoundError when the month has no partition; ConflictError when the file exists.
 */
export async function archiveCdrMonth(db: Database, period: number, dir: string): Promise<CdrArchive> {
  const name = partitionName(period);
  const file = path.resolve(dir, `cdrs-${period}.csv.gz`);
  if (fs.existsSync(file)) throw new ConflictError(`the archive ${file} exists already`);
  fs.mkdirSync(dir, { recursive: true });
  const partial = `${file}.partial`;
  try {
    const archive = await db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1)", [INGEST_LOCK]);
      const { rows: found } = await tx.query<{ exists: boolean }>(
        "SELECT to_regclass($1) IS NOT NULL AS exists",
        [name],
      );
      if (!found[0]?.exists)
        throw new NotFoundError(`no CDRs of ${period} are stored (no partition ${name})`);
      await tx.query(`ALTER TABLE cdrs DETACH PARTITION ${name}`);
      const hash = crypto.createHash("sha256");
      let records = 0n;
      const columns = (
        await tx.query<{ column_name: string }>(
          `SELECT column_name FROM information_schema.columns
            WHERE table_name = $1 AND table_schema = current_schema() ORDER BY ordinal_position`,
          [name],
        )
      ).rows.map((row) => row.column_name);
      const quote = (value: string | null) => (value === null ? "" : `"${value.replace(/"/g, '""')}"`);
      async function* csv(): AsyncGenerator<string> {
        yield columns.join(",") + "\n";
        let after: string[] | null = null;
        for (;;) {
          // Every column as PostgreSQL writes it as text; the page's last key is where the next starts.
          const page: string[] | null = after;
          const { rows } = await tx.query<Record<string, string | null>>(
            `SELECT ${columns.map((column) => `c.${column}::text AS ${column}`).join(", ")}
               FROM ${name} c
              ${page === null ? "" : "WHERE (c.source_key, c.start_time) > ($1, $2::timestamptz)"}
              ORDER BY c.source_key, c.start_time LIMIT ${PAGE}`,
            page ?? [],
          );
          if (rows.length === 0) return;
          records += BigInt(rows.length);
          yield (
            rows.map((row) => columns.map((column) => quote(row[column] ?? null)).join(",")).join("\n") + "\n"
          );
          const last: Record<string, string | null> = rows[rows.length - 1]!;
          after = [last.source_key!, last.start_time!];
        }
      }
      const out = fs.createWriteStream(partial);
      const gzip = zlib.createGzip();
      gzip.on("data", (chunk: Buffer) => hash.update(chunk));
      await pipeline(Readable.from(csv()), gzip, out);
      const sha256 = hash.digest("hex");
      await tx.query(`DROP TABLE ${name}`);
      const { rows } = await tx.query<{ archived_at: Date }>(
        "INSERT INTO cdr_archives (period, file, records, sha256) VALUES ($1, $2, $3, $4) RETURNING archived_at",
        [period, file, records.toString(), sha256],
      );
      return { period, file, records, sha256, archivedAt: new Date(rows[0]!.archived_at) };
    });
    // Committed: the file takes its name (until then a failure leaves the month attached, no file).
    fs.renameSync(partial, file);
    return archive;
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw error;
  }
}
