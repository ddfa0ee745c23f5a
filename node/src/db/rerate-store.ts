import type { Direction, Disposition, Service } from "../mediation/types";
import type { Queryable } from "./database";
import { intArray, textArray } from "./pg-array";

/** Which stored attempts a re-rate covers. */
export interface RerateFilter {
  partner?: string | undefined;
  direction?: Direction | undefined;
  /** Inclusive, UTC epoch ms of the billable start. */
  fromMs?: number | undefined;
  /** Exclusive. */
  toMs?: number | undefined;
}

/** A stored attempt with what rating reads and what it wrote. */
export interface StoredAttempt {
  sourceKey: string;
  fileId: number;
  line: number;
  partner: string;
  direction: Direction;
  service: Service;
  startMs: number;
  duration: number;
  volume: number;
  bNumber: string;
  disposition: Disposition;
  outcome: "rated" | "unbilled" | "rejected";
  destination: string | null;
  prefix: string | null;
  band: string | null;
  billed: bigint;
  amount: bigint;
  deckId: number | null;
  tariffLine: number | null;
  late: boolean;
  billPeriod: number | null;
}

/** A new rating for a stored attempt. */
export interface Rerated {
  sourceKey: string;
  outcome: "rated" | "unbilled" | "rejected";
  destination: string | null;
  prefix: string | null;
  band: string | null;
  billed: bigint;
  amount: bigint;
  deckId: number | null;
  tariffLine: number | null;
  /** For a CDR that becomes NO_RATE: the reject's message. */
  rejectMessage: string | null;
}

const FILTER = `($1::text IS NULL OR partner_id = $1) AND ($2::text IS NULL OR direction = $2)
  AND ($3::timestamptz IS NULL OR start_time >= $3) AND ($4::timestamptz IS NULL OR start_time < $4)`;

function filterParams(filter: RerateFilter): unknown[] {
  return [
    filter.partner ?? null,
    filter.direction ?? null,
    filter.fromMs === undefined ? null : new Date(filter.fromMs).toISOString(),
    filter.toMs === undefined ? null : new Date(filter.toMs).toISOString(),
  ];
}

/**
 * The periods of committed summaries that CDRs matching `filter` are counted by (as the summary
 * counts them: a CDR in its own month unless late, a late one in its `bill_period`).
 */
export async function committedPeriodsTouched(
  db: Queryable,
  filter: RerateFilter,
): Promise<{ partner: string; period: number }[]> {
  const { rows } = await db.query<{ partner_id: string; period: number }>(
    `SELECT s.partner_id, s.period FROM summaries s
      WHERE s.committed_at IS NOT NULL AND ($1::text IS NULL OR s.partner_id = $1)
        AND EXISTS (
          SELECT 1 FROM cdrs
           WHERE partner_id = s.partner_id AND ${FILTER}
             AND ((NOT late AND start_time >= to_timestamp(s.period::text || '01', 'YYYYMMDD') AT TIME ZONE 'UTC'
                   AND start_time < (to_timestamp(s.period::text || '01', 'YYYYMMDD') AT TIME ZONE 'UTC') + interval '1 month')
                  OR (late AND bill_period = s.period)))
      ORDER BY s.partner_id, s.period`,
    filterParams(filter),
  );
  return rows.map((row) => ({ partner: row.partner_id, period: row.period }));
}

/** One page of stored attempts matching `filter` after `afterKey`, in key order. */
export async function attemptsPage(
  db: Queryable,
  filter: RerateFilter,
  afterKey: string,
  limit: number,
): Promise<StoredAttempt[]> {
  const { rows } = await db.query<{
    source_key: string;
    file_id: number;
    line: bigint;
    partner_id: string;
    direction: Direction;
    service: Service;
    start_ms: bigint;
    duration: number;
    volume: bigint;
    b_number: string;
    disposition: Disposition;
    outcome: StoredAttempt["outcome"];
    destination: string | null;
    prefix: string | null;
    band: string | null;
    billed: bigint;
    amount_micro: bigint;
    tariff_deck_id: number | null;
    tariff_line: number | null;
    late: boolean;
    bill_period: number | null;
  }>(
    `SELECT source_key, file_id, line, partner_id, direction, service,
            (extract(epoch FROM start_time) * 1000)::bigint AS start_ms, duration, volume, b_number, disposition,
            outcome, destination, prefix, band, billed, amount_micro, tariff_deck_id, tariff_line, late, bill_period
       FROM cdrs WHERE ${FILTER} AND source_key > $5
      ORDER BY source_key LIMIT $6`,
    [...filterParams(filter), afterKey, limit],
  );
  return rows.map((row) => ({
    sourceKey: row.source_key,
    fileId: row.file_id,
    line: Number(row.line),
    partner: row.partner_id,
    direction: row.direction,
    service: row.service,
    startMs: Number(row.start_ms),
    duration: row.duration,
    volume: Number(row.volume),
    bNumber: row.b_number,
    disposition: row.disposition,
    outcome: row.outcome,
    destination: row.destination,
    prefix: row.prefix,
    band: row.band,
    billed: BigInt(row.billed),
    amount: BigInt(row.amount_micro),
    deckId: row.tariff_deck_id,
    tariffLine: row.tariff_line,
    late: row.late,
    billPeriod: row.bill_period,
  }));
}

