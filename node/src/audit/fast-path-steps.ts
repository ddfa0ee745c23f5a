/**
 * The co-signed fast path replayed: a `FastPathSettled` event must come while the period was
 * Committing or Revealing in round 0 with nobody revealed, in the agreement's token, with a root;
 * every officer slot it names must have been a current officer of its carrier at that block, at
 * least the carrier's threshold then, no address counted for both carriers; and the transaction must
 * move exactly amountAB − amountBA from A's escrow to B's. The period is then Matched and Settled
 * (both approval flags set), as PeriodLib.settleFastPath records it.
 */
import { ZeroHash, getAddress } from "ethers";
import { officerSlotsOf } from "../protocol";
import { argBig, argString, type AuditEvent } from "./events";
import { derivedState, type CarrierModel, type PeriodModel, type Terms } from "./model";
import { addTo, escrowKey, place, type ReplayContext } from "./replay-context";

/** Applies a `FastPathSettled` event and books what must move in escrow. */
export function applyFastPathSettled(
  r: ReplayContext,
  e: AuditEvent,
  p: PeriodModel,
  terms: Terms,
  now: number,
): void {
  r.counts.fastPathSettlements++;
  const at = place(e);
  const where = { agreementId: p.agreementId, period: p.period };
  const ab = argBig(e, "amountAB");
  const ba = argBig(e, "amountBA");
  const root = argString(e, "root").toLowerCase();
  const token = argString(e, "token");
  const state = derivedState(p, terms, now);
  const revealed = p.claims[0] !== null || p.claims[1] !== null;
  if ((state !== "Committing" && state !== "Revealing") || p.round !== 0 || revealed) {
    r.add(
      "error",
      "unexpected-event",
      at,
      where,
      `fast-path settlement while the period was ${state} in round ${p.round}` +
        (revealed ? " after a reveal" : "") +
        " (the contract allows it only in round 0, Committing or Revealing, before any reveal)",
    );
  }
  if (token.toLowerCase() !== terms.token.toLowerCase()) {
    r.add(
      "error",
      "settlement-mismatch",
      at,
      where,
      `settled in ${token}, the agreement settles in ${terms.token}`,
    );
  }
  if (root === ZeroHash)
    r.add("error", "settlement-mismatch", at, where, "a fast-path settlement without a root");
  const signersA = checkOfficers(r, e, where, terms.carrierA, argBig(e, "officersA"));
  const signersB = checkOfficers(r, e, where, terms.carrierB, argBig(e, "officersB"));
  for (const signer of signersA) {
    if (signersB.includes(signer)) {
      r.add(
        "error",
        "approval-not-officer",
        at,
        where,
        `${getAddress(signer)} counted for both carriers in one fast-path settlement`,
      );
    }
  }
  // PeriodLib.settleFastPath: outcome Matched, both approvals, settled; no claim is stored.
  p.outcome = "Matched";
  p.evaluatedAt = now;
  p.evaluatedFigures = { amountAB: ab, amountBA: ba };
  p.approved = [true, true];
  p.settled = true;
  p.fastPath = { root, amountAB: ab, amountBA: ba, at };
  const net = ab - ba;
  const tx = r.currentTx;
  if (tx !== null) {
    addTo(tx.expected, escrowKey(terms.carrierA, token), -net);
    addTo(tx.expected, escrowKey(terms.carrierB, token), net);
    tx.settledPeriods.push(p);
  }
}

/**
 * The addresses behind the slots of `bitmap`, each checked to be a current officer of `carrierId` at
 * the event's block; reports a slot held by nobody and a count below the threshold then.
 */
function checkOfficers(
  r: ReplayContext,
  e: AuditEvent,
  where: { agreementId: string; period: number },
  carrierId: string,
  bitmap: bigint,
): string[] {
  const at = place(e);
  const carrier: CarrierModel | undefined = r.carriers.get(carrierId.toLowerCase());
  const bySlot = new Map<number, string>();
  for (const [address, slot] of carrier?.officers ?? []) bySlot.set(slot, address);
  const signers: string[] = [];
  for (const slot of officerSlotsOf(bitmap)) {
    const officer = bySlot.get(slot);
    if (officer === undefined) {
      r.add(
        "error",
        "approval-not-officer",
        at,
        where,
        `the fast-path settlement counts officer slot ${slot} of ${r.carrierLabel(carrierId)}, held by no current officer at block ${e.blockNumber}`,
      );
    } else signers.push(officer);
  }
  const threshold = carrier?.threshold ?? 0;
  const count = officerSlotsOf(bitmap).length;
  if (count < threshold || threshold === 0) {
    r.add(
      "error",
      "approval-threshold-not-met",
      at,
      where,
      `the fast-path settlement rests on ${count} officer(s) of ${r.carrierLabel(carrierId)}; its threshold was ${threshold}`,
    );
  }
  return signers;
}
