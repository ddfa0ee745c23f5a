/** Disputes (timeline, evidence for parties), settlement (netting plan, escrow balances) and audit (timeline, verify, exports). */
import type { ApiRoute } from "./route";

export const LEDGER_ROUTES: readonly ApiRoute[] = [];
