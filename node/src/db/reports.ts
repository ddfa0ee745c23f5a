import type { Queryable } from "./database";

/**
 * A discrepancy report as stored: one per agreement, period and round. `report` and `stats` are
 * JSON with every integer (micro-units, seconds, records) as a decimal string.
 */
export interface StoredReport {
  agreementId: string;
  period: number;
  round: number;
  ourRoot: string;
  theirRoot: string;
  /** Differing leaves the report covers. */
  leafCount: number;
  report: unknown;
  stats: unknown;
  /** CID of the encrypted evidence bundle (report + this side's CDRs behind it), when stored. */
  evidenceCid: string | null;
  createdAt: Date;
}

/**
 * The JSON of a stored report (`StoredReport.report`) as compare.ts writes it: the discrepancy report
 * with integers as decimal strings, this node's CDR id per call key it names, and the leaves whose
 * calls do not add up to their figures.
 */
export interface ReportJson {
  leaves: {
    leaf: { direction: string; service: string; destination: string; day: number };
    ours: { records: string; billed: string; amount: string } | null;
    theirs: { records: string; billed: string; amount: string } | null;
    delta: { records: string; billed: string; amount: string };
    kinds: string[];
    missingOnTheirSide: string[];
    missingOnOurSide: string[];
    durationDifferences: { callKey: string; ours: string; theirs: string }[];
    rateDifferences: { callKey: string; ours: string; theirs: string }[];
    shift: { fromDay: number; toDay: number } | null;
  }[];
  differingTotals: { ours: { AB: string; BA: string }; theirs: { AB: string; BA: string } };
  counts: Record<string, number>;
  ourCdrs: Record<string, string>;
  inconsistentLeaves: { leaf: string; side: "ours" | "theirs" }[];
}

type Row = {
  agreement_id: string;
  period: number;
  round: number;
  our_root: string;
  their_root: string;
  leaf_count: number;
  report: string;
  stats: string;
  evidence_cid: string | null;
  created_at: Date;
};

/** JSON with bigints as decimal strings. */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === "bigint" ? item.toString() : item));
}

/** Stores a report; a report for the same agreement, period and round is replaced. */
export async function saveReport(db: Queryable, report: Omit<StoredReport, "createdAt">): Promise<void> {
  await db.query(
    `INSERT INTO discrepancy_reports (agreement_id, period, round, our_root, their_root, leaf_count, report, stats,
                                      evidence_cid)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (agreement_id, period, round) DO UPDATE
        SET our_root = EXCLUDED.our_root, their_root = EXCLUDED.their_root, leaf_count = EXCLUDED.leaf_count,
            report = EXCLUDED.report, stats = EXCLUDED.stats, evidence_cid = EXCLUDED.evidence_cid,
            created_at = now()`,
    [
      report.agreementId.toLowerCase(),
      report.period,
      report.round,
      report.ourRoot.toLowerCase(),
      report.theirRoot.toLowerCase(),
      report.leafCount,
      toJsonText(report.report),
      toJsonText(report.stats),
      report.evidenceCid,
    ],
  );
}

/**
 * Whether a report of the round is stored, without reading it (a month's report with every call of a
 * shifted clock named runs to tens of megabytes, and the runner asks on every pass).
 */
export async function hasReport(
  db: Queryable,
  agreementId: string,
  period: number,
  round: number,
): Promise<boolean> {
  const { rows } = await db.query(
    "SELECT 1 FROM discrepancy_reports WHERE agreement_id = $1 AND period = $2 AND round = $3",
    [agreementId.toLowerCase(), period, round],
  );
  return rows.length > 0;
}

/** The report of a round, or of the latest round when `round` is omitted; null when none. */
export async function loadReport(
  db: Queryable,
  agreementId: string,
  period: number,
  round?: number,
): Promise<StoredReport | null> {
  const { rows } = await db.query<Row>(
    `SELECT * FROM discrepancy_reports
      WHERE agreement_id = $1 AND period = $2 AND ($3::integer IS NULL OR round = $3)
      ORDER BY round DESC LIMIT 1`,
    [agreementId.toLowerCase(), period, round ?? null],
  );
  const row = rows[0];
  if (row === undefined) return null;
  return {
    agreementId: row.agreement_id,
    period: row.period,
    round: row.round,
    ourRoot: row.our_root,
    theirRoot: row.their_root,
    leafCount: row.leaf_count,
    report: JSON.parse(row.report) as unknown,
    stats: JSON.parse(row.stats) as unknown,
    evidenceCid: row.evidence_cid,
    createdAt: new Date(row.created_at),
  };
}
