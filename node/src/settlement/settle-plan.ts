/**
 * What `icl settle` (one period) and `icl settle --netting` share around a settlement plan: the escrow
 * balances it is planned against (escrow, reserved and available, read once per carrier and token), the
 * refusal to send while a payer cannot cover its net, the check of a sent settlement, the periods a
 * batch skipped and the balances after it.
 */
import type { ChainClient } from "../chain/client";
import { BaseError, ConflictError } from "../errors";
import { formatScaled } from "../money/decimal";
import { PERIOD_STATES, type PeriodStateName } from "../protocol";
import { chainCall } from "./escrow-tokens";
import type { PlanView } from "./netting-report";
import { planNetting, type SettleablePeriod, type TokenPlan } from "./netting";
import { escrowAccount, type EscrowAccount } from "./reservations";

/**
 * Escrow, reserved and available balance of every carrier of `periods`, by `token:carrier` (lower case).
 * @throws UnavailableError when the chain node is unreachable, BaseError for other RPC failures.
 */
export async function escrowBalances(
  chain: ChainClient,
  periods: readonly SettleablePeriod[],
): Promise<Map<string, EscrowAccount>> {
  const balances = new Map<string, EscrowAccount>();
  for (const p of periods) {
    for (const carrier of [p.carrierA, p.carrierB]) {
      const key = `${p.token.toLowerCase()}:${carrier.toLowerCase()}`;
      if (balances.has(key)) continue;
      balances.set(key, await escrowAccount(chain, carrier, p.token));
    }
  }
  return balances;
}

/**
 * Plans the settlement of `periods` per token against the available balances in `balances` (from
 * `escrowBalances`) plus each period's reservation. Never throws.
 */
export function planAgainst(
  periods: readonly SettleablePeriod[],
  balances: Map<string, EscrowAccount>,
): TokenPlan[] {
  return planNetting(periods, (carrier, token) => balances.get(`${token}:${carrier}`)?.available ?? 0n);
}

/** A period `settleBatch` left out (`SettlementSkipped`), with the state that kept it out. */
export interface SkippedPeriod {
  agreementId: string;
  period: number;
  state: PeriodStateName;
}

/**
 * The periods a confirmed `settleBatch` transaction skipped, from its receipt's `SettlementSkipped`
 * logs (someone settled one first, or it was no longer Approved).
 * @throws UnavailableError when the chain node is unreachable, BaseError for other RPC failures.
 */
export async function skippedInBatch(
  chain: Pick<ChainClient, "provider" | "ledger"> & { deployment: { ledger: string } },
  txHash: string,
): Promise<SkippedPeriod[]> {
  const receipt = await chainCall("getTransactionReceipt", () =>
    chain.provider.getTransactionReceipt(txHash),
  );
  const skipped: SkippedPeriod[] = [];
  for (const log of receipt?.logs ?? []) {
    if (log.address.toLowerCase() !== chain.deployment.ledger.toLowerCase()) continue;
    const parsed = chain.ledger.interface.parseLog({ topics: [...log.topics], data: log.data });
    if (parsed?.name !== "SettlementSkipped") continue;
    skipped.push({
      agreementId: String(parsed.args.agreementId).toLowerCase(),
      period: Number(parsed.args.period),
      state: PERIOD_STATES[Number(parsed.args.state)] ?? "Pending",
    });
  }
  return skipped;
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
