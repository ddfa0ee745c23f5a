/**
 * Approvals replayed against the registry as it stood at each block: every `OfficerApproved` signer
 * and every officer a `CarrierApproved` names must be a current officer of the carrier (counted once per
 * slot, in a tally kept under the carrier's officer nonce, which officer and node updates advance), every
 * `CarrierApproved` must rest on at least the carrier's threshold of distinct current officers (those of
 * earlier `OfficerApproved` events and its own) and carry the figures the period held (final or undisputed
 * part), and officers reaching a threshold must be followed by the carrier's approval in the same
 * transaction. A payer's approval owes a reservation (reservation-steps.ts).
 */
import { getAddress } from "ethers";
import { argBig, argBool, argString, argStrings, type AuditEvent } from "./events";
import {
  baseState,
  derivedState,
  DISPUTE_STATES,
  FINAL_STATES,
  finalFigures,
  partialFigures,
  type PeriodModel,
  type Terms,
} from "./model";
import { periodKey, place, type ReplayContext, type TxScope, partyStep } from "./replay-context";
import { expectReservation } from "./reservation-steps";

/** Applies an `OfficerApproved` event: the signer's slot joins the carrier's tally for the period. */
export function applyOfficerApproved(
  r: ReplayContext,
  e: AuditEvent,
  p: PeriodModel,
  terms: Terms,
  now: number,
): void {
  r.counts.officerApprovals++;
  const step = partyStep(r, e, p, terms, "unexpected-event", "approval for");
  if (step === null) return;
  const { at, where, carrierId, side: s } = step;
  const partial = argBool(e, "partialSettlement");
  checkApprovalState(r, e, p, terms, now, s, partial);
  p.tallied = true;
  const key = tallyKey(s, partial, r.carriers.get(carrierId)?.nonce ?? 0);
  const tally = p.tallies.get(key) ?? new Set<number>();
  const slot = officerSlot(r, e, p, carrierId, argString(e, "signer"));
  if (slot === null) return;
  if (tally.has(slot)) {
    r.add("error", "unexpected-event", at, where, `${getAddress(argString(e, "signer"))} counted twice`);
  }
  tally.add(slot);
  p.tallies.set(key, tally);
  r.currentTx?.tallies.add(`${p.agreementId}:${p.period}:${key}`);
}

/** The officer slot of `officer` in `carrierId` at the event's block, or null (and a finding) when it is none. */
function officerSlot(
  r: ReplayContext,
  e: AuditEvent,
  p: PeriodModel,
  carrierId: string,
  officer: string,
): number | null {
  const slot = r.carriers.get(carrierId)?.officers.get(officer.toLowerCase());
  if (slot !== undefined) return slot;
  r.add(
    "error",
    "approval-not-officer",
    place(e),
    { agreementId: p.agreementId, period: p.period },
    `${getAddress(officer)} approved for ${r.carrierLabel(carrierId)} but was not its officer at block ${e.blockNumber}`,
  );
  return null;
}

/** Applies a `CarrierApproved` event: threshold met and the figures the period held. */
export function applyCarrierApproved(
  r: ReplayContext,
  e: AuditEvent,
  p: PeriodModel,
  terms: Terms,
  now: number,
): void {
  r.counts.carrierApprovals++;
  const step = partyStep(r, e, p, terms, "unexpected-event", "approval for");
  if (step === null) return;
  const { at, where, carrierId, side: s } = step;
  const partial = argBool(e, "partialSettlement");
  checkApprovalState(r, e, p, terms, now, s, partial);
  const key = tallyKey(s, partial, r.carriers.get(carrierId)?.nonce ?? 0);
  // the officers whose approval in this transaction reached the threshold join those counted before
  const tally = new Set(p.tallies.get(key) ?? []);
  for (const officer of argStrings(e, "officers")) {
    r.counts.officerApprovals++;
    const slot = officerSlot(r, e, p, carrierId, officer);
    if (slot !== null) tally.add(slot);
  }
  const count = activeCount(r, carrierId, tally);
  const threshold = r.carriers.get(carrierId)?.threshold ?? 0;
  if (count < threshold) {
    r.add(
      "error",
      "approval-threshold-not-met",
      at,
      where,
      `${r.carrierLabel(carrierId)} approved with ${count} distinct current officer(s); its threshold was ${threshold}`,
    );
  }
  if (!partial && !p.approved[0] && !p.approved[1] && !p.timeDrivenCounted) {
    // Once per period: after a released reservation the first approval comes again.
    p.timeDrivenCounted = true;
    countTimeDriven(r, p, terms, now);
  }
  // Outside a final state the period holds no final figures (`_finalFigures` would give the mean of
  // the claims); the state finding above says what is wrong, a figure comparison would only mislead.
  const hasFigures = partial || FINAL_STATES.includes(baseState(p, terms, now));
  const expected = partial ? partialFigures(p) : finalFigures(p, terms, now);
  const ab = argBig(e, "amountAB");
  const ba = argBig(e, "amountBA");
  if (hasFigures && (ab !== expected.amountAB || ba !== expected.amountBA)) {
    r.add(
      "error",
      "approval-figures-mismatch",
      at,
      where,
      `${r.carrierLabel(carrierId)} approved ${ab}/${ba}; the period held ${expected.amountAB}/${expected.amountBA} ` +
        `(${partial ? "undisputed part" : "final figures"})`,
    );
  }
  (partial ? p.partialApproved : p.approved)[s] = true;
  p.tallies.delete(key);
  expectReservation(r, e, p, terms, now, s, partial);
}

