import type { Queryable } from "./database";

export interface CdrStats {
  files: number;
  records: bigint;
  rated: bigint;
  unbilled: bigint;
  rejected: bigint;
  rejectedByReason: Record<string, bigint>;
  /** IMPLAUSIBLE rejects by plausibility rule. */
  implausibleByRule: Record<string, bigint>;
  /** CDRs stored with plausibility warnings, by rule (billed, flagged). */
  warningsByRule: Record<string, bigint>;
  /** CDRs stored after their period's summary was committed, by the period that counts them (null: held for a correction round). */
  late: { partner: string; period: number; billPeriod: number | null; records: bigint; amount: bigint }[];
  byPartner: {
    partner: string;
    direction: string;
    destination: string;
    records: bigint;
    billedSeconds: bigint;
    amount: bigint;
  }[];
}

/**
 * Counts by outcome and reject reason (from the per-file counters, which always add up), and rated
 * traffic by partner, direction and destination.
 */
export async function cdrStats(db: Queryable): Promise<CdrStats> {
  const totals = await db.query<{
    files: number;
    records: bigint;
    rated: bigint;
    unbilled: bigint;
    rejected: bigint;
  }>(
    `SELECT count(*)::int AS files, coalesce(sum(records), 0)::bigint AS records, coalesce(sum(rated), 0)::bigint AS rated,
            coalesce(sum(unbilled), 0)::bigint AS unbilled, coalesce(sum(rejected), 0)::bigint AS rejected
       FROM ingest_files`,
  );
  const reasons = await db.query<{ reason: string; n: bigint }>(
    "SELECT reason, count(*)::bigint AS n FROM rejects GROUP BY reason ORDER BY reason",
  );
  const traffic = await db.query<{
    partner_id: string;
    direction: string;
    destination: string;
    records: bigint;
    billed: bigint;
    amount: bigint;
  }>(
    `SELECT partner_id, direction, destination, count(*)::bigint AS records, sum(billed)::bigint AS billed,
            sum(amount_micro)::bigint AS amount
       FROM cdrs WHERE outcome = 'rated'
      GROUP BY partner_id, direction, destination ORDER BY partner_id, direction, destination`,
  );
  const rules = await db.query<{ rule: string; n: bigint }>(
    "SELECT rule, count(*)::bigint AS n FROM rejects WHERE reason = 'IMPLAUSIBLE' GROUP BY rule ORDER BY rule",
  );
  const warnings = await db.query<{ rule: string; n: bigint }>(
    `SELECT w AS rule, count(*)::bigint AS n FROM cdrs, unnest(warnings) AS w
      WHERE warnings IS NOT NULL GROUP BY w ORDER BY w`,
  );
  const late = await db.query<{
    partner_id: string;
    period: number;
    bill_period: number | null;
    records: bigint;
    amount: bigint;
  }>(
    `SELECT partner_id, to_char(start_time AT TIME ZONE 'UTC', 'YYYYMM')::int AS period, bill_period,
            count(*)::bigint AS records, coalesce(sum(amount_micro), 0)::bigint AS amount
       FROM cdrs WHERE late GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
  );
  const total = totals.rows[0]!;
  return {
    files: total.files,
    records: total.records,
    rated: total.rated,
    unbilled: total.unbilled,
    rejected: total.rejected,
    rejectedByReason: Object.fromEntries(reasons.rows.map((row) => [row.reason, row.n])),
    implausibleByRule: Object.fromEntries(rules.rows.map((row) => [row.rule ?? "", row.n])),
    warningsByRule: Object.fromEntries(warnings.rows.map((row) => [row.rule, row.n])),
    late: late.rows.map((row) => ({
      partner: row.partner_id,
      period: row.period,
      billPeriod: row.bill_period,
      records: row.records,
      amount: row.amount,
    })),
    byPartner: traffic.rows.map((row) => ({
      partner: row.partner_id,
      direction: row.direction,
      destination: row.destination,
      records: row.records,
      billedSeconds: row.billed,
      amount: row.amount,
    })),
  };
}

export interface DailyTraffic {
  /** Days since 1970-01-01 (UTC). */
  day: number;
  partner: string;
  direction: string;
  records: bigint;
  billedSeconds: bigint;
  amount: bigint;
}

/**
 * Rated traffic per UTC day, partner and direction from `fromDay` to `toDay` (inclusive, days since
 * 1970-01-01), in day order: what the console's traffic and amount charts draw.
 */
export async function dailyTraffic(db: Queryable, fromDay: number, toDay: number): Promise<DailyTraffic[]> {
  const { rows } = await db.query<{
    day: number;
    partner_id: string;
    direction: string;
    records: bigint;
    billed: bigint;
    amount: bigint;
  }>(
    `SELECT floor(extract(epoch FROM start_time) / 86400)::int AS day, partner_id, direction,
            count(*)::bigint AS records, sum(billed)::bigint AS billed, sum(amount_micro)::bigint AS amount
       FROM cdrs
      WHERE outcome = 'rated'
        AND start_time >= timestamptz 'epoch' + $1::int * interval '1 day'
        AND start_time <  timestamptz 'epoch' + ($2::int + 1) * interval '1 day'
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    [fromDay, toDay],
  );
  return rows.map((row) => ({
    day: row.day,
    partner: row.partner_id,
    direction: row.direction,
    records: row.records,
    billedSeconds: row.billed,
    amount: row.amount,
  }));
}

/** The UTC day (days since 1970-01-01) of the latest rated call, or null when none is stored. */
export async function latestTrafficDay(db: Queryable): Promise<number | null> {
  const { rows } = await db.query<{ day: number | null }>(
    "SELECT floor(extract(epoch FROM max(start_time)) / 86400)::int AS day FROM cdrs WHERE outcome = 'rated'",
  );
  return rows[0]?.day ?? null;
}

/** One ingest's rejects by reason. */
export async function listRejectCounts(db: Queryable, fileId: number): Promise<Record<string, bigint>> {
  const { rows } = await db.query<{ reason: string; n: bigint }>(
    "SELECT reason, count(*)::bigint AS n FROM rejects WHERE file_id = $1 GROUP BY reason ORDER BY reason",
    [fileId],
  );
  return Object.fromEntries(rows.map((row) => [row.reason, row.n]));
}
