import type { Direction, Service } from "../mediation/types";
import type { Queryable } from "./database";
import { periodOf } from "./ingest-store";
import { textArray } from "./pg-array";

/**
 * A rated call behind a leaf as the peer protocol's `calls` answer needs it: its figures and the call
 * key stored at ingest; the call's numbers and start only when no usable key is stored (null otherwise).
 */
export interface StoredCallFigures {
  billed: bigint;
  amount: bigint;
  /** The call key stored at ingest (0x hex) when it is the one `period`'s comparison needs, else null. */
  callKey: string | null;
  aNumber: string | null;
  bNumber: string | null;
  startMs: number | null;
}

/** A rated call behind a leaf with this node's CDR id, numbers and start. */
export interface StoredCall extends StoredCallFigures {
  sourceKey: string;
  aNumber: string;
  bNumber: string;
  startMs: number;
}

/** A leaf of a partner's summary, in this node's terms (`day` = days since 1970-01-01, UTC). */
export interface CallLeaf {
  direction: Direction;
  service: Service | string;
  destination: string;
  day: number;
}

/** Whose calls: the partner, and the agreement whose comparison asks (for the stored keys). */
export interface CallsOf {
  partner: string;
  agreementId: string;
}

/**
 * The rated CDRs behind one leaf of `period`'s summary: one partner, node-relative direction,
 * service and destination, on one UTC day, as the summary counts them (see `callsOfLeaves`).
 */
export async function callsOfLeaf(
  db: Queryable,
  leaf: CallLeaf & CallsOf & { /** YYYYMM of the summary. */ period: number },
): Promise<StoredCall[]> {
  const [calls] = await callsOfLeaves(db, leaf, leaf.period, [leaf]);
  return calls!;
}

/**
 * The rated CDRs behind each of `leaves` of `period`'s summary with `of.partner`, in the order of
 * `leaves`: those of the leaf's partner, node-relative direction, service and destination that
 * started on its UTC day, as the summary counts them — not late when the day is in the period, and
 * the late CDRs the late policy counts in `period` (see aggregateUsage). Each leaf's calls are
 * ordered by start, then key. One query per day asked for (a comparison asks for most leaves of a
 * month, and a query per leaf cost more than the rows it read). A call key stored at ingest comes
 * with a call when it was computed under this agreement's salt of `period`: when the partner has
 * this agreement only (as at ingest, reconciliation/call-key.ts `callKeyer`) and the CDR was keyed
 * for `period`.
 */
export async function callsOfLeaves(
  db: Queryable,
  of: CallsOf,
  period: number,
  leaves: readonly CallLeaf[],
): Promise<StoredCall[][]> {
  return (await queryLeaves(db, of, period, leaves, true)) as StoredCall[][];
}

/**
 * As `callsOfLeaves`, without the CDR ids, and without the numbers and start of a call whose key is
 * stored: what answering the partner needs, read with as few values as the database can hand over.
 */
export async function callFiguresOfLeaves(
  db: Queryable,
  of: CallsOf,
  period: number,
  leaves: readonly CallLeaf[],
): Promise<StoredCallFigures[][]> {
  return queryLeaves(db, of, period, leaves, false);
}

