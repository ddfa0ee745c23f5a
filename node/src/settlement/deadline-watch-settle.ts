/**
 * The deadline watch's default action (deadline-watch.ts): settling an Approved period, or the undisputed
 * part once both carriers approved it, with the node key (when `watch.autoSettle`). Before sending it checks
 * that the paying carrier's escrow covers the net, and alerts instead when it does not; a settlement that
 * someone else (e.g. the partner's node) sent first is not an error: the next check sees the new state.
 */
import { settleRequest } from "./settle-requests";
import { ContractRevertError } from "../chain/errors";
import { alert, token, type PeriodFacts, type WatchScope } from "./deadline-watch-period";
import { PERIOD_FLAGS } from "../protocol";
import { settleStep } from "./settleable";

const { PARTIAL_APPROVED_A, PARTIAL_APPROVED_B, PARTIAL_SETTLED, SETTLED } = PERIOD_FLAGS;

/** Reverts of a settlement someone else sent first. */
const SETTLED_BY_OTHERS: ReadonlySet<string> = new Set(["LedgerUnexpectedState", "LedgerPartialNotReady"]);

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
  await send(w, f, step.kind === "settlePartial", p.amountAB - p.amountBA - p.alreadySettledNet);
}

async function send(w: WatchScope, f: PeriodFacts, partial: boolean, net: bigint): Promise<void> {
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
    const available = await chain.ledger.escrowOf(payer, f.terms.token);
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

/** The `escrow-short` alert: the payer's escrow holds less than the net, so nothing is sent. */
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
    `cannot ${step}: ${escrowName(f, payer)} holds ${await token(w, f, available)}, the net is ` +
      `${await token(w, f, needed)}; ${payer === w.parts.carrierId ? "deposit" : "the partner must deposit"} ` +
      `${await token(w, f, needed - available)} more (top-up ${needed - available} units); nothing was sent`,
  );
}

/** "our escrow" or "the partner's escrow". */
function escrowName(f: PeriodFacts, carrierId: string): string {
  const ours = (f.agreement.side === "A" ? f.terms.carrierA : f.terms.carrierB) === carrierId;
  return ours ? "our escrow" : "the partner's escrow";
}
