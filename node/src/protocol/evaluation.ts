/**
 * How the ledger evaluates a round once both commitments are open (PeriodLib `_evaluate`, Tolerance.sol):
 * Matched when root and figures are equal, Reconciled when each direction is within tolerance (the
 * figure then set by the agreement's rule), Mismatched otherwise. Nodes use it to know the figures both
 * carriers' officers approve before the openings are on the ledger (`revealAndSettle`); the audit checks
 * every `Evaluated` event against it.
 */

/** `ISettlementLedger.Outcome`, in the contract's order (index = on-chain value). */
export const OUTCOMES = ["None", "Matched", "Reconciled", "Mismatched"] as const;
export type OutcomeName = (typeof OUTCOMES)[number];

/** `IAgreementBook.ToleranceRule`, in the contract's order: which figure applies within tolerance. */
export const TOLERANCE_RULES = ["Terminating", "Originating", "Mean"] as const;

/** The tolerance terms of an agreement version. */
export interface ToleranceTerms {
  toleranceBps: bigint | number;
  toleranceAbs: bigint;
  /** Index into {@link TOLERANCE_RULES}. */
  rule: number;
}

/** A carrier's revealed root and figures. */
export interface OpenedClaim {
  root: string;
  amountAB: bigint;
  amountBA: bigint;
}

/** `Tolerance.within` with its parts: |a − b| ≤ max(bps × max(a, b) / 10 000, absolute). */
export function toleranceCheck(
  a: bigint,
  b: bigint,
  bps: bigint | number,
  absolute: bigint,
): { difference: bigint; allowed: bigint; within: boolean } {
  const [high, low] = a >= b ? [a, b] : [b, a];
  const relative = (high * BigInt(bps)) / 10_000n;
  const allowed = relative > absolute ? relative : absolute;
  return { difference: high - low, allowed, within: high - low <= allowed };
}

/** `Tolerance.agreed`: the figure a direction settles at within tolerance. */
export function agreedAmount(rule: number, originating: bigint, terminating: bigint): bigint {
  if (rule === 0) return terminating;
  if (rule === 1) return originating;
  return (originating + terminating) / 2n;
}

/**
 * `_evaluate`: the outcome and final figures of A's and B's claims (zero figures when Mismatched). A
 * originates A→B traffic and B terminates it, and the other way round.
 */
export function evaluateClaims(
  a: OpenedClaim,
  b: OpenedClaim,
  terms: ToleranceTerms,
): { outcome: Exclude<OutcomeName, "None">; amountAB: bigint; amountBA: bigint } {
  if (
    a.root.toLowerCase() === b.root.toLowerCase() &&
    a.amountAB === b.amountAB &&
    a.amountBA === b.amountBA
  ) {
    return { outcome: "Matched", amountAB: a.amountAB, amountBA: a.amountBA };
  }
  const within = (x: bigint, y: bigint) =>
    toleranceCheck(x, y, terms.toleranceBps, terms.toleranceAbs).within;
  if (within(a.amountAB, b.amountAB) && within(a.amountBA, b.amountBA)) {
    return { outcome: "Reconciled", ...reconciledFigures(a, b, terms) };
  }
  return { outcome: "Mismatched", amountAB: 0n, amountBA: 0n };
}

/** `reconciledFigures`: per direction the figure the rule takes between the originating and terminating claims. */
export function reconciledFigures(
  a: Omit<OpenedClaim, "root">,
  b: Omit<OpenedClaim, "root">,
  terms: Pick<ToleranceTerms, "rule">,
): { amountAB: bigint; amountBA: bigint } {
  return {
    amountAB: agreedAmount(terms.rule, a.amountAB, b.amountAB),
    amountBA: agreedAmount(terms.rule, b.amountBA, a.amountBA),
  };
}
