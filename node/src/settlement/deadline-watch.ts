/**
 * The deadline watch of the running node (`icl run`): for every agreement-period this node is party to
 * that is not Settled or Void, it reads the period's state and deadlines on the ledger and
 *
 * - warns officers (log line and stored alert) when the window that matters in that state closes
 *   within `warnBeforeMs` of the chain's latest block time, and once it has closed, says what the
 *   closing means (only a dispute is left, escalation is open…); a period this node leaves to the
 *   co-signed fast path is not late until the node is due to commit it itself (`settlement.fastPathFallbackMs`);
 * - takes the default actions anyone may take with the node key: `settle` an Approved period and
 *   `settlePartial` once both carriers approved the undisputed part (when `autoSettle`), after checking
 *   that the paying carrier's reservation and available escrow cover the net; `release` this carrier's
 *   reservation once the approval that made it lapsed without the partner's approval;
 * - records the transitions that need no transaction when it sees them (Defaulted → Uncontested,
 *   lapsed arbitration → Resolved at the mean of the claims).
 *
 * Officer-only steps (contest, propose, accept, escalate, approve) are never taken with the node key:
 * the watch warns instead. Each alert is stored once per (agreement, period, round, kind, deadline)
 * and logged only when it is new, so polling every few seconds does not repeat it.
 *
 * Kinds: `commit-window`, `reveal-window`, `reconcile-window`, `reconcile-closed`, `contest-window`,
 * `default-pending`, `uncontested`, `response-window`, `escalation-open`, `arbitration-window`,
 * `arbitration-lapsed`, `approval-needed`, `settle-needed`, `partial-settle-needed`, `settled`,
 * `partial-settled`, `escrow-short`, `partial-escrow-short`, `settle-failed`, `reservation-lapsed`,
 * `reservation-released`, `release-failed`, `void`.
 *
 * This file reads each period and keeps the pass going; the per-state rules and their messages are in
 * deadline-watch-rules.ts, the auto-settlement in deadline-watch-settle.ts, and the period's facts and
 * the alert helpers they share in deadline-watch-period.ts.
 */
import type { ChainClient } from "../chain/client";
import type { PeriodStateName } from "../protocol";
import { listAgreements, type LocalAgreement } from "../db/agreements";
import { listWatchedPeriods, type AlertLevel } from "../db/alerts";
import type { Database } from "../db/database";
import { BaseError } from "../errors";
import type { Logger } from "../logger";
import { DEFAULT_FAST_PATH, type FastPathOptions } from "../reconciliation/fast-path";
import { readPeriodFacts, type PeriodFacts, type WatchScope } from "./deadline-watch-period";
import { judge } from "./deadline-watch-rules";

export { when } from "./deadline-watch-period";

export interface WatchOptions {
  /** How long before a window closes the watch warns, milliseconds. */
  warnBeforeMs: number;
  /** Whether the node settles Approved periods and agreed partial settlements itself. */
  autoSettle: boolean;
}

/** The config defaults (`watch.*` in config.json). */
export const DEFAULT_WATCH_OPTIONS: WatchOptions = { warnBeforeMs: 86_400_000, autoSettle: true };

export interface WatchParts {
  db: Database;
  chain: ChainClient;
  logger: Logger;
  /** This node's carrier id on the ledger. */
  carrierId: string;
  options?: Partial<WatchOptions>;
  /**
   * The node's fast-path settings (`settlement.*`, defaults as the runner's): a period left to the fast
   * path gets no commit warning until the node is due to commit it itself.
   */
  fastPath?: Partial<FastPathOptions>;
}

export interface WatchAlert {
  agreement: string;
  agreementId: string;
  period: number;
  round: number;
  level: AlertLevel;
  kind: string;
  deadline: number | null;
  message: string;
  txHash: string | null;
}

