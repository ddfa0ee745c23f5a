/** The ledger's period states, in the order of `ISettlementLedger.PeriodState` (index = on-chain value). */
export const PERIOD_STATES = [
  "Pending",
  "Committing",
  "Revealing",
  "Mismatched",
  "Defaulted",
  "Void",
  "Disputed",
  "Escalated",
  "Matched",
  "Reconciled",
  "Uncontested",
  "Resolved",
  "Approved",
  "Settled",
] as const;
export type PeriodStateName = (typeof PERIOD_STATES)[number];

/** Index of a state name, for comparisons with `ledger.state(...)`. */
export function stateIndex(name: PeriodStateName): bigint {
  return BigInt(PERIOD_STATES.indexOf(name));
}

/** Bitmap of states as reported by LedgerUnexpectedState's `expectedBitmap`. */
export function stateBitmap(...names: PeriodStateName[]): string {
  let bits = 0n;
  for (const n of names) bits |= 1n << stateIndex(n);
  return "0x" + bits.toString(16).padStart(64, "0");
}

/** States whose figures are final: officers may approve them for settlement (`PeriodLib.FINAL_STATES`). */
export const FINAL_STATES: readonly PeriodStateName[] = ["Matched", "Reconciled", "Uncontested", "Resolved"];

/**
 * Final states that bind without approvals (`PeriodLib.BINDING_STATES`): once `deadlines().approvalDeadline`
 * has passed, anyone may settle them. Matched and Reconciled always need both carriers' approvals.
 */
export const BINDING_STATES: readonly PeriodStateName[] = ["Uncontested", "Resolved"];

/** States `settle` accepts: Approved, or a binding state past its approval deadline. */
export const SETTLE_STATES: readonly PeriodStateName[] = ["Approved", ...BINDING_STATES];
