import { ConflictError } from "../errors";
import type { LeafDirection, LeafService, UsageLeaf } from "../summaries/encoding";
import type { Database, Queryable } from "./database";
import { intArray, textArray } from "./pg-array";

/** A built usage summary as stored: the figures that go on chain, its leaves, never the salt. */
export interface StoredSummary {
  agreementId: string;
  period: number;
  partnerId: string;
  side: "A" | "B";
  /** Merkle root, `0x` + 64 hex digits. */
  root: string;
  leafCount: number;
  /** Rated CDRs counted. */
  records: bigint;
  /** Micro-units A owes B (sum of the AB leaves) and B owes A. */
  amountAB: bigint;
  amountBA: bigint;
  /** Version of the leaf encoding and tree (docs/PROTOCOL.md). */
  encoding: number;
  builtAt: Date;
  /** When the chain client sent the commitment; a committed summary is never rebuilt. */
  committedAt: Date | null;
  leaves: UsageLeaf[];
}

type SummaryRow = {
  agreement_id: string;
  period: number;
  partner_id: string;
  side: "A" | "B";
  root: string;
  leaf_count: number;
  records: bigint;
  amount_ab: bigint;
  amount_ba: bigint;
  encoding: number;
  built_at: Date;
  committed_at: Date | null;
};

type LeafRow = {
  direction: LeafDirection;
  service: LeafService;
  destination: string;
  day: number;
  records: bigint;
  billed: bigint;
  amount: bigint;
};

/**
 * Aggregates this node's rated CDRs with `partnerId` in the period into one row per (direction,
 * service, destination, UTC day), in the database (one GROUP BY over the partner/time index,
 * whatever the number of CDRs): the CDRs that started in [startMs, endMs) and are not late, and
 * the late CDRs of earlier periods the late policy counts in this one (`bill_period`; their day is
 * the day they started). `abDirection` is the CDR direction that is A→B traffic: `out` for party
 * A, `in` for party B. Unbilled and rejected CDRs do not count; a rated CDR without a destination
 * counts under the empty name.
 */
export async function aggregateUsage(
  db: Queryable,
  query: { partnerId: string; startMs: number; endMs: number; abDirection: "in" | "out"; period: number },
): Promise<UsageLeaf[]> {
  const { rows } = await db.query<LeafRow>(
    `SELECT CASE WHEN direction = $2 THEN 'AB' ELSE 'BA' END AS direction,
            service,
            COALESCE(destination, '') AS destination,
            (start_time AT TIME ZONE 'UTC')::date - DATE '1970-01-01' AS day,
            count(*) AS records,
            sum(billed)::bigint AS billed,
            sum(amount_micro)::bigint AS amount
       FROM (SELECT direction, service, destination, start_time, billed, amount_micro FROM cdrs
              WHERE partner_id = $1 AND outcome = 'rated' AND start_time >= $3 AND start_time < $4 AND NOT late
             UNION ALL
             SELECT direction, service, destination, start_time, billed, amount_micro FROM cdrs
              WHERE partner_id = $1 AND outcome = 'rated' AND late AND bill_period = $5) AS counted
      GROUP BY 1, 2, 3, 4`,
    [
      query.partnerId,
      query.abDirection,
      new Date(query.startMs).toISOString(),
      new Date(query.endMs).toISOString(),
      query.period,
    ],
  );
  return rows.map((row) => ({
    direction: row.direction,
    service: row.service,
    destination: row.destination,
    day: Number(row.day),
    records: BigInt(row.records),
    billed: BigInt(row.billed),
    amount: BigInt(row.amount),
  }));
}

/**
 * Stores a summary, replacing the stored one of the same agreement and period unless that one was
 * committed. Atomic: a concurrent build or commit waits on the summary's row.
 * @throws ConflictError when the stored summary was committed.
 */
export async function saveSummary(
  db: Database,
  summary: Omit<StoredSummary, "builtAt" | "committedAt">,
): Promise<void> {
  await db.transaction((tx) => saveSummaryIn(tx, summary));
}

/** {@link saveSummary} inside an open transaction. @throws ConflictError when the stored summary was committed. */
export async function saveSummaryIn(
  tx: Queryable,
  summary: Omit<StoredSummary, "builtAt" | "committedAt">,
): Promise<void> {
  const { rowCount } = await tx.query(
    `INSERT INTO summaries (agreement_id, period, partner_id, side, root, leaf_count, records, amount_ab,
                              amount_ba, encoding)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (agreement_id, period) DO UPDATE
          SET partner_id = EXCLUDED.partner_id, side = EXCLUDED.side, root = EXCLUDED.root,
              leaf_count = EXCLUDED.leaf_count, records = EXCLUDED.records, amount_ab = EXCLUDED.amount_ab,
              amount_ba = EXCLUDED.amount_ba, encoding = EXCLUDED.encoding, built_at = now()
        WHERE summaries.committed_at IS NULL`,
    [
      summary.agreementId,
      summary.period,
      summary.partnerId,
      summary.side,
      summary.root,
      summary.leafCount,
      summary.records,
      summary.amountAB,
      summary.amountBA,
      summary.encoding,
    ],
  );
  if (rowCount === 0) {
    const stored = await loadSummary(tx, summary.agreementId, summary.period, { leaves: false });
    throw committedError(summary.agreementId, summary.period, stored?.committedAt ?? null);
  }
  await tx.query("DELETE FROM summary_leaves WHERE agreement_id = $1 AND period = $2", [
    summary.agreementId,
    summary.period,
  ]);
  if (summary.leaves.length === 0) return;
  const leaves = summary.leaves;
  await tx.query(
    `INSERT INTO summary_leaves (agreement_id, period, direction, service, destination, day, records, billed,
                                   amount_micro)
       SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[], $6::integer[], $7::bigint[],
                                    $8::bigint[], $9::bigint[])`,
    [
      summary.agreementId,
      summary.period,
      textArray(leaves.map((leaf) => leaf.direction)),
      textArray(leaves.map((leaf) => leaf.service)),
      textArray(leaves.map((leaf) => leaf.destination)),
      intArray(leaves.map((leaf) => leaf.day)),
      intArray(leaves.map((leaf) => leaf.records)),
      intArray(leaves.map((leaf) => leaf.billed)),
      intArray(leaves.map((leaf) => leaf.amount)),
    ],
  );
}

