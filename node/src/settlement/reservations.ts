/**
 * Escrow reservations as the ledger keeps them (docs/CONTRACTS.md, "Reservations"): the approval
 * that completes the paying carrier's threshold reserves what it owes (the net of the approved
 * figures, less an undisputed part already settled) and reverts when the carrier's available escrow
 * (`escrowOf − reservedOf`) is short; the settlement spends the reservation; after the approval's
 * deadline anyone may `release` a reservation the other side never matched, which withdraws the
 * payer's approval. The node reads them here: to refuse a payer approval that would revert, to plan
 * settlements against what each carrier can spend, and to release its own lapsed reservations.
 */
import type { ChainClient } from "../chain/client";
import { InputError } from "../errors";
import { PERIOD_FLAGS, type PeriodStateName } from "../protocol";
import { chainCall } from "./escrow-tokens";
import { carrierName, formatAmount, type TokenInfo } from "./period-context";

const { APPROVED_A, APPROVED_B, PARTIAL_APPROVED_A, PARTIAL_APPROVED_B, PARTIAL_SETTLED } = PERIOD_FLAGS;

/** A carrier's escrow in one token: the balance, the part reserved for approved settlements, the rest. */
export interface EscrowAccount {
  escrow: bigint;
  reserved: bigint;
  available: bigint;
}

/**
 * `carrierId`'s escrow, reserved and available balance in `token`.
 * @throws UnavailableError when the chain node is unreachable, BaseError for other RPC failures.
 */
export async function escrowAccount(
  chain: ChainClient,
  carrierId: string,
  token: string,
): Promise<EscrowAccount> {
  const [escrow, reserved] = await Promise.all([
    chainCall("escrowOf", () => chain.ledger.escrowOf(carrierId, token)),
    chainCall("reservedOf", () => chain.ledger.reservedOf(carrierId, token)),
  ]);
  return { escrow, reserved, available: escrow - reserved };
}

/** A period's reservation as `reservationOf` returns it; `payer` is the carrier id (null when none). */
export interface Reservation {
  amount: bigint;
  expiresAt: bigint;
  payer: string | null;
  partialSettlement: boolean;
}

/**
 * The reservation `agreementId`/`period` holds (amount 0 and payer null when none).
 * @throws UnavailableError when the chain node is unreachable, BaseError for other RPC failures.
 */
export async function readReservation(
  chain: ChainClient,
  terms: { carrierA: string; carrierB: string },
  agreementId: string,
  period: number,
): Promise<Reservation> {
  const r = await chainCall("reservationOf", () => chain.ledger.reservationOf(agreementId, period));
  const payer = Number(r.payer);
  return {
    amount: r.amount,
    expiresAt: r.expiresAt,
    payer: payer === 1 ? terms.carrierA.toLowerCase() : payer === 2 ? terms.carrierB.toLowerCase() : null,
    partialSettlement: r.partialSettlement,
  };
}

/** The stored claims and flags a period's settlement arithmetic needs (`periodRecord`). */
export interface RecordFigures {
  flags: bigint;
  amountABofA: bigint;
  amountABofB: bigint;
  amountBAofA: bigint;
  amountBAofB: bigint;
}

/** The A→B net a partial settlement moved (the undisputed part: per direction the smaller claim); 0 without one. */
export function partialNet(record: RecordFigures): bigint {
  if ((record.flags & PARTIAL_SETTLED) === 0n) return 0n;
  const min = (x: bigint, y: bigint) => (x < y ? x : y);
  return min(record.amountABofA, record.amountABofB) - min(record.amountBAofA, record.amountBAofB);
}

/** Who pays what for figures `amountAB`/`amountBA` after `alreadySettledNet` moved: null payer for nothing to move. */
export function payerOf(
  terms: { carrierA: string; carrierB: string },
  amountAB: bigint,
  amountBA: bigint,
  alreadySettledNet = 0n,
): { payer: string | null; side: "A" | "B" | null; owed: bigint } {
  const net = amountAB - amountBA - alreadySettledNet;
  if (net === 0n) return { payer: null, side: null, owed: 0n };
  return net > 0n
    ? { payer: terms.carrierA.toLowerCase(), side: "A", owed: net }
    : { payer: terms.carrierB.toLowerCase(), side: "B", owed: -net };
}

/**
 * Refuses, before anything is sent, an approval that would revert on chain because the approving
 * carrier pays and its available escrow does not cover what it owes (the approval would reserve it).
 * The payee, a zero net and a funded payer pass.
 * @throws InputError naming the carrier, the token, the amount needed and the amount available;
 * UnavailableError when the chain node is unreachable.
 */
export async function requireFundedApproval(
  chain: ChainClient,
  ctx: {
    label: string;
    agreementId: string;
    period: number;
    terms: { carrierA: string; carrierB: string };
    token: TokenInfo;
  },
  approval: { carrierId: string; partialSettlement: boolean; amountAB: bigint; amountBA: bigint },
): Promise<void> {
  const settled = approval.partialSettlement
    ? 0n
    : partialNet(
        await chainCall("periodRecord", () => chain.ledger.periodRecord(ctx.agreementId, ctx.period)),
      );
  const { payer, owed } = payerOf(ctx.terms, approval.amountAB, approval.amountBA, settled);
  if (payer === null || payer !== approval.carrierId.toLowerCase()) return;
  const account = await escrowAccount(chain, payer, ctx.token.address);
  if (account.available >= owed) return;
  const amount = (value: bigint) => formatAmount(value, ctx.token);
  throw new InputError(
    `${carrierName(payer)} cannot approve ${ctx.label}${approval.partialSettlement ? " (undisputed part)" : ""} ` +
      `yet: as payer its approval reserves ${amount(owed)} and its available escrow is ${amount(account.available)}`,
    {
      details:
        `carrier ${carrierName(payer)} (${payer}), token ${ctx.token.symbol} (${ctx.token.address}), ` +
        `needed ${owed}, available ${account.available} (escrow ${account.escrow}, reserved ${account.reserved}); ` +
        `deposit ${amount(owed - account.available)} more (icl escrow deposit), then approve again ` +
        "(icl officer approve: the signatures gathered are kept). Nothing was sent.",
    },
  );
}

/**
 * Whether `release` would go through now for reservation `r`: it expired (`now > expiresAt`) and is
 * not bound — both carriers approved its kind, and (for a partial one) the undisputed part can
 * still be settled (Disputed or Escalated).
 */
export function releasable(r: Reservation, flags: bigint, state: PeriodStateName, now: bigint): boolean {
  if (r.amount === 0n || now <= r.expiresAt) return false;
  const both = r.partialSettlement ? PARTIAL_APPROVED_A | PARTIAL_APPROVED_B : APPROVED_A | APPROVED_B;
  const bound =
    (flags & both) === both && (!r.partialSettlement || state === "Disputed" || state === "Escalated");
  return !bound;
}
