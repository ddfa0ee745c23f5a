/**
 * The deadline watch of the running node (`icl run`): for every agreement-period this node is party to
 * that is not Settled or Void, it reads the period's state and deadlines on the ledger and
 *
 * - warns officers (log line and stored alert) when the window that matters in that state closes
 *   within `warnBeforeMs` of the chain's latest block time, and once it has closed, says what the
 *   closing means (only a dispute is left, escalation is open…);
 * - takes the default actions anyone may take with the node key: `settle` an Approved period and
 *   `settlePartial` once both carriers approved the undisputed part (when `autoSettle`), after checking
 *   that the paying carrier's escrow covers the net;
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
 * `partial-settled`, `escrow-short`, `partial-escrow-short`, `settle-failed`, `void`.
 */
import { ZeroHash } from "ethers";
import type { ChainClient } from "../chain/client";
import { ContractRevertError } from "../chain/errors";
import type { PeriodStateName } from "../chain/period-states";
import { listAgreements, type LocalAgreement } from "../db/agreements";
import { recordAlert, listWatchedPeriods, type AlertLevel } from "../db/alerts";
import type { Database } from "../db/database";
import { BaseError } from "../errors";
import type { Logger } from "../logger";
import { formatPeriod, periodState } from "../reconciliation/reveal";
import { formatAmount, isoTime, tokenInfo } from "./period-context";
import { PARTIAL_APPROVED_A, PARTIAL_APPROVED_B, PARTIAL_SETTLED, SETTLED, settleStep } from "./settleable";

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
  /** Periods the watch could not look at this time; tried again next check. */
  deferred: { agreement: string; period: number; step: string; error: string }[];
}

const FINAL_STATES: ReadonlySet<PeriodStateName> = new Set(["Settled", "Void"]);
const REVEALED = 1n;
/** Reverts of a settlement someone else sent first. */
const SETTLED_BY_OTHERS: ReadonlySet<string> = new Set(["LedgerUnexpectedState", "LedgerPartialNotReady"]);
const MAX_ROUNDS = 3;

/** Everything one period's check needs, read once. */
interface PeriodFacts {
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
  };
  ours: { committed: boolean; revealed: boolean };
  flags: bigint;
  claims: { abA: bigint; baA: bigint; abB: bigint; baB: bigint };
  terms: { carrierA: string; carrierB: string; token: string };
}

/** Watches this node's periods; `check()` once per runner pass. */
export class DeadlineWatch {
  private readonly options: WatchOptions;
  private readonly done = new Set<string>();

  constructor(private readonly parts: WatchParts) {
    this.options = { ...DEFAULT_WATCH_OPTIONS, ...parts.options };
  }

