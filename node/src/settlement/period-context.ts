/**
 * What every officer step needs to know about an agreement-period before it acts: the terms in force,
 * which carrier this node is, the other carrier, the settlement token, the ledger's state and the
 * chain's clock (deadlines are judged by block time, never by the wall clock).
 */
import type { ChainClient } from "../chain/client";
import { PERIOD_STATES, type PeriodStateName } from "../protocol";
import type { LocalAgreement } from "../db/agreements";
import { parseScaled } from "../money/decimal";
import { carrierName, formatAmount, isoTime, tokenInfo, type TokenInfo } from "../chain/display";

export { carrierName, formatAmount, isoTime, tokenInfo, type TokenInfo };
import { InputError } from "../errors";
import { toChainError } from "../chain/errors";
import { formatPeriod } from "../reconciliation/reveal";

export type ToleranceRuleName = "Terminating" | "Originating" | "Mean";
const RULES: readonly ToleranceRuleName[] = ["Terminating", "Originating", "Mean"];

export interface AgreementTerms {
  carrierA: string;
  carrierB: string;
  token: string;
  toleranceBps: number;
  toleranceAbs: bigint;
  rule: ToleranceRuleName;
  arbiter: string;
  version: number;
}

export interface PeriodContext {
  agreementId: string;
  /** The local name when this node is party, else the id. */
  name: string;
  period: number;
  /** "ACME-GLOBEX 2026-10". */
  label: string;
  terms: AgreementTerms;
  /** This node's side, or null for someone who is not party (the arbiter, a regulator). */
  side: "A" | "B" | null;
  ourCarrier: string | null;
  theirCarrier: string | null;
  token: TokenInfo;
  state: PeriodStateName;
  /** Latest block's timestamp, seconds. */
  chainNow: bigint;
}

/**
 * "12.5" in the token's decimals → base units.
 * @throws InputError naming `field` when it is not a non-negative decimal with at most `decimals` places.
 */
export function parseAmount(text: string, token: TokenInfo, field: string): bigint {
  const value = parseScaled(text.trim(), token.decimals);
  if (value === null || value < 0n || !/^\d+(\.\d+)?$/.test(text.trim())) {
    throw new InputError(
      `'${text}' is not an amount of ${token.symbol} (digits, at most ${token.decimals} decimals)`,
      { field },
    );
  }
  if (value >= 1n << 96n) throw new InputError(`'${text}' is too large for the ledger (uint96)`, { field });
  return value;
}

/** The terms in force for `period`. */
export async function agreementTerms(
  chain: ChainClient,
  agreementId: string,
  period: number,
): Promise<AgreementTerms> {
  const [terms, version] = await chain.book.termsAt(agreementId, period);
  return {
    carrierA: terms.carrierA.toLowerCase(),
    carrierB: terms.carrierB.toLowerCase(),
    token: terms.token,
    toleranceBps: Number(terms.toleranceBps),
    toleranceAbs: terms.toleranceAbs,
    rule: RULES[Number(terms.rule)] ?? "Terminating",
    arbiter: terms.arbiter,
    version: Number(version),
  };
}

/**
 * The latest block's timestamp (the ledger's clock), seconds.
 * @throws UnavailableError (`RPC_UNAVAILABLE`) when the RPC node cannot be reached, as every chain read.
 */
export async function chainTime(chain: ChainClient): Promise<bigint> {
  const block = await chain.provider.getBlock("latest").catch((error: unknown) => {
    throw toChainError(error, "eth_getBlockByNumber");
  });
  return BigInt(block?.timestamp ?? Math.floor(Date.now() / 1000));
}

/**
 * The other party of the agreement's terms for `period`, lower case.
 * @throws BaseError when the chain cannot be read.
 */
export async function partnerCarrier(
  chain: ChainClient,
  agreementId: string,
  period: number,
  ourCarrier: string,
): Promise<string> {
  const terms = await chain.book.settlementTermsAt(agreementId, period);
  const ours = ourCarrier.toLowerCase();
  return (terms.carrierA.toLowerCase() === ours ? terms.carrierB : terms.carrierA).toLowerCase();
}

/** Reads everything an officer step needs about `period` of `agreement` (local, or an id for outsiders). */
export async function loadPeriodContext(
  chain: ChainClient,
  agreement: Pick<LocalAgreement, "agreementId" | "name" | "side"> | { agreementId: string },
  period: number,
): Promise<PeriodContext> {
  const agreementId = agreement.agreementId.toLowerCase();
  // Read together; when the RPC node is down, the ledger's own call is the one reported, whichever
  // request happened to fail first.
  const [stateIndex, terms, chainNow] = await allInOrder([
    chain.ledger.state(agreementId, period),
    agreementTerms(chain, agreementId, period),
    chainTime(chain),
  ] as const);
  const side = "side" in agreement ? agreement.side : null;
  const name = "name" in agreement ? agreement.name : agreementId;
  const ours = side === null ? null : side === "A" ? terms.carrierA : terms.carrierB;
  const theirs = side === null ? null : side === "A" ? terms.carrierB : terms.carrierA;
  return {
    agreementId,
    name,
    period,
    label: `${name} ${formatPeriod(period)}`,
    terms,
    side,
    ourCarrier: ours,
    theirCarrier: theirs,
    token: await tokenInfo(chain, terms.token),
    state: PERIOD_STATES[Number(stateIndex)] ?? "Pending",
    chainNow,
  };
}

/** Like Promise.all, but a failure is the first failing promise in `promises`' order, not in time. */
async function allInOrder<T extends readonly unknown[]>(promises: {
  [K in keyof T]: Promise<T[K]>;
}): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const values: unknown[] = [];
  for (const result of settled) {
    if (result.status === "rejected") throw result.reason;
    values.push(result.value);
  }
  return values as unknown as T;
}