async function queryLeaves(
  db: Queryable,
  of: CallsOf,
  period: number,
  leaves: readonly CallLeaf[],
  details: boolean,
): Promise<StoredCallFigures[][]> {
  const result: StoredCallFigures[][] = leaves.map(() => []);
  if (leaves.length === 0) return result;
  const { rows: agreements } = await db.query<{ agreement_id: string }>(
    "SELECT agreement_id FROM agreements WHERE partner_id = $1",
    [of.partner],
  );
  const keyPeriod =
    agreements.length === 1 && agreements[0]!.agreement_id === of.agreementId.toLowerCase() ? period : null;
  const byDay = new Map<number, number[]>();
  leaves.forEach((leaf, index) => {
    const indexes = byDay.get(leaf.day);
    if (indexes) indexes.push(index);
    else byDay.set(leaf.day, [index]);
  });
  // One row per leaf, its calls in one text value: PGlite hands over a row several times slower than
  // the values in it (a month's 500 000 calls took 10 s as rows, 2 as 15 000 texts). Each call is
  // `key billed amount start aNumber bNumber`, calls joined by commas, `-` for a value left out: the
  // key when none is stored for this agreement-period; unless details are asked for, the start and
  // numbers when the key is stored. Numbers are E.164 digit strings (a `?` stands for anything else,
  // which call keys refuse). The CDR ids, free text, come as an array in the same order.
  const unlessKeyed = (value: string) =>
    details ? value : `CASE WHEN key.call_key IS NULL THEN ${value} ELSE '-' END`;
  const digits = (column: string) => `CASE WHEN c.${column} ~ '^[0-9]*$' THEN c.${column} ELSE '?' END`;
  for (const [day, indexes] of byDay) {
    const dayStartMs = day * 86_400_000;
    const wanted = new Map<string, number[]>();
    for (const i of indexes) {
      const leaf = leaves[i]!;
      const id = `${leaf.direction}|${leaf.service}|${leaf.destination}`;
      const same = wanted.get(id);
      if (same) same.push(i);
      else wanted.set(id, [i]);
    }
    // Grouped by the leaf's columns, the asked-for combinations a hashed semi-join: a join with the
    // list of leaves tested every CDR of the day against every leaf.
    const { rows } = await db.query<{
      direction: string;
      service: string;
      destination: string;
      calls: string;
      sources?: string[];
    }>(
      `SELECT c.direction, c.service, c.destination,
              string_agg(COALESCE(key.call_key, '-') || ' ' || c.billed || ' ' || c.amount_micro || ' ' ||
                         ${unlessKeyed("((extract(epoch FROM c.start_time) * 1000)::bigint)::text")} || ' ' ||
                         ${unlessKeyed(digits("a_number"))} || ' ' || ${unlessKeyed(digits("b_number"))},
                         ',' ORDER BY c.start_time, c.source_key) AS calls
              ${details ? ", array_agg(c.source_key ORDER BY c.start_time, c.source_key) AS sources" : ""}
         FROM cdrs c
         CROSS JOIN LATERAL (SELECT CASE WHEN c.call_key_period = $9 THEN encode(c.call_key, 'hex') END
                               AS call_key) AS key
        WHERE c.partner_id = $1 AND c.destination = ANY($4::text[]) AND c.outcome = 'rated'
          AND c.start_time >= timestamptz 'epoch' + $5::bigint * interval '1 millisecond'
          AND c.start_time <  timestamptz 'epoch' + $6::bigint * interval '1 millisecond'
          AND ((NOT c.late AND $7::boolean) OR (c.late AND c.bill_period = $8))
          AND (c.direction, c.service, c.destination) IN
              (SELECT * FROM unnest($2::text[], $3::text[], $4::text[]))
        GROUP BY c.direction, c.service, c.destination`,
      [
        of.partner,
        textArray(indexes.map((i) => leaves[i]!.direction)),
        textArray(indexes.map((i) => leaves[i]!.service)),
        textArray(indexes.map((i) => leaves[i]!.destination)),
        dayStartMs,
        dayStartMs + 86_400_000,
        periodOf(dayStartMs) === period,
        period,
        keyPeriod,
      ],
    );
    for (const row of rows) {
      const targets = wanted.get(`${row.direction}|${row.service}|${row.destination}`) ?? [];
      const records = row.calls.split(",");
      for (const [i, record] of records.entries()) {
        const [key, billed, amount, start, a, b] = record.split(" ") as [string, ...string[]];
        const call: StoredCallFigures = {
          billed: BigInt(billed!),
          amount: BigInt(amount!),
          callKey: key === "-" ? null : "0x" + key,
          aNumber: a === "-" ? null : a!,
          bNumber: b === "-" ? null : b!,
          startMs: start === "-" ? null : Number(start),
        };
        if (details) (call as StoredCall).sourceKey = row.sources![i]!;
        for (const target of targets) result[target]!.push(call);
      }
    }
  }
  return result;
}