/**
 * Writes new ratings of stored attempts, with what follows from each change of outcome: a CDR
 * that leaves NO_RATE loses its reject row, one that becomes NO_RATE gains one, and its file's
 * counts move with it (records = rated + unbilled + rejected still holds per file).
 */
export async function applyRerating(
  tx: Queryable,
  changes: readonly { before: StoredAttempt; after: Rerated }[],
): Promise<void> {
  if (changes.length === 0) return;
  await tx.query(
    `UPDATE cdrs c SET outcome = u.outcome, destination = u.destination, prefix = u.prefix, band = u.band,
            billed = u.billed, amount_micro = u.amount, tariff_deck_id = u.deck_id, tariff_line = u.tariff_line
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
                   $8::int[], $9::int[])
            AS u(source_key, outcome, destination, prefix, band, billed, amount, deck_id, tariff_line)
      WHERE c.source_key = u.source_key`,
    [
      textArray(changes.map((c) => c.after.sourceKey)),
      textArray(changes.map((c) => c.after.outcome)),
      textArray(changes.map((c) => c.after.destination)),
      textArray(changes.map((c) => c.after.prefix)),
      textArray(changes.map((c) => c.after.band)),
      intArray(changes.map((c) => c.after.billed)),
      intArray(changes.map((c) => c.after.amount)),
      intArray(changes.map((c) => c.after.deckId)),
      intArray(changes.map((c) => c.after.tariffLine)),
    ],
  );
  const leaving = changes.filter((c) => c.before.outcome === "rejected" && c.after.outcome !== "rejected");
  if (leaving.length > 0) {
    await tx.query(
      `DELETE FROM rejects r USING unnest($1::int[], $2::bigint[]) AS u(file_id, line)
        WHERE r.file_id = u.file_id AND r.line = u.line AND r.reason = 'NO_RATE'`,
      [intArray(leaving.map((c) => c.before.fileId)), intArray(leaving.map((c) => c.before.line))],
    );
  }
  const entering = changes.filter((c) => c.before.outcome !== "rejected" && c.after.outcome === "rejected");
  if (entering.length > 0) {
    await tx.query(
      `INSERT INTO rejects (file_id, line, reason, field, message, raw, source_key)
       SELECT u.file_id, u.line, 'NO_RATE', 'b_number', u.message, '', u.source_key
         FROM unnest($1::int[], $2::bigint[], $3::text[], $4::text[]) AS u(file_id, line, message, source_key)`,
      [
        intArray(entering.map((c) => c.before.fileId)),
        intArray(entering.map((c) => c.before.line)),
        textArray(entering.map((c) => c.after.rejectMessage ?? "no rate")),
        textArray(entering.map((c) => c.before.sourceKey)),
      ],
    );
  }
  // Per file: how many moved between the three outcomes.
  const moves = new Map<number, { rated: number; unbilled: number; rejected: number }>();
  for (const { before, after } of changes) {
    if (before.outcome === after.outcome) continue;
    const m = moves.get(before.fileId) ?? { rated: 0, unbilled: 0, rejected: 0 };
    m[before.outcome] -= 1;
    m[after.outcome] += 1;
    moves.set(before.fileId, m);
  }
  if (moves.size > 0) {
    const ids = [...moves.keys()];
    await tx.query(
      `UPDATE ingest_files f SET rated = f.rated + u.rated, unbilled = f.unbilled + u.unbilled,
              rejected = f.rejected + u.rejected, updated_at = now()
         FROM unnest($1::int[], $2::int[], $3::int[], $4::int[]) AS u(id, rated, unbilled, rejected)
        WHERE f.id = u.id`,
      [
        intArray(ids),
        intArray(ids.map((id) => moves.get(id)!.rated)),
        intArray(ids.map((id) => moves.get(id)!.unbilled)),
        intArray(ids.map((id) => moves.get(id)!.rejected)),
      ],
    );
  }
}
