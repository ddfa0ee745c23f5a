/**
 * One period in one pass of the deadline watch (deadline-watch.ts): the facts read from the ledger once,
 * and the alert, wording and clock helpers that the per-state rules (deadline-watch-rules.ts) and the
 * auto-settlement (deadline-watch-settle.ts) share.
 */
import { ZeroHash } from "ethers";
import type { ChainClient } from "../chain/client";
import type { PeriodStateName } from "../protocol";
import type { LocalAgreement } from "../db/agreements";
import type { FastPathOptions } from "../reconciliation/fast-path";
import { recordAlert, type AlertLevel } from "../db/alerts";
import { formatPeriod, periodState } from "../reconciliation/reveal";
import type { WatchOptions, WatchParts, WatchReport } from "./deadline-watch";
import { formatAmount, isoTime, tokenInfo } from "./period-context";

const REVEALED = 1n;

/** Everything one period's check needs, read once. */
export interface PeriodFacts {
  agreement: LocalAgreement;
  period: number;
  state: PeriodStateName;
  round: number;
  /** The chain's latest block time, unix seconds. */
  now: number;
  deadlines: {
    commit: number;
    reveal: number;
    reconcile: number;
    defaultDispute: number;
    response: number;
    arbitration: number;
    /** Binding outcomes: the last second to approve before anyone may settle without approvals (0 otherwise). */
    approval: number;
  };
  ours: { committed: boolean; revealed: boolean };
  flags: bigint;
  claims: { abA: bigint; baA: bigint; abB: bigint; baB: bigint };
  terms: { carrierA: string; carrierB: string; token: string };
}

/** What one pass of the watch works with: its parts, the resolved options and the report it fills. */
export interface WatchScope {
  parts: WatchParts;
  options: WatchOptions;
  /** The node's fast-path settings, resolved. */
  fastPath: FastPathOptions;
  report: WatchReport;
}

/**
 * Reads the period's state, deadlines, record and terms from the chain.
 * @throws BaseError when the chain cannot be read, or the period has no terms (before the agreement's first period).
 */
export async function readPeriodFacts(
  chain: ChainClient,
  agreement: LocalAgreement,
  period: number,
  now: number,
): Promise<PeriodFacts> {
  const { ledger, book } = chain;
  const id = agreement.agreementId;
  const [state, dl, record, [terms]] = await Promise.all([
    periodState(chain, id, period),
    ledger.deadlines(id, period),
    ledger.periodRecord(id, period),
    book.termsAt(id, period),
  ]);
  const a = { hash: record.hashA, status: BigInt(record.statusA) };
  const b = { hash: record.hashB, status: BigInt(record.statusB) };
  const ours = agreement.side === "A" ? a : b;
  return {
    agreement,
    period,
    state,
    round: Number(record.round),
    now,
    deadlines: {
      commit: Number(dl.commitDeadline),
      reveal: Number(dl.revealDeadline),
      reconcile: Number(dl.reconcileDeadline),
      defaultDispute: Number(dl.defaultDisputeDeadline),
      response: Number(dl.responseDeadline),
      arbitration: Number(dl.arbitrationDeadline),
      approval: Number(dl.approvalDeadline),
    },
    ours: { committed: ours.hash !== ZeroHash, revealed: ours.status === REVEALED },
    flags: BigInt(record.flags),
    claims: {
      abA: record.amountABofA,
      baA: record.amountBAofA,
      abB: record.amountABofB,
      baB: record.amountBAofB,
    },
    terms: { carrierA: terms.carrierA, carrierB: terms.carrierB, token: terms.token },
  };
}

/** Whether `deadline` (unix seconds, 0 when unset) is within the warning lead of `now`. */
export function within(options: WatchOptions, now: number, deadline: number): boolean {
  return deadline > 0 && (deadline - now) * 1000 <= options.warnBeforeMs;
}

/**
 * Stores the alert; when it is new (not stored before for the same period, round, kind and deadline),
 * adds it to the report and logs it at its level.
 * @throws BaseError when the database cannot be written.
 */
export async function alert(
  w: WatchScope,
  f: PeriodFacts,
  level: AlertLevel,
  kind: string,
  deadline: number | null,
  text: string,
  txHash: string | null = null,
): Promise<void> {
  const message = `period ${f.agreement.name} ${formatPeriod(f.period)}: ${text}`;
  const base = { agreementId: f.agreement.agreementId, period: f.period, round: f.round };
  const id = await recordAlert(w.parts.db, { ...base, level, kind, deadline, message, txHash });
  if (id === null) return;
  w.report.alerts.push({ ...base, agreement: f.agreement.name, level, kind, deadline, message, txHash });
  const fields = { ...base, kind, deadline, ...(txHash === null ? {} : { txHash }) };
  const log = w.parts.logger;
  (level === "error" ? log.error : level === "action" ? log.info : log.warn).call(log, message, fields);
}

/**
 * "A→B 12.500000 ICUSD, B→A 3.000000 ICUSD".
 * @throws BaseError when the token's metadata cannot be read.
 */
export async function figures(w: WatchScope, f: PeriodFacts, ab: bigint, ba: bigint): Promise<string> {
  return `A→B ${await token(w, f, ab)}, B→A ${await token(w, f, ba)}`;
}

/**
 * An amount of the agreement's token, e.g. `12.500000 ICUSD`.
 * @throws BaseError when the token's metadata cannot be read.
 */
export async function token(w: WatchScope, f: PeriodFacts, amount: bigint): Promise<string> {
  return formatAmount(amount, await tokenInfo(w.parts.chain, f.terms.token));
}

/** "A-B 2030-01", the AGREEMENT PERIOD arguments of the officers' commands. */
export function ref(f: PeriodFacts): string {
  return `${f.agreement.name} ${formatPeriod(f.period)}`;
}

/** "at 2030-02-04T00:01:00Z (in 5 h 3 min)" or "at … (2 d 1 h ago)". */
export function when(deadline: number, now: number): string {
  const left = deadline - now;
  const span = Math.abs(left);
  const parts =
    span >= 86_400
      ? [`${Math.floor(span / 86_400)} d`, `${Math.floor((span % 86_400) / 3600)} h`]
      : span >= 3600
        ? [`${Math.floor(span / 3600)} h`, `${Math.floor((span % 3600) / 60)} min`]
        : [`${Math.floor(span / 60)} min`];
  const text = parts.filter((p) => !p.startsWith("0 ")).join(" ") || "0 min";
  return `at ${isoTime(deadline)} (${left >= 0 ? `in ${text}` : `${text} ago`})`;
}
