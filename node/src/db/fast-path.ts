/**
 * The fast path's rows (migration 11): the `Settlement` signatures this node holds per agreement-period
 * and carrier, and the attempt's outcome (declined by the partner, or submitted).
 */
import type { SettlementData } from "../protocol";
import type { Queryable } from "./database";

export interface StoredSettlementSignature {
  carrierId: string;
  officer: string;
  settlement: SettlementData;
  signature: string;
}

interface SignatureRow {
  carrier_id: string;
  officer: string;
  root: string;
  amount_ab: string;
  amount_ba: string;
  deadline: string | number | bigint;
  signature: string;
}

/** Keeps one officer's signature (replacing that officer's earlier one for the period). */
export async function saveSettlementSignature(
  db: Queryable,
  entry: StoredSettlementSignature,
): Promise<void> {
  const s = entry.settlement;
  await db.query(
    `INSERT INTO fast_path_signatures (agreement_id, period, carrier_id, officer, root, amount_ab, amount_ba,
       deadline, signature)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (agreement_id, period, carrier_id, officer) DO UPDATE SET
       root = EXCLUDED.root, amount_ab = EXCLUDED.amount_ab, amount_ba = EXCLUDED.amount_ba,
       deadline = EXCLUDED.deadline, signature = EXCLUDED.signature, received_at = now()`,
    [
      s.agreementId.toLowerCase(),
      s.period,
      entry.carrierId.toLowerCase(),
      entry.officer.toLowerCase(),
      s.root.toLowerCase(),
      s.amountAB.toString(),
      s.amountBA.toString(),
      s.deadline.toString(),
      entry.signature.toLowerCase(),
    ],
  );
}

/** The signatures held for the period from `carrierId`'s officers, oldest first. */
export async function listSettlementSignatures(
  db: Queryable,
  agreementId: string,
  period: number,
  carrierId: string,
): Promise<StoredSettlementSignature[]> {
  const { rows } = await db.query<SignatureRow>(
    `SELECT carrier_id, officer, root, amount_ab, amount_ba, deadline, signature
       FROM fast_path_signatures
      WHERE agreement_id = $1 AND period = $2 AND carrier_id = $3
      ORDER BY received_at, officer`,
    [agreementId.toLowerCase(), period, carrierId.toLowerCase()],
  );
  return rows.map((row) => ({
    carrierId: row.carrier_id,
    officer: row.officer,
    signature: row.signature,
    settlement: {
      agreementId: agreementId.toLowerCase(),
      period,
      root: row.root,
      amountAB: BigInt(row.amount_ab),
      amountBA: BigInt(row.amount_ba),
      deadline: BigInt(row.deadline),
    },
  }));
}

export interface FastPathAttempt {
  /** Why the fast path was given up (the partner's answer), or null. */
  declined: string | null;
  /** The settleFastPath transaction this node sent, or null. */
  submittedTx: string | null;
}

/** The attempt's outcome so far (both null when nothing was decided). */
export async function loadFastPathAttempt(
  db: Queryable,
  agreementId: string,
  period: number,
): Promise<FastPathAttempt> {
  const { rows } = await db.query<{ declined: string | null; submitted_tx: string | null }>(
    "SELECT declined, submitted_tx FROM fast_path_attempts WHERE agreement_id = $1 AND period = $2",
    [agreementId.toLowerCase(), period],
  );
  const row = rows[0];
  return { declined: row?.declined ?? null, submittedTx: row?.submitted_tx ?? null };
}

/** Records that the fast path was given up for the period, and why (the first reason is kept). */
export async function declineFastPath(
  db: Queryable,
  agreementId: string,
  period: number,
  reason: string,
): Promise<void> {
  await db.query(
    `INSERT INTO fast_path_attempts (agreement_id, period, declined) VALUES ($1, $2, $3)
     ON CONFLICT (agreement_id, period) DO UPDATE SET
       declined = COALESCE(fast_path_attempts.declined, EXCLUDED.declined), updated_at = now()`,
    [agreementId.toLowerCase(), period, reason],
  );
}

/** Records the settleFastPath transaction this node sent for the period. */
export async function recordFastPathSubmission(
  db: Queryable,
  agreementId: string,
  period: number,
  txHash: string,
): Promise<void> {
  await db.query(
    `INSERT INTO fast_path_attempts (agreement_id, period, submitted_tx) VALUES ($1, $2, $3)
     ON CONFLICT (agreement_id, period) DO UPDATE SET submitted_tx = EXCLUDED.submitted_tx, updated_at = now()`,
    [agreementId.toLowerCase(), period, txHash],
  );
}
