/**
 * What the partner's node sent for the cooperative commit–reveal path, kept once checked: its signed
 * commitments (migration 13), which let this node send both commitments in one `commitBoth`, and its
 * openings (migration 14), which let it reveal both in one `revealBoth`.
 */
import type { ContestClaim } from "../protocol";
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

/** The partner's opening of its commitment of `round`: its root, totals and the round's salt. */
export interface PartnerOpening extends ContestClaim {
  agreementId: string;
  period: number;
  round: number;
  carrierId: string;
}

/** Keeps the partner's opening of a round (replacing one kept before for that round). */
export async function savePartnerOpening(db: Queryable, entry: PartnerOpening): Promise<void> {
  await db.query(
    `INSERT INTO partner_openings (agreement_id, period, round, carrier_id, root, amount_ab, amount_ba, salt)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (agreement_id, period, round) DO UPDATE SET
       carrier_id = EXCLUDED.carrier_id, root = EXCLUDED.root, amount_ab = EXCLUDED.amount_ab,
       amount_ba = EXCLUDED.amount_ba, salt = EXCLUDED.salt, received_at = now()`,
    [
      entry.agreementId.toLowerCase(),
      entry.period,
      entry.round,
      entry.carrierId.toLowerCase(),
      entry.root.toLowerCase(),
      entry.amountAB.toString(),
      entry.amountBA.toString(),
      entry.salt.toLowerCase(),
    ],
  );
}

/** The partner's opening of the round, or null when its node sent none (or none verified). */
export async function loadPartnerOpening(
  db: Queryable,
  agreementId: string,
  period: number,
  round: number,
): Promise<PartnerOpening | null> {
  const { rows } = await db.query<{
    carrier_id: string;
    root: string;
    amount_ab: string;
    amount_ba: string;
    salt: string;
  }>(
    `SELECT carrier_id, root, amount_ab, amount_ba, salt FROM partner_openings
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
    root: row.root,
    amountAB: BigInt(row.amount_ab),
    amountBA: BigInt(row.amount_ba),
    salt: row.salt,
  };
}
