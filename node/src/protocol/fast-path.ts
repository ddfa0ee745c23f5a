/**
 * The co-signed fast path's rules as the ledger applies them (`settleFastPath`, PeriodLib.settleFastPath):
 * when it is open, how a period it settled reads, and the officer-slot bitmaps `FastPathSettled` reports.
 * The typed data (`SETTLEMENT_TYPES`, `settlementDigest`) is in eip712.ts.
 */
import { PERIOD_FLAGS } from "./limits";
import { stateIndex } from "./states";

/** The ledger event of a fast-path settlement (root, figures, the officer slots that signed). */
export const FAST_PATH_EVENT = "FastPathSettled";

/** The facts of `PeriodRecord` the fast-path rules read. */
export interface FastPathRecordFacts {
  round: bigint | number;
  statusA: bigint | number;
  statusB: bigint | number;
  outcome: bigint | number;
  flags: bigint | number;
}

/** Outcome `Matched` (ISettlementLedger.Outcome). */
const MATCHED = 1n;

/**
 * Whether the fast path is open for a period in `state` with this record: Committing or Revealing, round
 * 0, nobody revealed (commitments alone do not close it). The ledger reverts otherwise with
 * LedgerUnexpectedState, LedgerNotFirstRound or LedgerAlreadyRevealed.
 */
export function fastPathOpen(state: bigint | number, record: FastPathRecordFacts): boolean {
  const s = BigInt(state);
  return (
    (s === stateIndex("Committing") || s === stateIndex("Revealing")) &&
    BigInt(record.round) === 0n &&
    BigInt(record.statusA) === 0n &&
    BigInt(record.statusB) === 0n
  );
}

/**
 * Whether the record is one the fast path settled: Matched and settled with nobody revealed (a revealed
 * Matched period has both statuses 1). Its figures and root are in its `FastPathSettled` event only.
 */
export function settledByFastPath(record: FastPathRecordFacts): boolean {
  return (
    BigInt(record.outcome) === MATCHED &&
    (BigInt(record.flags) & PERIOD_FLAGS.SETTLED) !== 0n &&
    BigInt(record.statusA) === 0n &&
    BigInt(record.statusB) === 0n
  );
}

/** The flags a fast-path settlement sets: both carriers approved (at their thresholds) and settled. */
export const FAST_PATH_FLAGS = PERIOD_FLAGS.APPROVED_A | PERIOD_FLAGS.APPROVED_B | PERIOD_FLAGS.SETTLED;

/** The officer slots set in a bitmap of `FastPathSettled` (bit i = slot i, as the registry's OfficerAdded). */
export function officerSlotsOf(bitmap: bigint): number[] {
  const slots: number[] = [];
  for (let i = 0; bitmap >> BigInt(i) !== 0n; i++) if ((bitmap >> BigInt(i)) & 1n) slots.push(i);
  return slots;
}
