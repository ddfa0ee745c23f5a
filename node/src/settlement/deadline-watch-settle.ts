/**
 * The deadline watch's default actions (deadline-watch.ts), with the node key (when `watch.autoSettle`):
 * settling an Approved period, or the undisputed part once both carriers approved it, and releasing a
 * reservation of this node's carrier whose approval lapsed unmatched (`release`: the escrow becomes
 * available again, the carrier's approval is withdrawn with it). Before settling it checks that the
 * paying carrier's reservation and available escrow cover the net, and alerts instead when they do not;
 * a settlement or release that someone else (e.g. the partner's node) sent first is not an error: the
 * next check sees the new state.
 */
import { settleRequest } from "./settle-requests";
import { ContractRevertError } from "../chain/errors";
import { alert, token, type PeriodFacts, type WatchScope } from "./deadline-watch-period";
import { PERIOD_FLAGS } from "../protocol";
import { isoTime } from "./period-context";
import { escrowAccount, readReservation, releasable } from "./reservations";
import { settleStep } from "./settleable";

const { PARTIAL_APPROVED_A, PARTIAL_APPROVED_B, PARTIAL_SETTLED, SETTLED } = PERIOD_FLAGS;

/** Reverts of a settlement someone else sent first. */
const SETTLED_BY_OTHERS: ReadonlySet<string> = new Set(["LedgerUnexpectedState", "LedgerPartialNotReady"]);
/** Reverts of a release someone else sent first, or that the partner's approval made impossible. */
const RELEASED_BY_OTHERS: ReadonlySet<string> = new Set(["LedgerNoReservation", "LedgerReservationBound"]);

/**
 * Releases the period's reservation when it is this node's carrier's, its approval's deadline has
 * passed and the partner's approval did not bind it: the reserved escrow becomes available again and
 * our approval is withdrawn (officers approve again to settle). Without the key or with autoSettle
 * off it alerts instead.
 * @throws BaseError when the chain or the database cannot be read, or the transaction cannot be sent.
 */
export async function releaseLapsed(w: WatchScope, f: PeriodFacts): Promise<void> {
  const { chain, carrierId } = w.parts;
  const reservation = await readReservation(chain, f.terms, f.agreement.agreementId, f.period);
  if (reservation.payer !== carrierId.toLowerCase()) return;
  if (!releasable(reservation, f.flags, f.state, BigInt(f.now))) return;
  const kind = reservation.partialSettlement ? "partial reservation" : "reservation";
  const what =
    `our ${kind} of ${await token(w, f, reservation.amount)} lapsed with the approval that made it ` +
    `(${isoTime(reservation.expiresAt)}) before the partner approved`;
  const deadline = Number(reservation.expiresAt);
  if (!w.options.autoSettle || chain.transactions === null) {
    const why = chain.transactions === null ? "the node has no key" : "watch.autoSettle is off";
    await alert(
      w,
      f,
      "warning",
      "reservation-lapsed",
      deadline,
      `${what}; ${why}: anyone may call release(${f.agreement.agreementId}, ${f.period}) to free it`,
    );
    return;
  }
  let result;
  try {
    result = await chain.transactions.send({
      kind: "release",
      idempotencyKey: `release:${f.agreement.agreementId}:${f.period}:${reservation.partialSettlement ? "partial" : "final"}:${reservation.expiresAt}`,
      to: chain.deployment.ledger,
      data: chain.ledger.interface.encodeFunctionData("release", [f.agreement.agreementId, f.period]),
    });
  } catch (error) {
    if (error instanceof ContractRevertError && RELEASED_BY_OTHERS.has(error.errorName)) return;
    throw error;
  }
  if (result.status !== "confirmed") {
    await alert(
      w,
      f,
      "error",
      "release-failed",
      deadline,
      `${what}; the release ${result.txHash} reverted (${result.error ?? "no reason"})`,
      result.txHash,
    );
    return;
  }
  w.report.released.push({
    agreement: f.agreement.name,
    period: f.period,
    partial: reservation.partialSettlement,
    txHash: result.txHash,
  });
  await alert(
    w,
    f,
    "action",
    "reservation-released",
    deadline,
    `${what}: released in ${result.txHash}; the escrow is available again and our approval is withdrawn ` +
      "(officers approve again to settle)",
    result.txHash,
  );
}

/**
 * Settles the undisputed part once both carriers approved it (and it is not settled yet).
 * @throws BaseError when the chain or the database cannot be read, or the transaction cannot be sent.
 */
export async function settleAgreedPart(w: WatchScope, f: PeriodFacts): Promise<void> {
  const both = PARTIAL_APPROVED_A | PARTIAL_APPROVED_B;
  if ((f.flags & PARTIAL_SETTLED) !== 0n || (f.flags & both) !== both) return;
  await settleNow(w, f);
}

