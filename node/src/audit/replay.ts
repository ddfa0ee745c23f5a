/**
 * Replays the decoded events into the model ({@link ./model}) and checks each step against the rules
 * the contract enforces: reveals against commitments (from the reveal transaction's calldata), the
 * evaluation against the agreement's tolerance rule, dispute steps and rulings against the claims,
 * approvals against the officers and thresholds in force at that block, settlements against the
 * approved nets, payers' reservations and their releases, co-signed fast-path settlements against the
 * state, officers and thresholds at their block, and every transaction's escrow movements against the
 * nets it settled.
 *
 * This file drives the replay (transactions, periods, commitments and evaluations); each family of
 * steps has its own module: registry-steps, reveal-steps, dispute-steps, approval-steps,
 * reservation-steps, settlement-steps and fast-path-steps, all working on the {@link ReplayContext} the
 * replay implements.
 */
import type { PeriodStateName } from "../protocol";
import { applyCarrierApproved, applyOfficerApproved, checkApprovalsOwed } from "./approval-steps";
import { applyDisputeStep } from "./dispute-steps";
import { applyFastPathSettled } from "./fast-path-steps";
import { argBig, argString, type AuditEvent, type EventSource } from "./events";
import type { Finding, FindingKind, Place, Severity } from "./findings";
import {
  agreementName,
  carrierName,
  derivedState,
  evaluate,
  MAX_ROUNDS,
  newPeriod,
  OUTCOMES,
  startRound,
  termsAt,
  type CarrierModel,
  type OutcomeName,
  type PeriodModel,
  type Terms,
} from "./model";
import { applyBookEvent, applyRegistryEvent, canArbitrate, type ConsortiumModel } from "./registry-steps";
import {
  emptyCounts,
  newTxScope,
  periodKey,
  place,
  sideOf,
  type EscrowAccount,
  type EvidenceRef,
  type ReservedAccount,
  type PeriodExtras,
  type ReplayChain,
  type ReplayContext,
  type TxScope,
  type Where,
} from "./replay-context";
import {
  applyEscrowReserved,
  applyReservationReleased,
  applySettlementSkipped,
  checkReservationsOwed,
} from "./reservation-steps";
import { applyReveal } from "./reveal-steps";
import { applyEscrow, applySettled, checkEscrowMoved } from "./settlement-steps";

export class Replay implements ReplayContext {
  readonly carriers = new Map<string, CarrierModel>();
  readonly versions = new Map<string, Terms[]>();
  readonly periods = new Map<string, PeriodModel>();
  readonly escrow = new Map<string, EscrowAccount>();
  readonly reserved = new Map<string, ReservedAccount>();
  readonly tokens = new Set<string>();
  readonly evidence: EvidenceRef[] = [];
  readonly findings: Finding[] = [];
  readonly extras = new Map<string, PeriodExtras>();
  readonly counts = emptyCounts();
  lastBlock = 0;
  private readonly consortium: ConsortiumModel = {
    carriers: this.carriers,
    versions: this.versions,
    tokens: this.tokens,
    roles: new Map(),
    proposals: new Map(),
  };
  private tx: TxScope | null = null;

  constructor(readonly chain: ReplayChain) {}

  /** The transaction whose events are being replayed (null between transactions). */
  get currentTx(): TxScope | null {
    return this.tx;
  }

  /** Replays every event of `source` in order. */
  async run(source: EventSource): Promise<void> {
    for await (const event of source.events()) {
      if (this.tx === null || this.tx.hash !== event.txHash) {
        await this.endTx();
        this.tx = newTxScope(event.txHash, event.blockNumber);
        this.counts.transactions++;
      }
      this.counts.events++;
      this.lastBlock = event.blockNumber;
      await this.apply(event);
    }
    await this.endTx();
  }

  /** The terms in force for a period, as the book's events activated them. */
  termsFor(agreementId: string, period: number): Terms | undefined {
    return termsAt(this.versions.get(agreementId.toLowerCase()) ?? [], period);
  }

  /** Readable name of an agreement. */
  nameOf(agreementId: string): string | null {
    return agreementName(this.versions.get(agreementId.toLowerCase())?.[0]);
  }

