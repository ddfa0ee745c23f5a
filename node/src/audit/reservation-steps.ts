/**
 * Reservations replayed (docs/CONTRACTS.md, "Reservations"): the approval that completes the paying
 * carrier's threshold must reserve exactly what it owes (`EscrowReserved`, in the same transaction,
 * unless the period settles in it, as `approveAndSettle` does); a settlement spends the reservation of
 * its kind; a `ReservationReleased` withdraws the payer's approval and, when it was a `release` call (not
 * a settlement or a new reservation dropping an unused partial one), comes after the reservation's
 * expiry and never once both carriers approved; a `SettlementSkipped` names the state the period was in,
 * never Approved. Each carrier's reserved escrow is rebuilt and never exceeds its escrow.
 */
import { getAddress } from "ethers";
import { argBig, argBool, argString, type AuditEvent } from "./events";
import { derivedState, DISPUTE_STATES, netToSettle, stateName, type PeriodModel, type Terms } from "./model";
import {
  escrowKey,
  periodKey,
  place,
  sideOf,
  type ReplayContext,
  type TxScope,
  partyStep,
} from "./replay-context";

const kindOf = (partial: boolean) => (partial ? "partial" : "final");
const owedKey = (p: PeriodModel, partial: boolean) =>
  `${periodKey(p.agreementId, p.period)}:${kindOf(partial)}`;
const SIDES = "AB";

/**
 * After a `CarrierApproved`: when the approving side is the payer of a non-zero net, its reservation is
 * owed in this transaction.
 */
export function expectReservation(
  r: ReplayContext,
  e: AuditEvent,
  p: PeriodModel,
  terms: Terms,
  now: number,
  side: 0 | 1,
  partial: boolean,
): void {
  const tx = r.currentTx;
  if (tx === null) return;
  tx.approvals.add(`${periodKey(p.agreementId, p.period)}:${side}:${kindOf(partial)}`);
  const net = netToSettle(p, terms, now, partial);
  const payer = net > 0n ? 0 : 1;
  if (net === 0n || payer !== side) return;
  tx.owedReservations.set(owedKey(p, partial), { p, side, owed: net > 0n ? net : -net, at: place(e) });
}

/** Applies `EscrowReserved`: the payer's approval reserving what it owes. */
export function applyEscrowReserved(
  r: ReplayContext,
  e: AuditEvent,
  p: PeriodModel,
  terms: Terms,
  now: number,
): void {
  r.counts.reservations++;
  const step = partyStep(r, e, p, terms, "reservation-mismatch", "a reservation by");
  if (step === null) return;
  const { at, where, carrierId, side } = step;
  const partial = argBool(e, "partialSettlement");
  const amount = argBig(e, "amount");
  const token = argString(e, "token");
  const net = netToSettle(p, terms, now, partial);
  const payer = net > 0n ? 0 : 1;
  const owed = net > 0n ? net : -net;
  if (net === 0n || payer !== side || owed !== amount) {
    r.add(
      "error",
      "reservation-mismatch",
      at,
      where,
      `${r.carrierLabel(carrierId)} reserved ${amount} (${kindOf(partial)}); the approved figures make ` +
        (net === 0n ? "no one owe anything" : `party ${SIDES[payer]} owe ${owed}`),
    );
  }
  if (!(partial ? p.partialApproved : p.approved)[side]) {
    r.add(
      "error",
      "reservation-mismatch",
      at,
      where,
      `${r.carrierLabel(carrierId)} reserved (${kindOf(partial)}) without having approved`,
    );
  }
  if (p.reservation !== null) {
    r.add(
      "error",
      "reservation-mismatch",
      at,
      where,
      `a second reservation while ${SIDES[p.reservation.side]}'s ${kindOf(p.reservation.partial)} one of ` +
        `${p.reservation.amount} was still held`,
    );
  }
  if (getAddress(token) !== getAddress(terms.token)) {
    r.add(
      "error",
      "reservation-mismatch",
      at,
      where,
      `reserved in ${token}; the agreement settles in ${terms.token}`,
    );
  }
  p.reservation = { amount, side, partial, expiresAt: argBig(e, "expiresAt") };
  addReserved(r, e, carrierId, token, amount);
  const tx = r.currentTx;
  if (tx !== null) {
    tx.owedReservations.delete(owedKey(p, partial));
    // A release of this period earlier in the transaction was the unused partial reservation dropped for
    // this one, not a `release` call.
    const dropped = tx.releases.findIndex((x) => x.p === p);
    if (dropped >= 0) {
      if (!tx.releases[dropped]!.r.partial || partial) {
        r.add(
          "error",
          "reservation-mismatch",
          at,
          where,
          "a reservation replaced another that was not an unused partial one",
        );
      }
      tx.releases.splice(dropped, 1);
    }
  }
}

