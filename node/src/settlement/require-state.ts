import { ConflictError } from "../errors";
import type { PeriodStateName } from "../protocol";
import { formatPeriod } from "../reconciliation/reveal";

/** "A, B or C". */
export function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
}

/**
 * Refuses a step the period's state does not allow, naming both:
 * "period ACME-GLOBEX 2026-10 is Mismatched; approve needs Matched, Reconciled or Resolved".
 * @throws ConflictError
 */
export function requireState(
  agreementName: string,
  period: number,
  current: PeriodStateName,
  step: string,
  allowed: readonly PeriodStateName[],
): void {
  if (allowed.includes(current)) return;
  throw new ConflictError(
    `period ${agreementName} ${formatPeriod(period)} is ${current}; ${step} needs ${orList(allowed)}`,
  );
}