  /**
   * Looks at every period once. Never throws for one period's failure (see `deferred`).
   * @throws BaseError when the database or the chain's latest block cannot be read at all.
   */
  async check(): Promise<WatchReport> {
    const { db, chain } = this.parts;
    const report: WatchReport = { alerts: [], settled: [], deferred: [] };
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
        facts = await this.read(agreement, item.period, now);
      } catch (error) {
        // A month before the agreement's first period has no terms: nothing to watch.
        if (!item.implicit) this.defer(report, agreement, item.period, "read the period", error);
        continue;
      }
      try {
        await this.judge(facts, report);
        if (FINAL_STATES.has(facts.state)) this.done.add(key);
      } catch (error) {
        this.defer(report, agreement, item.period, "watch deadlines", error);
      }
    }
    return report;
  }

  private async read(agreement: LocalAgreement, period: number, now: number): Promise<PeriodFacts> {
    const { ledger, book } = this.parts.chain;
    const id = agreement.agreementId;
    const [state, dl, record, [terms]] = await Promise.all([
      periodState(this.parts.chain, id, period),
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

  /** Decides, for the period's state, which window matters and what (if anything) to do. */
  private async judge(f: PeriodFacts, report: WatchReport): Promise<void> {
    const dl = f.deadlines;
    const soon = (deadline: number) => f.now <= deadline && this.within(f.now, deadline);
    const warn = (kind: string, deadline: number | null, text: string) =>
      this.alert(report, f, "warning", kind, deadline, text);
    switch (f.state) {
      case "Committing":
        if (!f.ours.committed && soon(dl.commit))
          await warn(
            "commit-window",
            dl.commit,
            `the commit window closes ${when(dl.commit, f.now)} and this node has not committed: officers, ` +
              `run icl period close --agreement ${f.agreement.name} --period ${formatPeriod(f.period)} ` +
              "(without a commitment the partner's figures stand, or the period is Void)",
          );
        return;
      case "Revealing":
        if (f.ours.committed && !f.ours.revealed && soon(dl.reveal))
          await warn(
            "reveal-window",
            dl.reveal,
            `the reveal window closes ${when(dl.reveal, f.now)} and this node has not revealed; the running ` +
              `node reveals on its own, or run icl period reveal --agreement ${f.agreement.name} ` +
              `--period ${formatPeriod(f.period)} (unrevealed, the partner's figures stand)`,
          );
        return;
      case "Mismatched": {
        const correctable = f.round + 1 < MAX_ROUNDS;
        if (soon(dl.reconcile))
          await warn(
            "reconcile-window",
            dl.reconcile,
            `the figures do not match; the reconcile window closes ${when(dl.reconcile, f.now)}: ` +
              (correctable ? "correct them (a new round: both commit and reveal again) or " : "") +
              `an officer opens a dispute (icl dispute open ${ref(f)}); after it only a dispute is possible`,
          );
        else if (f.now > dl.reconcile)
          await warn(
            "reconcile-closed",
            dl.reconcile,
            `the reconcile window closed ${when(dl.reconcile, f.now)}: only a dispute is possible now ` +
              `(an officer: icl dispute open ${ref(f)})`,
          );
        return;
      }
      case "Defaulted":
        if (!f.ours.revealed)
          // We are the silent party: the whole dispute window is the time to react, so warn at once.
          await warn(
            "contest-window",
            dl.defaultDispute,
            `only the partner revealed: unless an officer contests the default ${when(dl.defaultDispute, f.now)}, ` +
              `the partner's figures stand (Uncontested): icl dispute open ${ref(f)} with our figures`,
          );
        else if (soon(dl.defaultDispute))
          await warn(
            "default-pending",
            dl.defaultDispute,
            `the partner did not reveal; unless its officers contest ${when(dl.defaultDispute, f.now)}, ` +
              "the period becomes Uncontested at our figures",
          );
        return;
      case "Disputed":
        await this.disputed(f, report);
        await this.partialSettlement(f, report);
        return;
      case "Escalated": {
        const [ab, ba] = [(f.claims.abA + f.claims.abB) / 2n, (f.claims.baA + f.claims.baB) / 2n];
        if (soon(dl.arbitration))
          await warn(
            "arbitration-window",
            dl.arbitration,
            `the arbiter's window closes ${when(dl.arbitration, f.now)}; without a ruling the period is ` +
              `Resolved at the mean of the two claims: ${await this.figures(f, ab, ba)}`,
          );
        await this.partialSettlement(f, report);
        return;
      }
      case "Approved":
        await this.settle(f, report);
        return;
      case "Void":
        await warn(
          "void",
          dl.reveal,
          "the period is Void (no commitment, or no reveal, in time): nothing to settle on the ledger",
        );
        return;
      case "Matched":
      case "Reconciled":
      case "Uncontested":
      case "Resolved":
        await this.final(f, report);
        return;
      default:
        return;
    }
  }

  /** A final state: record how it was reached when no transaction did it, and ask for approvals. */
  private async final(f: PeriodFacts, report: WatchReport): Promise<void> {
    const { ledger } = this.parts.chain;
    const id = f.agreement.agreementId;
    const dl = f.deadlines;
    if (f.state === "Uncontested")
      await this.alert(
        report,
        f,
        "action",
        "uncontested",
        dl.defaultDispute,
        `the default was not contested by ${isoTime(dl.defaultDispute)}: the period is Uncontested at ` +
          `${f.ours.revealed ? "our" : "the partner's"} figures`,
      );
    if (f.state === "Resolved") {
      const dispute = await ledger.disputeRecord(id, f.period);
      if (dispute.escalatedAt !== 0n && dispute.resolution === 0n) {
        const [ab, ba] = await ledger.approvalFigures(id, f.period, false);
        await this.alert(
          report,
          f,
          "action",
          "arbitration-lapsed",
          dl.arbitration,
          `the arbiter did not rule by ${isoTime(dl.arbitration)}: the period is Resolved at the mean of the ` +
            `claims, ${await this.figures(f, ab, ba)}`,
        );
      }
    }
    // No ledger deadline for approvals: warn at once, so the to-do shows up while it is fresh.
    const [count, threshold, approved] = await ledger.approvalsOf(id, f.period, this.parts.carrierId, false);
    if (!approved)
      await this.alert(
        report,
        f,
        "warning",
        "approval-needed",
        null,
        `the period is ${f.state}: our officers must approve the figures (${count} of ${threshold} so far; ` +
          `icl officer approve ${ref(f)})`,
      );
  }

  private async disputed(f: PeriodFacts, report: WatchReport): Promise<void> {
    const dl = f.deadlines;
    const dispute = await this.parts.chain.ledger.disputeRecord(f.agreement.agreementId, f.period);
    const ourSide = f.agreement.side === "A" ? 1n : 2n;
    if (this.within(f.now, dl.response) && f.now <= dl.response) {
      const proposer = BigInt(dispute.proposer);
      const what =
        proposer === 0n
          ? "no figures are proposed yet: officers may propose"
          : proposer === ourSide
            ? "the partner may accept our proposal"
            : `officers may accept the partner's proposal (${await this.figures(f, dispute.proposedAB, dispute.proposedBA)}) or counter-propose`;
      await this.alert(
        report,
        f,
        "warning",
        "response-window",
        dl.response,
        `dispute: the response window closes ${when(dl.response, f.now)}; ${what}; after it either side may escalate to the arbiter`,
      );
    } else if (f.now > dl.response) {
      await this.alert(
        report,
        f,
        "warning",
        "escalation-open",
        dl.response,
        `dispute: the response window closed ${when(dl.response, f.now)}; an officer may escalate to the ` +
          `arbiter (icl dispute escalate ${ref(f)})`,
      );
    }
  }

  /** Settles the undisputed part once both carriers approved it. */
  private async partialSettlement(f: PeriodFacts, report: WatchReport): Promise<void> {
    const both = PARTIAL_APPROVED_A | PARTIAL_APPROVED_B;
    if ((f.flags & PARTIAL_SETTLED) !== 0n || (f.flags & both) !== both) return;
    await this.settle(f, report);
  }

  /** Settles what the period allows now (settleable.ts): the final net less any partial settlement, or the partial one. */
  private async settle(f: PeriodFacts, report: WatchReport): Promise<void> {
    const { agreementId, name } = f.agreement;
    const step = await settleStep(this.parts.chain, this.parts.db, { agreementId, period: f.period, name });
    const p = step.period;
    await this.send(f, report, step.kind === "settlePartial", p.amountAB - p.amountBA - p.alreadySettledNet);
  }

  private async send(f: PeriodFacts, report: WatchReport, partial: boolean, net: bigint): Promise<void> {
    const { chain } = this.parts;
    const prefix = partial ? "partial-" : "";
    const step = partial ? "settle the undisputed part" : "settle";
    if (!this.options.autoSettle || chain.transactions === null) {
      const why = chain.transactions === null ? "the node has no key" : "watch.autoSettle is off";
      await this.alert(
        report,
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
        await this.short(f, report, prefix, step, payer, needed, available);
        return;
      }
    }
    const key: [string, number] = [f.agreement.agreementId, f.period];
    const iface = chain.ledger.interface;
    let result;
    try {
      result = await chain.transactions.send({
        kind: partial ? "settle-partial" : "settle",
        idempotencyKey: `${partial ? "settle-partial" : "settle"}:${key.join(":")}`,
        to: chain.deployment.ledger,
        data: partial
          ? iface.encodeFunctionData("settlePartial", key)
          : iface.encodeFunctionData("settle", key),
      });
    } catch (error) {
      // The escrow was withdrawn between the check and the gas estimate: the same alert.
      if (error instanceof ContractRevertError && error.errorName === "LedgerInsufficientEscrow") {
        const { carrierId, needed: n, available: a } = error.args as Record<string, string | bigint>;
        await this.short(f, report, prefix, step, String(carrierId), BigInt(n!), BigInt(a!));
        return;
      }
      // Someone else (e.g. the partner's node) settled first: the next check sees the new state.
      if (error instanceof ContractRevertError && SETTLED_BY_OTHERS.has(error.errorName)) return;
      throw error;
    }
    if (result.status !== "confirmed") {
      const flags = BigInt((await chain.ledger.periodRecord(...key)).flags);
      if ((flags & (partial ? PARTIAL_SETTLED : SETTLED)) !== 0n) return; // settled by someone else
      await this.alert(
        report,
        f,
        "error",
        "settle-failed",
        null,
        `could not ${step}: ${result.txHash} reverted (${result.error ?? "no reason"})`,
        result.txHash,
      );
      return;
    }
    report.settled.push({ agreement: f.agreement.name, period: f.period, partial, txHash: result.txHash });
    await this.alert(
      report,
      f,
      "action",
      `${prefix}settled`,
      null,
      `${partial ? "settled the undisputed part" : "settled the period"}: ${await this.token(f, needed)} ` +
        `${net === 0n ? "(nothing to move)" : `from ${escrowName(f, payer)} to ${escrowName(f, payer === f.terms.carrierA ? f.terms.carrierB : f.terms.carrierA)}`} in ${result.txHash}`,
      result.txHash,
    );
  }

  private async short(
    f: PeriodFacts,
    report: WatchReport,
    prefix: string,
    step: string,
    payer: string,
    needed: bigint,
    available: bigint,
  ): Promise<void> {
    await this.alert(
      report,
      f,
      "error",
      `${prefix}escrow-short`,
      null,
      `cannot ${step}: ${escrowName(f, payer)} holds ${await this.token(f, available)}, the net is ` +
        `${await this.token(f, needed)}; ${payer === this.parts.carrierId ? "deposit" : "the partner must deposit"} ` +
        `${await this.token(f, needed - available)} more (top-up ${needed - available} units); nothing was sent`,
    );
  }

  private within(now: number, deadline: number): boolean {
    return deadline > 0 && (deadline - now) * 1000 <= this.options.warnBeforeMs;
  }

  private async alert(
    report: WatchReport,
    f: PeriodFacts,
    level: AlertLevel,
    kind: string,
    deadline: number | null,
    text: string,
    txHash: string | null = null,
  ): Promise<void> {
    const message = `period ${f.agreement.name} ${formatPeriod(f.period)}: ${text}`;
    const base = { agreementId: f.agreement.agreementId, period: f.period, round: f.round };
    const id = await recordAlert(this.parts.db, { ...base, level, kind, deadline, message, txHash });
    if (id === null) return;
    report.alerts.push({ ...base, agreement: f.agreement.name, level, kind, deadline, message, txHash });
    const fields = { ...base, kind, deadline, ...(txHash === null ? {} : { txHash }) };
    const log = this.parts.logger;
    (level === "error" ? log.error : level === "action" ? log.info : log.warn).call(log, message, fields);
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

  private async figures(f: PeriodFacts, ab: bigint, ba: bigint): Promise<string> {
    return `A→B ${await this.token(f, ab)}, B→A ${await this.token(f, ba)}`;
  }

  /** An amount of the agreement's token, e.g. `12.500000 ICUSD`. */
  private async token(f: PeriodFacts, amount: bigint): Promise<string> {
    return formatAmount(amount, await tokenInfo(this.parts.chain, f.terms.token));
  }
}

/** "our escrow" or "the partner's escrow". */
function escrowName(f: PeriodFacts, carrierId: string): string {
  const ours = (f.agreement.side === "A" ? f.terms.carrierA : f.terms.carrierB) === carrierId;
  return ours ? "our escrow" : "the partner's escrow";
}

/** The month (YYYYMM) that ended last before `now` (unix seconds, UTC). */
export function lastEndedPeriod(now: number): number {
  const date = new Date(now * 1000);
  const [year, month] = [date.getUTCFullYear(), date.getUTCMonth()];
  return month === 0 ? (year - 1) * 100 + 12 : year * 100 + month;
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

function describe(error: unknown): string {
  if (error instanceof BaseError)
    return error.details ? `${error.shortMessage} (${error.details})` : error.shortMessage;
  return error instanceof Error ? error.message : String(error);
}

/** "A-B 2030-01", the AGREEMENT PERIOD arguments of the officers' commands. */
function ref(f: PeriodFacts): string {
  return `${f.agreement.name} ${formatPeriod(f.period)}`;
}