export interface WatchReport {
  /** Alerts recorded for the first time in this check (ones recorded before are not repeated). */
  alerts: WatchAlert[];
  /** Settlements the node sent in this check. */
  settled: { agreement: string; period: number; partial: boolean; txHash: string }[];
  /** Lapsed reservations of this carrier the node released in this check. */
  released: { agreement: string; period: number; partial: boolean; txHash: string }[];
  /** Periods the watch could not look at this time; tried again next check. */
  deferred: { agreement: string; period: number; step: string; error: string }[];
}

const FINAL_STATES: ReadonlySet<PeriodStateName> = new Set(["Settled", "Void"]);

/** Watches this node's periods; `check()` once per runner pass. */
export class DeadlineWatch {
  private readonly options: WatchOptions;
  private readonly fastPath: FastPathOptions;
  private readonly done = new Set<string>();

  constructor(private readonly parts: WatchParts) {
    this.options = { ...DEFAULT_WATCH_OPTIONS, ...parts.options };
    this.fastPath = { ...DEFAULT_FAST_PATH, ...parts.fastPath };
  }

  /**
   * Looks at every period once. Never throws for one period's failure (see `deferred`).
   * @throws BaseError when the database or the chain's latest block cannot be read at all.
   */
  async check(): Promise<WatchReport> {
    const { db, chain } = this.parts;
    const report: WatchReport = { alerts: [], settled: [], released: [], deferred: [] };
    const scope: WatchScope = { parts: this.parts, options: this.options, fastPath: this.fastPath, report };
    // Raw JSON-RPC: ethers may answer "latest" from a cached block number.
    const latest = (await chain.provider.send("eth_getBlockByNumber", ["latest", false])) as {
      timestamp?: string;
    } | null;
    if (!latest?.timestamp) throw new BaseError("the chain has no latest block");
    const now = Number(BigInt(latest.timestamp));
    const agreements = new Map((await listAgreements(db)).map((a) => [a.agreementId, a]));
    const keys = new Map<string, { agreementId: string; period: number; implicit: boolean }>();
    // The month that ended last (by chain time) of every agreement, so a period nobody committed yet
    // is watched too: its commit window is the first one that can be missed.
    const lastEnded = lastEndedPeriod(now);
    for (const agreementId of agreements.keys())
      keys.set(`${agreementId}:${lastEnded}`, { agreementId, period: lastEnded, implicit: true });
    for (const p of await listWatchedPeriods(db, chain.chainId))
      keys.set(`${p.agreementId}:${p.period}`, { ...p, implicit: false });
    for (const [key, item] of keys) {
      const agreement = agreements.get(item.agreementId);
      if (agreement === undefined || this.done.has(key)) continue;
      let facts: PeriodFacts;
      try {
        facts = await readPeriodFacts(chain, agreement, item.period, now);
      } catch (error) {
        // A month before the agreement's first period has no terms: nothing to watch.
        if (!item.implicit) this.defer(report, agreement, item.period, "read the period", error);
        continue;
      }
      try {
        await judge(scope, facts);
        if (FINAL_STATES.has(facts.state)) this.done.add(key);
      } catch (error) {
        this.defer(report, agreement, item.period, "watch deadlines", error);
      }
    }
    return report;
  }

  private defer(
    report: WatchReport,
    agreement: LocalAgreement,
    period: number,
    step: string,
    error: unknown,
  ) {
    const text = describe(error);
    report.deferred.push({ agreement: agreement.name, period, step, error: text });
    this.parts.logger.warn(`could not ${step}; trying again next pass`, {
      agreement: agreement.name,
      period,
      error: text,
    });
  }
}

/** The month (YYYYMM) that ended last before `now` (unix seconds, UTC). */
export function lastEndedPeriod(now: number): number {
  const date = new Date(now * 1000);
  const [year, month] = [date.getUTCFullYear(), date.getUTCMonth()];
  return month === 0 ? (year - 1) * 100 + 12 : year * 100 + month;
}

function describe(error: unknown): string {
  if (error instanceof BaseError)
    return error.details ? `${error.shortMessage} (${error.details})` : error.shortMessage;
  return error instanceof Error ? error.message : String(error);
}
