import type { Direction, Service } from "../mediation/types";
import type { Queryable } from "./database";
import { periodOf } from "./ingest-store";
import { textArray } from "./pg-array";

export interface StoredCall {
  sourceKey: string;
  aNumber: string;
  bNumber: string;
  startMs: number;
  billed: bigint;
  amount: bigint;
}

/** A leaf of a partner's summary, in this node's terms (`day` = days since 1970-01-01, UTC). */
export interface CallLeaf {
  direction: Direction;
  service: Service | string;
  destination: string;
  day: number;
}

/**
 * The rated CDRs behind one leaf of `period`'s summary: one partner, node-relative direction,
 * service and destination, on one UTC day, as the summary counts them (see `callsOfLeaves`).
 */
export async function callsOfLeaf(
  db: Queryable,
  leaf: CallLeaf & {
    partner: string;
    /** YYYYMM of the summary. */
    period: number;
  },
): Promise<StoredCall[]> {
  const [calls] = await callsOfLeaves(db, leaf.partner, leaf.period, [leaf]);
  return calls!;
}

/**
 * The rated CDRs behind each of `leaves` of `period`'s summary with `partner`, in the order of
 * `leaves`: those of the leaf's partner, node-relative direction, service and destination that
 * started on its UTC day, as the summary counts them — not late when the day is in the period, and
 * the late CDRs the late policy counts in `period` (see aggregateUsage). Each leaf's calls are
 * ordered by start, then key. One query per day asked for (a comparison asks for most leaves of a
 * month, and a query per leaf cost more than the rows it read).
 */
export async function callsOfLeaves(
  db: Queryable,
  partner: string,
  period: number,
  leaves: readonly CallLeaf[],
): Promise<StoredCall[][]> {
  const result: StoredCall[][] = leaves.map(() => []);
  const byDay = new Map<number, Map<string, number[]>>();
  leaves.forEach((leaf, index) => {
    let wanted = byDay.get(leaf.day);
    if (!wanted) byDay.set(leaf.day, (wanted = new Map()));
    const id = `${leaf.direction}|${leaf.service}|${leaf.destination}`;
    const indexes = wanted.get(id);
    if (indexes) indexes.push(index);
    else wanted.set(id, [index]);
  });
  for (const [day, wanted] of byDay) {
    const dayStartMs = day * 86_400_000;
    const destinations = [...new Set(leaves.filter((l) => l.day === day).map((l) => l.destination))];
    const { rows } = await db.query<{
      direction: string;
      service: string;
      destination: string;
      source_key: string;
      a_number: string;
      b_number: string;
      start_ms: bigint;
      billed: bigint;
      amount_micro: bigint;
    }>(
      `SELECT direction, service, destination, source_key, a_number, b_number,
              (extract(epoch FROM start_time) * 1000)::bigint AS start_ms, billed, amount_micro
         FROM cdrs
        WHERE partner_id = $1 AND destination = ANY($2::text[]) AND outcome = 'rated'
          AND start_time >= timestamptz 'epoch' + $3::bigint * interval '1 millisecond'
          AND start_time <  timestamptz 'epoch' + $4::bigint * interval '1 millisecond'
          AND ((NOT late AND $5::boolean) OR (late AND bill_period = $6))
        ORDER BY start_time, source_key`,
      [
        partner,
        textArray(destinations),
        dayStartMs,
        dayStartMs + 86_400_000,
        periodOf(dayStartMs) === period,
        period,
      ],
    );
    for (const row of rows) {
      const indexes = wanted.get(`${row.direction}|${row.service}|${row.destination}`);
      if (!indexes) continue;
      const call: StoredCall = {
        sourceKey: row.source_key,
        aNumber: row.a_number,
        bNumber: row.b_number,
        startMs: Number(row.start_ms),
        billed: row.billed,
        amount: row.amount_micro,
      };
      for (const index of indexes) result[index]!.push(call);
    }
  }
  return result;
}