/**
 * At the end of a transaction: a tally it added to that reached the carrier's threshold must have
 * been turned into a `CarrierApproved` (which clears the tally).
 */
export function checkApprovalsOwed(r: ReplayContext, tx: TxScope): void {
  const at = { block: tx.block, tx: tx.hash };
  for (const tallyId of tx.tallies) {
    const [agreementId, period, side, kind, nonce] = tallyId.split(":") as [
      string,
      string,
      string,
      string,
      string,
    ];
    const p = r.periods.get(periodKey(agreementId, Number(period)));
    const terms = r.termsFor(agreementId, Number(period));
    if (p === undefined || terms === undefined) continue;
    const carrierId = (Number(side) === 0 ? terms.carrierA : terms.carrierB).toLowerCase();
    const tally = p.tallies.get(`${side}:${kind}:${nonce}`);
    const threshold = r.carriers.get(carrierId)?.threshold ?? 0;
    if (tally !== undefined && threshold > 0 && activeCount(r, carrierId, tally) >= threshold) {
      r.add(
        "error",
        "approval-missing",
        at,
        { agreementId, period: Number(period) },
        `${r.carrierLabel(carrierId)}'s officers reached the threshold ${threshold} (${kind}) but no CarrierApproved followed`,
      );
    }
  }
}

function checkApprovalState(
  r: ReplayContext,
  e: AuditEvent,
  p: PeriodModel,
  terms: Terms,
  now: number,
  side: number,
  partial: boolean,
): void {
  const state = derivedState(p, terms, now);
  const allowed = partial ? DISPUTE_STATES : FINAL_STATES;
  const where = { agreementId: p.agreementId, period: p.period };
  if (!allowed.includes(state)) {
    r.add(
      "error",
      "unexpected-event",
      place(e),
      where,
      `${e.name} (${partial ? "partial" : "final"}) while the period was ${state}`,
    );
  }
  if ((partial ? p.partialApproved : p.approved)[side]) {
    r.add(
      "error",
      "unexpected-event",
      place(e),
      where,
      `${e.name} after party ${"AB"[side]} had already approved`,
    );
  }
}

/**
 * The first final approval of a period is where the replay relies on a transition no event records:
 * a default the silent party let pass (Uncontested), or an arbitration window that lapsed (Resolved
 * at the mean of the claims).
 */
function countTimeDriven(r: ReplayContext, p: PeriodModel, terms: Terms, now: number): void {
  const state = baseState(p, terms, now);
  if (state === "Uncontested") r.counts.uncontested++;
  else if (state === "Resolved" && p.dispute.resolution === "None") r.counts.lapsedArbitrations++;
}

/** How many slots of a tally belong to the carrier's current officers. */
function activeCount(r: ReplayContext, carrierId: string, tally: Set<number> | undefined): number {
  const active = new Set(r.carriers.get(carrierId)?.officers.values() ?? []);
  return [...(tally ?? [])].filter((slot) => active.has(slot)).length;
}

function tallyKey(side: number, partial: boolean, nonce: number): string {
  return `${side}:${partial ? "partial" : "final"}:${nonce}`;
}