/** Applies `ReservationReleased`: the reservation ends unsettled and the payer's approval with it. */
export function applyReservationReleased(
  r: ReplayContext,
  e: AuditEvent,
  p: PeriodModel,
  terms: Terms,
  now: number,
): void {
  r.counts.releases++;
  const at = place(e);
  const where = { agreementId: p.agreementId, period: p.period };
  const carrierId = argString(e, "carrierId").toLowerCase();
  const partial = argBool(e, "partialSettlement");
  const amount = argBig(e, "amount");
  const side = sideOf(terms, carrierId);
  const held = p.reservation;
  if (
    held === null ||
    side === null ||
    held.side !== side ||
    held.partial !== partial ||
    held.amount !== amount
  ) {
    r.add(
      "error",
      "reservation-mismatch",
      at,
      where,
      `released ${amount} (${kindOf(partial)}) of ${r.carrierLabel(carrierId)}; the period held ` +
        (held === null
          ? "no reservation"
          : `${SIDES[held.side]}'s ${kindOf(held.partial)} one of ${held.amount}`),
    );
  }
  if (held === null || side === null) return;
  const both = partial ? p.partialApproved : p.approved;
  const state = derivedState(p, terms, now);
  const bound = both[0] && both[1] && (!partial || DISPUTE_STATES.includes(state));
  p.reservation = null;
  addReserved(r, e, carrierId, argString(e, "token"), -held.amount);
  both[side] = false;
  const tx = r.currentTx;
  // The final settlement of this transaction releases an unused partial reservation: nothing more to check.
  if (tx === null || (partial && p.settled && tx.settledPeriods.includes(p))) return;
  tx.releases.push({ p, r: held, now, bound, at });
}

/** Applies `SettlementSkipped`: the batch left out a period that was not Approved, in the state it names. */
export function applySettlementSkipped(
  r: ReplayContext,
  e: AuditEvent,
  p: PeriodModel,
  terms: Terms,
  now: number,
): void {
  r.counts.skippedSettlements++;
  const named = stateName(argBig(e, "state"));
  const state = derivedState(p, terms, now);
  if (named !== state || state === "Approved") {
    r.add(
      "error",
      "unexpected-event",
      place(e),
      { agreementId: p.agreementId, period: p.period },
      `settleBatch skipped the period as ${named}; it was ${state}` +
        (state === "Approved" ? ", which the batch settles" : ""),
    );
  }
}

/**
 * At a `Settled` event: the settlement spends the period's reservation of its kind, which must cover
 * exactly what it moves; a payer that approved in an earlier transaction must have reserved.
 */
export function consumeReservation(
  r: ReplayContext,
  e: AuditEvent,
  p: PeriodModel,
  terms: Terms,
  partial: boolean,
  net: bigint,
): void {
  const at = place(e);
  const where = { agreementId: p.agreementId, period: p.period };
  const payer = net > 0n ? 0 : 1;
  const owed = net > 0n ? net : -net;
  const held = p.reservation;
  const tx = r.currentTx;
  tx?.owedReservations.delete(owedKey(p, partial));
  if (held !== null && held.partial === partial) {
    if (held.side !== payer || held.amount !== owed) {
      r.add(
        "error",
        "reservation-mismatch",
        at,
        where,
        `the settlement moved ${owed} from party ${SIDES[payer]}; its reservation was ${held.amount} of party ${SIDES[held.side]}`,
      );
    }
    p.reservation = null;
    const carrierId = held.side === 0 ? terms.carrierA : terms.carrierB;
    addReserved(r, e, carrierId, terms.token, -held.amount);
    return;
  }
  // No reservation: only a payer approving in this very transaction (approveAndSettle) reserves none.
  const approvedNow =
    tx?.approvals.has(`${periodKey(p.agreementId, p.period)}:${payer}:${kindOf(partial)}`) === true;
  if (owed !== 0n && !approvedNow) {
    r.add(
      "error",
      "reservation-missing",
      at,
      where,
      `the ${kindOf(partial)} settlement moved ${owed} from party ${SIDES[payer]}, which held no reservation for it`,
    );
  }
}

/**
 * At the end of a transaction: every payer approval got its reservation, and every `release` call met
 * the rules (after the reservation's expiry, not once both carriers approved).
 */
export function checkReservationsOwed(r: ReplayContext, tx: TxScope): void {
  for (const owed of tx.owedReservations.values()) {
    r.add(
      "error",
      "reservation-missing",
      owed.at,
      { agreementId: owed.p.agreementId, period: owed.p.period },
      `party ${SIDES[owed.side]} approved as payer of ${owed.owed} but reserved nothing`,
    );
  }
  for (const release of tx.releases) {
    const where = { agreementId: release.p.agreementId, period: release.p.period };
    if (BigInt(release.now) <= release.r.expiresAt) {
      r.add(
        "error",
        "reservation-mismatch",
        release.at,
        where,
        `released at ${isoTime(release.now)}, before the reservation expired at ${isoTime(Number(release.r.expiresAt))}`,
      );
    }
    if (release.bound) {
      r.add(
        "error",
        "reservation-mismatch",
        release.at,
        where,
        "released although both carriers had approved (the reservation was bound to the settlement)",
      );
    }
  }
}

function addReserved(r: ReplayContext, e: AuditEvent, carrierId: string, token: string, delta: bigint): void {
  const key = escrowKey(carrierId, token);
  const account = r.reserved.get(key) ?? {
    carrierId: carrierId.toLowerCase(),
    token: getAddress(token),
    amount: 0n,
    last: place(e),
  };
  account.amount += delta;
  account.last = place(e);
  r.reserved.set(key, account);
  const escrow = r.escrow.get(key)?.amount ?? 0n;
  if (account.amount < 0n || account.amount > escrow) {
    r.add(
      "error",
      "reserved-exceeds-escrow",
      place(e),
      { agreementId: null, period: null },
      `${r.carrierLabel(carrierId)} holds ${account.amount} reserved in ${account.token} against an escrow of ${escrow}`,
    );
  }
}

function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}
