/**
 * The ledger's fixed numbers: rounds, the bits of `PeriodRecord.flags`, and the period calendar.
 * The contract keeps the flag bits private; protocol.test.ts checks each against what the deployed
 * ledger stores.
 */

/** `SettlementLedger.MAX_ROUNDS`: round 0 and at most two correction rounds. */
export const MAX_ROUNDS = 3;

/** `SettlementLedger.MAX_PROPOSALS`: proposals per dispute, both sides together. */
export const MAX_PROPOSALS = 4;

/** Bits of `PeriodRecord.flags`. */
export const PERIOD_FLAGS = {
  /** Carrier A's officers approved the full figures (at their threshold). */
  APPROVED_A: 1n,
  APPROVED_B: 2n,
  /** Carrier A's officers approved settling the undisputed part. */
  PARTIAL_APPROVED_A: 4n,
  PARTIAL_APPROVED_B: 8n,
  /** The undisputed part moved. */
  PARTIAL_SETTLED: 16n,
  /** The period settled: nothing more moves. */
  SETTLED: 32n,
  /** A dispute was opened (it stays set when the dispute ends). */
  DISPUTED: 64n,
  /** Some carrier's officers left an approval tally below its threshold (an `OfficerApproved`). */
  TALLIED: 128n,
} as const;

/** First second (unix, UTC) after period YYYYMM: when its commit window opens. */
export function periodEnd(period: number): number {
  const year = Math.floor(period / 100);
  const month = period % 100;
  return Date.UTC(year, month, 1) / 1000;
}