  add(severity: Severity, kind: FindingKind, at: Place, where: Where, message: string): void {
    this.findings.push({
      severity,
      kind,
      block: at.block,
      tx: at.tx,
      agreementId: where.agreementId,
      agreement: where.agreementId === null ? null : this.nameOf(where.agreementId),
      period: where.period,
      message,
    });
  }

  /** Readable carrier name. */
  carrierLabel(carrierId: string): string {
    return carrierName(carrierId);
  }

  private async apply(e: AuditEvent): Promise<void> {
    if (e.contract === "registry") return applyRegistryEvent(this.consortium, e);
    if (e.contract === "book") return applyBookEvent(this.consortium, this, e);
    return this.applyLedger(e);
  }

  // ------------------------------------------------------------------ ledger

  private async applyLedger(e: AuditEvent): Promise<void> {
    if (e.name === "EscrowMoved" || e.name === "Deposited" || e.name === "Withdrawn")
      return applyEscrow(this, e);
    const agreementId = argString(e, "agreementId").toLowerCase();
    const period = Number(argBig(e, "period"));
    const where = { agreementId, period };
    const terms = this.termsFor(agreementId, period);
    if (terms === undefined) {
      this.add(
        "error",
        "unknown-agreement",
        place(e),
        where,
        `${e.name} for an agreement with no version in force`,
      );
      return;
    }
    const key = periodKey(agreementId, period);
    let p = this.periods.get(key);
    if (p === undefined) {
      p = newPeriod(agreementId, period);
      this.periods.set(key, p);
    }
    const now = await this.chain.blockTimestamp(e.blockNumber);
    const at = place(e);
    p.last = at;
    const side = sideOf(terms, argString(e, "carrierId"));
    const expect = (allowed: readonly PeriodStateName[]) => {
      const state = derivedState(p, terms, now);
      if (!allowed.includes(state)) {
        this.add(
          "error",
          "unexpected-event",
          at,
          where,
          `${e.name} while the period was ${state} (the contract allows it only in ${allowed.join("/")})`,
        );
        return false;
      }
      return true;
    };
    const needSide = () => {
      if (side === null) {
        this.add(
          "error",
          "unexpected-event",
          at,
          where,
          `${e.name} by ${argString(e, "carrierId")}, not a party of the agreement`,
        );
      }
      return side;
    };

    switch (e.name) {
      case "Committed": {
        const s = needSide();
        if (s === null) return;
        if (derivedState(p, terms, now) === "Mismatched") this.startCorrectionRound(e, p, terms, now);
        else expect(["Committing"]);
        const round = Number(argBig(e, "round"));
        if (round !== p.round) {
          this.add(
            "error",
            "unexpected-event",
            at,
            where,
            `commitment for round ${round}, the period is in round ${p.round}`,
          );
        }
        if (p.commitments[s] !== null) {
          this.add(
            "error",
            "unexpected-event",
            at,
            where,
            `second commitment of party ${"AB"[s]} in round ${p.round}`,
          );
        }
        p.commitments[s] = argString(e, "commitment").toLowerCase();
        return;
      }
      case "Revealed":
        return applyReveal(this, e, p, terms, now);
      case "Evaluated": {
        this.counts.evaluations++;
        const pending = p.pendingEvaluation;
        const a = p.claims[0];
        const b = p.claims[1];
        if (pending === null || a === null || b === null) {
          this.add("error", "unexpected-event", at, where, "an evaluation without two reveals before it");
          return;
        }
        const expected = evaluate(a, b, terms);
        const outcome = OUTCOMES[Number(argBig(e, "outcome"))] ?? "?";
        const ab = argBig(e, "amountAB");
        const ba = argBig(e, "amountBA");
        if (outcome !== expected.outcome || ab !== expected.amountAB || ba !== expected.amountBA) {
          this.add(
            "error",
            "evaluation-mismatch",
            at,
            where,
            `evaluated ${outcome} ${ab}/${ba}; the claims and terms give ${expected.outcome} ` +
              `${expected.amountAB}/${expected.amountBA} (A→B/B→A, micro-units)`,
          );
        }
        if (Number(argBig(e, "round")) !== p.round) {
          this.add(
            "error",
            "evaluation-mismatch",
            at,
            where,
            `evaluated round ${argBig(e, "round")}, the period is in round ${p.round}`,
          );
        }
        this.finishEvaluation(p, expected.outcome, now, expected);
        return;
      }
      case "DisputeOpened":
      case "DefaultContested":
      case "FiguresProposed":
      case "FiguresAccepted":
      case "DisputeEscalated":
      case "DisputeRuled":
      case "DisputeWithdrawn":
        applyDisputeStep(e, {
          p,
          terms,
          now,
          at,
          where,
          add: (severity, kind, place, message) => this.add(severity, kind, place, where, message),
          expectState: expect,
          needSide,
          cite: (event, field) => this.cite(event, field, where),
          canArbitrate: (account) => canArbitrate(this.consortium, account),
          counts: this.counts,
        });
        return;
      case "OfficerApproved":
        return applyOfficerApproved(this, e, p, terms, now);
      case "CarrierApproved":
        return applyCarrierApproved(this, e, p, terms, now);
      case "Settled":
        return applySettled(this, e, p, terms, now);
      case "EscrowReserved":
        return applyEscrowReserved(this, e, p, terms, now);
      case "ReservationReleased":
        return applyReservationReleased(this, e, p, terms, now);
      case "SettlementSkipped":
        return applySettlementSkipped(this, e, p, terms, now);
      case "FastPathSettled":
        return applyFastPathSettled(this, e, p, terms, now);
      default:
        return;
    }
  }

