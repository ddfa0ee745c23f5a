/**
 * What `icl settle` (one period) and `icl settle --netting` share around a settlement plan: the escrow
 * balances it is planned against (read once per carrier and token), the refusal to send while a payer's
 * escrow is short, the check of a sent settlement and the balances after it.
 */
import type { ChainClient } from "../chain/client";
import { BaseError, ConflictError } from "../errors";
import { formatScaled } from "../money/decimal";
import { chainCall } from "./escrow-tokens";
import type { PlanView } from "./netting-report";
import { planNetting, type SettleablePeriod, type TokenPlan } from "./netting";

/**
 * Escrow balances of every carrier of `periods`, by `token:carrier` (lower case).
 * @throws UnavailableError when the chain node is unreachable, BaseError for other RPC failures.
 */
export async function escrowBalances(
  chain: ChainClient,
  periods: readonly SettleablePeriod[],
): Promise<Map<string, bigint>> {
  const balances = new Map<string, bigint>();
  for (const p of periods) {
    for (const carrier of [p.carrierA, p.carrierB]) {
      const key = `${p.token.toLowerCase()}:${carrier.toLowerCase()}`;
      if (balances.has(key)) continue;
      balances.set(key, await chainCall("escrowOf", () => chain.ledger.escrowOf(carrier, p.token)));
    }
  }
  return balances;
}

/** Plans the settlement of `periods` per token against `balances` (from `escrowBalances`). Never throws. */
export function planAgainst(
  periods: readonly SettleablePeriod[],
  balances: Map<string, bigint>,
): TokenPlan[] {
  return planNetting(periods, (carrier, token) => balances.get(`${token}:${carrier}`) ?? 0n);
}

/** The error that stops a settlement while the plans' payers are short of escrow (nothing sent). */
export function topUpRefusal(views: PlanView[]): ConflictError {
  const short = views.flatMap((v) => v.topUps.map((t) => `${t.carrier} ${t.shortfall} ${v.token}`));
  return new ConflictError(
    `escrow top-up needed before settling: ${short.join(", ")}; nothing was sent`,
    "Deposit with icl escrow deposit --token T --amount X (any carrier's officer or anyone may fund it).",
  );
}

/**
 * Checks that a sent settlement was confirmed.
 * @throws BaseError (code TX_REVERTED) when it reverted.
 */
export function requireSent(
  result: { status: string; txHash: string; error: string | null },
  what: string,
): void {
  if (result.status !== "confirmed") {
    throw new BaseError(`the ${what} transaction ${result.txHash} reverted`, {
      code: "TX_REVERTED",
      details: result.error ?? undefined,
    });
  }
}

/**
 * Each carrier's escrow in the plan's token now, formatted, by carrier name.
 * @throws UnavailableError when the chain node is unreachable, BaseError for other RPC failures.
 */
export async function escrowAfter(chain: ChainClient, view: PlanView): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const pos of view.positions) {
    const balance = await chainCall("escrowOf", () =>
      chain.ledger.escrowOf(pos.carrierId, view.tokenAddress),
    );
    out[pos.carrier] = formatScaled(balance, view.decimals);
  }
  return out;
}
