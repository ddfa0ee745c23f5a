/** What several route groups share: the dependencies a route needs, and who sees which periods. */
import type { Principal, Role } from "../auth/types";
import { HttpError } from "../http-error";
import type { ApiDeps } from "./route";

/** A period's ledger facts: officers, regulators, admins; arbiters for disputed periods only. */
export const PERIODS: readonly Role[] = ["officer", "regulator", "arbiter", "admin"];

/** The node behind the gateway. @throws HttpError 503 without one. */
export function requireNode(deps: ApiDeps) {
  if (deps.node === null) throw new HttpError(503, "NO_NODE", "this gateway has no node attached");
  return deps.node;
}

/** The node's chain client. @throws HttpError 503 without one. */
export function requireChain(deps: ApiDeps) {
  if (deps.chain === null) {
    throw new HttpError(503, "NO_CHAIN", "this node has no chain connection (config.json `chain`)");
  }
  return deps.chain;
}

/** Whether the principal sees every period, or (an arbiter only) the disputed ones. */
export function seesAllPeriods(principal: Principal | null): boolean {
  return principal !== null && principal.roles.some((role) => role !== "arbiter" && PERIODS.includes(role));
}

/**
 * Whether the principal reads periods of any agreement on the ledger, not only this node's: regulators
 * oversee every carrier's settlement and arbiters rule between any two, from whichever node they sign
 * in to. What they get is what the ledger holds (terms, figures, events), never this node's internals.
 */
export function readsWholeLedger(principal: Principal | null): boolean {
  return principal !== null && principal.roles.some((role) => role === "regulator" || role === "arbiter");
}
