/**
 * The CDR table's monthly partitions (migration 15): `cdrs` is partitioned by range of `start_time`,
 * one partition `cdrs_pYYYYMM` per UTC month, created as the first CDR of a month is stored; a month
 * whose periods are settled is detached, written to a gzipped CSV file and dropped (`archiveCdrMonth`),
 * while its CDR keys stay in `cdr_keys` so a re-sent CDR of that month is still a DUPLICATE
 * (db/cdr-archive.ts).
 */
import { InputError } from "../errors";
import type { Queryable } from "./database";

/** The partition of `period` (YYYYMM; any month of the years 0001–9999 a CDR can start in). */
export function partitionName(period: number): string {
  checkPeriod(period);
  return `cdrs_p${String(period).padStart(6, "0")}`;
}

/** The first instant of `period` and of the month after, as UTC ISO strings: the partition's bounds. */
export function monthBounds(period: number): { from: string; to: string } {
  checkPeriod(period);
  const iso = (p: number) =>
    `${String(Math.floor(p / 100)).padStart(4, "0")}-${String(p % 100).padStart(2, "0")}-01T00:00:00Z`;
  const next = period % 100 === 12 ? period + 89 : period + 1;
  return { from: iso(period), to: iso(next) };
}

function checkPeriod(period: number): void {
  if (!Number.isInteger(period) || period < 101 || period > 999912 || period % 100 < 1 || period % 100 > 12) {
    throw new InputError(`'${period}' is not a period (YYYYMM)`, { field: "period" });
  }
}

/**
 * Makes sure each month of `periods` has its partition (one catalogue lookup per month; created when
 * missing). Run under the ingest lock, in the transaction that then stores the month's CDRs.
 */
export async function ensureCdrPartitions(tx: Queryable, periods: Iterable<number>): Promise<void> {
  for (const period of new Set(periods)) {
    const name = partitionName(period);
    const { rows } = await tx.query<{ exists: boolean }>("SELECT to_regclass($1) IS NOT NULL AS exists", [
      name,
    ]);
    if (rows[0]?.exists) continue;
    const { from, to } = monthBounds(period);
    await tx.query(`CREATE TABLE ${name} PARTITION OF cdrs FOR VALUES FROM ('${from}') TO ('${to}')`);
  }
}

export interface CdrPartition {
  period: number;
  records: bigint;
}

/** The months that have a partition, oldest first, with their CDR counts. */
export async function listCdrPartitions(db: Queryable): Promise<CdrPartition[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'cdrs'::regclass ORDER BY c.relname`,
  );
  const result: CdrPartition[] = [];
  for (const { name } of rows) {
    const period = Number(name.slice("cdrs_p".length));
    const count = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${partitionName(period)}`);
    result.push({ period, records: BigInt(count.rows[0]!.n) });
  }
  return result;
}
