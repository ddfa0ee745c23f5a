/**
 * What the partner's node sent for the cooperative commit–reveal path, kept once checked: its signed
 * commitments (migration 13), which let this node send both commitments in one `commitBoth`.
 */
import type { Queryable } from "./database";

/** A commitment the partner's node signed as EIP-712 `Commitment` for `round`. */
export interface PartnerCommitment {
  agreementId: string;
  period: number;
  round: number;
  carrierId: string;
  commitment: string;
  /** The partner's node that signed it. */
  node: string;
  signature: string;
}

/** Keeps the partner's signed commitment of a round (replacing one kept before for that round). */
export async function savePartnerCommitment(db: Queryable, entry: PartnerCommitment): Promise<void> {
  await db.query(
    `INSERT INTO partner_commitments (agreement_id, period, round, carrier_id, commitment, node, signature)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (agreement_id, period, round) DO UPDATE SET
       carrier_id = EXCLUDED.carrier_id, commitment = EXCLUDED.commitment, node = EXCLUDED.node,
       signature = EXCLUDED.signature, received_at = now()`,
    [
      entry.agreementId.toLowerCase(),
      entry.period,
      entry.round,
      entry.carrierId.toLowerCase(),
      entry.commitment.toLowerCase(),
      entry.node.toLowerCase(),
      entry.signature.toLowerCase(),
    ],
  );
}

/** The partner's signed commitment of the round, or null when its node sent none (or none verified). */
export async function loadPartnerCommitment(
  db: Queryable,
  agreementId: string,
  period: number,
  round: number,
): Promise<PartnerCommitment | null> {
  const { rows } = await db.query<{
    carrier_id: string;
    commitment: string;
    node: string;
    signature: string;
  }>(
    `SELECT carrier_id, commitment, node, signature FROM partner_commitments
      WHERE agreement_id = $1 AND period = $2 AND round = $3`,
    [agreementId.toLowerCase(), period, round],
  );
  const row = rows[0];
  if (row === undefined) return null;
  return {
    agreementId: agreementId.toLowerCase(),
    period,
    round,
    carrierId: row.carrier_id,
    commitment: row.commitment,
    node: row.node,
    signature: row.signature,
  };
}
