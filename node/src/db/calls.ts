import type { Direction, Service } from "../mediation/types";
import type { Queryable } from "./database";
import { periodOf } from "./ingest-store";

export interface StoredCall {
  sourceKey: string;
  aNumber: string;
  bNumber: string;
  startMs: number;
  billed: bigint;
  amount: bigint;
}

/**
 * The rated CDRs behind one leaf of `period`'s summary: one partner, node-relative direction,
 * service and destination, on one UTC day (`day` = days since 1970-01-01), as the summary counts
 * them: not late when the day is in the period, and the late CDRs the late policy counts in
 * `period` (see aggregateUsage). Ordered by start, then key.
 */
export async function callsOfLeaf(
  db: Queryable,
  leaf: {
    partner: string;
    direction: Direction;
    service: Service | string;
    destination: string;
    day: number;
    /** YYYYMM of the summary. */
    period: number;
  },
): Promise<StoredCall[]> {
  const dayStartMs = leaf.day * 86_400_000;
  const { rows } = await db.query<{
    source_key: string;
    a_number: string;
    b_number: string;
    start_ms: bigint;
    billed: bigint;
    amount_micro: bigint;
  }>(
    `SELECT source_key, a_number, b_number, (extract(epoch FROM start_time) * 1000)::bigint AS start_ms,
            billed, amount_micro
       FROM cdrs
      WHERE partner_id = $1 AND direction = $2 AND service = $3 AND destination = $4 AND outcome = 'rated'
        AND start_time >= timestamptz 'epoch' + $5::bigint * interval '1 millisecond'
        AND start_time <  timestamptz 'epoch' + $6::bigint * interval '1 millisecond'
        AND ((NOT late AND $7::boolean) OR (late AND bill_period = $8))
      ORDER BY start_time, source_key`,
    [
      leaf.partner,
      leaf.direction,
      leaf.service,
      leaf.destination,
      dayStartMs,
      dayStartMs + 86_400_000,
      periodOf(dayStartMs) === leaf.period,
      leaf.period,
    ],
  );
  return rows.map((row) => ({
    sourceKey: row.source_key,
    aNumber: row.a_number,
    bNumber: row.b_number,
    startMs: Number(row.start_ms),
    billed: row.billed,
    amount: row.amount_micro,
  }));
}