  /**
   * A commitment to a Mismatched period starts a correction round (`_startRound`): only within the
   * reconcile window after the evaluation, and only up to MAX_ROUNDS rounds in all.
   */
  private startCorrectionRound(e: AuditEvent, p: PeriodModel, terms: Terms, now: number): void {
    this.counts.correctionRounds++;
    const where = { agreementId: p.agreementId, period: p.period };
    const deadline = p.evaluatedAt + terms.windows.reconcile;
    if (now > deadline) {
      this.add(
        "error",
        "unexpected-event",
        place(e),
        where,
        `correction round ${p.round + 1} started at ${isoTime(now)}, after the reconcile window closed at ` +
          `${isoTime(deadline)} (round ${p.round} was evaluated at ${isoTime(p.evaluatedAt)})`,
      );
    }
    if (p.round + 1 >= MAX_ROUNDS) {
      this.add(
        "error",
        "unexpected-event",
        place(e),
        where,
        `correction round ${p.round + 1}; the contract allows at most ${MAX_ROUNDS} rounds (0–${MAX_ROUNDS - 1})`,
      );
    }
    startRound(p, p.round + 1, now);
  }

  private finishEvaluation(
    p: PeriodModel,
    outcome: OutcomeName,
    now: number,
    figures: { amountAB: bigint; amountBA: bigint },
  ): void {
    p.outcome = outcome;
    p.evaluatedAt = now;
    p.evaluatedFigures = figures;
    p.pendingEvaluation = null;
  }

  /** Per transaction: evaluations owed, approvals owed, and escrow moved exactly as settled. */
  private async endTx(): Promise<void> {
    const tx = this.tx;
    if (tx === null) return;
    this.tx = null;
    const at = { block: tx.block, tx: tx.hash };
    for (const p of this.periods.values()) {
      if (p.pendingEvaluation !== null && p.pendingEvaluation.tx === tx.hash) {
        const terms = this.termsFor(p.agreementId, p.period);
        const a = p.claims[0];
        const b = p.claims[1];
        this.add(
          "error",
          "evaluation-missing",
          at,
          { agreementId: p.agreementId, period: p.period },
          "the second reveal was not followed by an Evaluated event",
        );
        if (terms && a && b) {
          const expected = evaluate(a, b, terms);
          this.finishEvaluation(p, expected.outcome, await this.chain.blockTimestamp(tx.block), expected);
        }
      }
    }
    checkApprovalsOwed(this, tx);
    checkReservationsOwed(this, tx);
    await checkEscrowMoved(this, tx);
  }

  private cite(e: AuditEvent, field: string, where: { agreementId: string; period: number }): void {
    const cid = argString(e, field);
    if (cid !== "") this.evidence.push({ cid, event: e.name, ...where, at: place(e) });
  }
}

function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}
