/**
 * Settlements and escrow replayed against the approved figures: a `Settled` event must come in the
 * right state (Approved; Uncontested or Resolved past its approval deadline; or Disputed/Escalated with
 * both partial approvals for the undisputed part), in the agreement's token, and move exactly the approved
 * net (less any partial settlement), from the payer's reservation where it holds one
 * (reservation-steps.ts); escrow is rebuilt from
 * `Deposited`, `Withdrawn` and `EscrowMoved`; and per transaction the escrow moved must equal the
 * nets of the settlements it emitted (single settlement or a whole `settleBatch`).
 */
import { getAddress } from "ethers";
import { SettlementLedger__factory } from "../../../typechain-types";
import { argBig, argBool, argString, type AuditEvent } from "./events";
import {
  approvalDeadline,
  derivedState,
  DISPUTE_STATES,
  finalFigures,
  partialFigures,
  type PeriodModel,
  type Terms,
} from "./model";
import { addTo, escrowKey, periodKey, place, type ReplayContext, type TxScope } from "./replay-context";
import { consumeReservation } from "./reservation-steps";

const LEDGER = SettlementLedger__factory.createInterface();

/** Applies a `Settled` event (partial or final) and books what it says must move in escrow. */
export function applySettled(
  r: ReplayContext,
  e: AuditEvent,
  p: PeriodModel,
  terms: Terms,
  now: number,
): void {
  r.counts.settlements++;
  const at = place(e);
  const where = { agreementId: p.agreementId, period: p.period };
  const partial = argBool(e, "partialSettlement");
  const ab = argBig(e, "amountAB");
  const ba = argBig(e, "amountBA");
  const net = argBig(e, "netAB");
  const token = argString(e, "token");
  if (token.toLowerCase() !== terms.token.toLowerCase()) {
    r.add(
      "error",
      "settlement-mismatch",
      at,
      where,
      `settled in ${token}, the agreement settles in ${terms.token}`,
    );
  }
  const state = derivedState(p, terms, now);
  let expected: { amountAB: bigint; amountBA: bigint };
  let expectedNet: bigint;
  if (partial) {
    if (
      !DISPUTE_STATES.includes(state) ||
      !p.partialApproved[0] ||
      !p.partialApproved[1] ||
      p.partialSettled
    ) {
      r.add(
        "error",
        "unexpected-event",
        at,
        where,
        `partial settlement while the period was ${state} (partial approvals A ${p.partialApproved[0]}, ` +
          `B ${p.partialApproved[1]}, already partially settled ${p.partialSettled})`,
      );
    }
    expected = partialFigures(p);
    expectedNet = expected.amountAB - expected.amountBA;
    p.partialSettled = true;
    p.partialNet = net;
  } else {
    // Approved, or a binding outcome whose approval deadline passed without both approvals (M-4).
    const deadline = approvalDeadline(p, terms, now);
    if (state !== "Approved" && !(deadline !== 0 && now > deadline)) {
      r.add(
        "error",
        "unexpected-event",
        at,
        where,
        deadline !== 0
          ? `settlement while the period was ${state} before its approval deadline ${deadline}, not Approved`
          : `settlement while the period was ${state}, not Approved`,
      );
    }
    expected = finalFigures(p, terms, now);
    expectedNet = expected.amountAB - expected.amountBA - (p.partialSettled ? p.partialNet : 0n);
    p.settled = true;
  }
  if (ab !== expected.amountAB || ba !== expected.amountBA || net !== expectedNet) {
    r.add(
      "error",
      "settlement-mismatch",
      at,
      where,
      `settled ${ab}/${ba} moving ${net} A→B; the approved figures are ${expected.amountAB}/${expected.amountBA}` +
        (partial ? "" : p.partialSettled ? ` less the partial settlement's ${p.partialNet}` : "") +
        `, moving ${expectedNet}`,
    );
  }
  const tx = r.currentTx;
  if (tx !== null) {
    addTo(tx.expected, escrowKey(terms.carrierA, token), -net);
    addTo(tx.expected, escrowKey(terms.carrierB, token), net);
    tx.settledPeriods.push(p);
  }
  consumeReservation(r, e, p, terms, partial, expectedNet);
}

