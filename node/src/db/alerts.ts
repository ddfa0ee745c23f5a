/**
 * SQL of the deadline watch: its alerts (warnings of windows about to close, default actions taken,
 * errors that stop a default action) and the agreement-periods it looks at. An alert is recorded once
 * per (agreement, period, round, kind, deadline), so a watch that sees the same thing on every poll
 * stores and logs it once.
 */
import type { Queryable } from "./database";

export type AlertLevel = "warning" | "action" | "error";
export const ALERT_LEVELS: readonly AlertLevel[] = ["warning", "action", "error"];

export interface AlertInput {
  agreementId: string;
  period: number;
  round: number;
  level: AlertLevel;
  /** What the alert is about, e.g. `reveal-window`, `settled` (node/src/settlement/deadline-watch.ts lists them). */
  kind: string;
  /** The ledger deadline it is about (unix seconds), or null when the step has none (approval, settlement). */
  deadline: number | null;
  message: string;
  /** The transaction of an action the node took. */
  txHash?: string | null;
}

export interface StoredAlert {
  id: number;
  agreementId: string;
  /** The local name of the agreement (null if the agreement was never recorded on this node). */
  agreementName: string | null;
  period: number;
  round: number;
  level: AlertLevel;
  kind: string;
  deadline: number | null;
  message: string;
  txHash: string | null;
  createdAt: Date;
}

type Row = {
  id: number;
  agreement_id: string;
  name: string | null;
  period: number;
  round: number;
  level: AlertLevel;
  kind: string;
  deadline: bigint | string | null;
  message: string;
  tx_hash: string | null;
  created_at: Date | string;
};

function toAlert(row: Row): StoredAlert {
  return {
    id: row.id,
    agreementId: row.agreement_id,
    agreementName: row.name,
    period: row.period,
    round: row.round,
    level: row.level,
    kind: row.kind,
    deadline: row.deadline === null ? null : Number(row.deadline),
    message: row.message,
    txHash: row.tx_hash,
    createdAt: new Date(row.created_at),
  };
}

/**
 * Records `alert` unless the same (agreement, period, round, kind, deadline) is already recorded, and
 * returns its id, or null when it was already there. A null deadline counts as one value (the
 * table's UNIQUE constraint treats NULLs as distinct, hence the NOT EXISTS).
 */
export async function recordAlert(db: Queryable, alert: AlertInput): Promise<number | null> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO alerts (agreement_id, period, round, level, kind, deadline, message, tx_hash)
     SELECT $1::text, $2::integer, $3::integer, $4::text, $5::text, $6::bigint, $7::text, $8::text
      WHERE NOT EXISTS (
        SELECT 1 FROM alerts
         WHERE agreement_id = $1::text AND period = $2::integer AND round = $3::integer AND kind = $5::text
           AND deadline IS NOT DISTINCT FROM $6::bigint)
     ON CONFLICT (agreement_id, period, round, kind, deadline) DO NOTHING
     RETURNING id`,
    [
      alert.agreementId.toLowerCase(),
      alert.period,
      alert.round,
      alert.level,
      alert.kind,
      alert.deadline === null ? null : String(alert.deadline),
      alert.message,
      alert.txHash ?? null,
    ],
  );
  return rows[0]?.id ?? null;
}

/**
 * Stored alerts, oldest first: created at or after `since`, of one agreement (name or id), of one level.
 */
export async function listAlerts(
  db: Queryable,
  filter: { since?: Date; agreementId?: string; level?: AlertLevel } = {},
): Promise<StoredAlert[]> {
  const { rows } = await db.query<Row>(
    `SELECT al.id, al.agreement_id, ag.name, al.period, al.round, al.level, al.kind, al.deadline, al.message,
            al.tx_hash, al.created_at
       FROM alerts al LEFT JOIN agreements ag ON ag.agreement_id = al.agreement_id
      WHERE ($1::timestamptz IS NULL OR al.created_at >= $1::timestamptz)
        AND ($2::text IS NULL OR al.agreement_id = lower($2::text) OR ag.name = $2::text)
        AND ($3::text IS NULL OR al.level = $3::text)
      ORDER BY al.created_at, al.id`,
    [filter.since?.toISOString() ?? null, filter.agreementId ?? null, filter.level ?? null],
  );
  return rows.map(toAlert);
}

/**
 * The agreement-periods of this node's agreements that it built a summary for or that the indexed
 * ledger events of `chainId` name (commitments, reveals, disputes, approvals…), ordered.
 */
export async function listWatchedPeriods(
  db: Queryable,
  chainId: bigint,
): Promise<{ agreementId: string; period: number }[]> {
  const { rows } = await db.query<{ agreement_id: string; period: number }>(
    `SELECT w.agreement_id, w.period
       FROM (SELECT agreement_id, period FROM summaries
             UNION
             SELECT agreement_id, period FROM chain_events
              WHERE chain_id = $1 AND contract = 'SettlementLedger'
                AND agreement_id IS NOT NULL AND period IS NOT NULL) w
       JOIN agreements a ON a.agreement_id = w.agreement_id
      ORDER BY w.agreement_id, w.period`,
    [chainId.toString()],
  );
  return rows.map((row) => ({ agreementId: row.agreement_id, period: Number(row.period) }));
}