/** The error for a rebuild of a committed summary. */
export function committedError(agreementId: string, period: number, committedAt: Date | null): ConflictError {
  return new ConflictError(
    `the summary of agreement ${agreementId} for period ${period} was committed; it cannot be rebuilt`,
    committedAt === null ? undefined : `committed at ${committedAt.toISOString()}`,
  );
}

/**
 * The stored summary of an agreement (bytes32 hex, any case) and period, with its leaves unless
 * `leaves: false`; null when none was built.
 */
export async function loadSummary(
  db: Queryable,
  agreementId: string,
  period: number,
  options: { leaves?: boolean } = {},
): Promise<StoredSummary | null> {
  const { rows } = await db.query<SummaryRow>(
    "SELECT * FROM summaries WHERE agreement_id = $1 AND period = $2",
    [agreementId.toLowerCase(), period],
  );
  const row = rows[0];
  if (row === undefined) return null;
  let leaves: UsageLeaf[] = [];
  if (options.leaves !== false) {
    const result = await db.query<LeafRow>(
      `SELECT direction, service, destination, day, records, billed, amount_micro AS amount
         FROM summary_leaves WHERE agreement_id = $1 AND period = $2
        ORDER BY direction, service, destination COLLATE "C", day`,
      [agreementId.toLowerCase(), period],
    );
    leaves = result.rows.map((leaf) => ({ ...leaf, day: Number(leaf.day) }));
  }
  return {
    agreementId: row.agreement_id,
    period: row.period,
    partnerId: row.partner_id,
    side: row.side,
    root: row.root,
    leafCount: row.leaf_count,
    records: row.records,
    amountAB: row.amount_ab,
    amountBA: row.amount_ba,
    encoding: row.encoding,
    builtAt: new Date(row.built_at),
    committedAt: row.committed_at === null ? null : new Date(row.committed_at),
    leaves,
  };
}

/**
 * Marks a summary committed (the chain client calls this when it sends the commitment); the first
 * time counts. Returns false when no such summary is stored.
 */
export async function markSummaryCommitted(
  db: Queryable,
  agreementId: string,
  period: number,
  at: Date = new Date(),
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE summaries SET committed_at = COALESCE(committed_at, $3)
      WHERE agreement_id = $1 AND period = $2`,
    [agreementId.toLowerCase(), period, at.toISOString()],
  );
  return rowCount > 0;
}

/** The committed summaries, newest period first: what the running node follows on the ledger. */
export async function listCommittedSummaries(
  db: Queryable,
): Promise<{ agreementId: string; period: number; root: string }[]> {
  const { rows } = await db.query<{ agreement_id: string; period: number; root: string }>(
    `SELECT agreement_id, period, root FROM summaries WHERE committed_at IS NOT NULL
      ORDER BY period DESC, agreement_id`,
  );
  return rows.map((row) => ({ agreementId: row.agreement_id, period: row.period, root: row.root }));
}

/** One direction's totals of a closed summary: what the dashboard shows per partner. */
export interface DirectionTotals {
  agreementId: string;
  period: number;
  partnerId: string;
  side: "A" | "B";
  direction: LeafDirection;
  records: bigint;
  billedSeconds: bigint;
  amount: bigint;
}

/**
 * The latest period with a closed (frozen) summary and, for each agreement closed for it, its totals
 * per direction summed over the leaves; `period` null when nothing was closed yet. A direction without
 * traffic has no row.
 */
export async function lastClosedTotals(
  db: Queryable,
): Promise<{ period: number | null; totals: DirectionTotals[] }> {
  const latest = await db.query<{ period: number | null }>(
    "SELECT max(period) AS period FROM summaries WHERE committed_at IS NOT NULL",
  );
  const period = latest.rows[0]?.period ?? null;
  if (period === null) return { period: null, totals: [] };
  const { rows } = await db.query<{
    agreement_id: string;
    partner_id: string;
    side: "A" | "B";
    direction: LeafDirection;
    records: bigint | string;
    billed: bigint | string;
    amount: bigint | string;
  }>(
    `SELECT s.agreement_id, s.partner_id, s.side, l.direction,
            sum(l.records)::bigint AS records, sum(l.billed)::bigint AS billed,
            sum(l.amount_micro)::bigint AS amount
       FROM summaries s JOIN summary_leaves l USING (agreement_id, period)
      WHERE s.period = $1 AND s.committed_at IS NOT NULL
      GROUP BY s.agreement_id, s.partner_id, s.side, l.direction
      ORDER BY s.partner_id, s.agreement_id, l.direction`,
    [period],
  );
  return {
    period,
    totals: rows.map((row) => ({
      agreementId: row.agreement_id,
      period,
      partnerId: row.partner_id,
      side: row.side,
      direction: row.direction,
      records: BigInt(row.records),
      billedSeconds: BigInt(row.billed),
      amount: BigInt(row.amount),
    })),
  };
}