/**
 * Settles what the period allows now (settleable.ts): the final net less any partial settlement, or the partial one.
 * @throws BaseError when the chain or the database cannot be read, or the transaction cannot be sent.
 */
export async function settleNow(w: WatchScope, f: PeriodFacts): Promise<void> {
  const { agreementId, name } = f.agreement;
  const step = await settleStep(w.parts.chain, w.parts.db, { agreementId, period: f.period, name });
  const p = step.period;
  await send(w, f, step.kind === "settlePartial", p.amountAB - p.amountBA - p.alreadySettledNet, p.reserved);
}

async function send(
  w: WatchScope,
  f: PeriodFacts,
  partial: boolean,
  net: bigint,
  reserved: bigint,
): Promise<void> {
  const { chain } = w.parts;
  const prefix = partial ? "partial-" : "";
  const step = partial ? "settle the undisputed part" : "settle";
  if (!w.options.autoSettle || chain.transactions === null) {
    const why = chain.transactions === null ? "the node has no key" : "watch.autoSettle is off";
    await alert(
      w,
      f,
      "warning",
      `${prefix}settle-needed`,
      null,
      `${partial ? "both carriers approved the undisputed part" : "the period is Approved"}; ${why}: anyone may ` +
        `call ${partial ? "settlePartial" : "settle"}(${f.agreement.agreementId}, ${f.period}) on the ledger`,
    );
    return;
  }
  const payer = net > 0n ? f.terms.carrierA : f.terms.carrierB;
  const needed = net < 0n ? -net : net;
  if (needed > 0n) {
    // The payer spends its reservation for this settlement, then its available escrow, never more.
    const available = (await escrowAccount(chain, payer, f.terms.token)).available + reserved;
    if (available < needed) {
      await short(w, f, prefix, step, payer, needed, available);
      return;
    }
  }
  let result;
  try {
    result = await chain.transactions.send(settleRequest(chain, partial, f.agreement.agreementId, f.period));
  } catch (error) {
    // The escrow was withdrawn between the check and the gas estimate: the same alert.
    if (error instanceof ContractRevertError && error.errorName === "LedgerInsufficientEscrow") {
      const { carrierId, needed: n, available: a } = error.args as Record<string, string | bigint>;
      await short(w, f, prefix, step, String(carrierId), BigInt(n!), BigInt(a!));
      return;
    }
    // Someone else (e.g. the partner's node) settled first: the next check sees the new state.
    if (error instanceof ContractRevertError && SETTLED_BY_OTHERS.has(error.errorName)) return;
    throw error;
  }
  if (result.status !== "confirmed") {
    const flags = BigInt((await chain.ledger.periodRecord(f.agreement.agreementId, f.period)).flags);
    if ((flags & (partial ? PARTIAL_SETTLED : SETTLED)) !== 0n) return; // settled by someone else
    await alert(
      w,
      f,
      "error",
      "settle-failed",
      null,
      `could not ${step}: ${result.txHash} reverted (${result.error ?? "no reason"})`,
      result.txHash,
    );
    return;
  }
  w.report.settled.push({ agreement: f.agreement.name, period: f.period, partial, txHash: result.txHash });
  await alert(
    w,
    f,
    "action",
    `${prefix}settled`,
    null,
    `${partial ? "settled the undisputed part" : "settled the period"}: ${await token(w, f, needed)} ` +
      `${net === 0n ? "(nothing to move)" : `from ${escrowName(f, payer)} to ${escrowName(f, payer === f.terms.carrierA ? f.terms.carrierB : f.terms.carrierA)}`} in ${result.txHash}`,
    result.txHash,
  );
}

/** The `escrow-short` alert: the payer's reservation and available escrow are less than the net, so nothing is sent. */
async function short(
  w: WatchScope,
  f: PeriodFacts,
  prefix: string,
  step: string,
  payer: string,
  needed: bigint,
  available: bigint,
): Promise<void> {
  await alert(
    w,
    f,
    "error",
    `${prefix}escrow-short`,
    null,
    `cannot ${step}: ${escrowName(f, payer)} can spend ${await token(w, f, available)}, the net is ` +
      `${await token(w, f, needed)}; ${payer === w.parts.carrierId ? "deposit" : "the partner must deposit"} ` +
      `${await token(w, f, needed - available)} more (top-up ${needed - available} units); nothing was sent`,
  );
}

/** "our escrow" or "the partner's escrow". */
function escrowName(f: PeriodFacts, carrierId: string): string {
  const ours = (f.agreement.side === "A" ? f.terms.carrierA : f.terms.carrierB) === carrierId;
  return ours ? "our escrow" : "the partner's escrow";
}