/** Applies `Deposited`, `Withdrawn` or `EscrowMoved` to the carrier's escrow account. */
export function applyEscrow(r: ReplayContext, e: AuditEvent): void {
  const carrierId = argString(e, "carrierId").toLowerCase();
  const token = getAddress(argString(e, "token"));
  const key = escrowKey(carrierId, token);
  const account = r.escrow.get(key) ?? { carrierId, token, amount: 0n, last: place(e) };
  account.last = place(e);
  if (e.name === "Deposited") account.amount += argBig(e, "amount");
  else if (e.name === "Withdrawn") account.amount -= argBig(e, "amount");
  else {
    const delta = argBig(e, "delta");
    account.amount += delta;
    if (r.currentTx !== null) addTo(r.currentTx.moved, key, delta);
  }
  if (account.amount < 0n) {
    r.add(
      "error",
      "escrow-mismatch",
      place(e),
      { agreementId: null, period: null },
      `the escrow of ${r.carrierLabel(carrierId)} in ${token} went negative (${account.amount})`,
    );
  }
  r.escrow.set(key, account);
}

/**
 * At the end of a transaction: the escrow it moved must equal the nets of its `Settled` events. A
 * difference names the settled periods, or, when no `Settled` was seen, the periods the call names.
 */
export async function checkEscrowMoved(r: ReplayContext, tx: TxScope): Promise<void> {
  const at = { block: tx.block, tx: tx.hash };
  const keys = new Set([...tx.expected.keys(), ...tx.moved.keys()]);
  const wrong = [...keys].filter((k) => (tx.expected.get(k) ?? 0n) !== (tx.moved.get(k) ?? 0n));
  if (wrong.length === 0) return;
  const details = wrong
    .map((k) => {
      const [carrierId, token] = k.split("|") as [string, string];
      return `${r.carrierLabel(carrierId)} ${token}: moved ${tx.moved.get(k) ?? 0n}, settlements say ${tx.expected.get(k) ?? 0n}`;
    })
    .join("; ");
  const named =
    tx.settledPeriods.length > 0
      ? tx.settledPeriods.map((p) => ({ agreementId: p.agreementId, period: p.period }))
      : await periodsOfCall(r, tx.hash);
  if (named.length === 0) named.push({ agreementId: "", period: 0 });
  for (const n of named) {
    const where = n.agreementId === "" ? { agreementId: null, period: null } : n;
    r.add(
      "error",
      "netting-mismatch",
      at,
      where,
      `${tx.settledPeriods.length === 0 ? "escrow moved without a Settled event in this transaction: " : ""}${details}`,
    );
    if (n.agreementId !== "") r.extras.set(periodKey(n.agreementId, n.period), { unexplained: at });
  }
}

/**
 * The periods a settling transaction names in its calldata (settle, settlePartial, settleBatch,
 * approveAndSettle, revealAndSettle, settleFastPath).
 */
async function periodsOfCall(
  r: ReplayContext,
  hash: string,
): Promise<{ agreementId: string; period: number }[]> {
  const tx = await r.chain.transaction(hash);
  if (tx === null || tx.to === null || tx.to.toLowerCase() !== r.chain.ledgerAddress.toLowerCase()) return [];
  const call = LEDGER.parseTransaction({ data: tx.data });
  if (call === null) return [];
  const one = (agreementId: unknown, period: unknown) => ({
    agreementId: String(agreementId).toLowerCase(),
    period: Number(period),
  });
  if (call.name === "settle" || call.name === "settlePartial") return [one(call.args[0], call.args[1])];
  if (call.name === "approveAndSettle" || call.name === "revealAndSettle" || call.name === "settleFastPath") {
    const named = call.args[0] as { agreementId: string; period: bigint };
    return [one(named.agreementId, named.period)];
  }
  if (call.name === "settleBatch") {
    return (call.args[1] as { agreementId: string; period: bigint }[]).map((k) =>
      one(k.agreementId, k.period),
    );
  }
  return [];
}
