/**
 * The ledger rebuilt from events: the registry's officers and thresholds as they change, the
 * agreement versions, and per period the facts the contract stores (commitments, claims, round,
 * evaluation, dispute, approval and settlement flags, the payer's reservation). `derivedState` mirrors the contract's
 * `_context`/`_baseState` and the figure functions mirror `_finalFigures`, `_partialFigures` and
 * `Tolerance`, so the model can say what the contract must have done at any block time.
 */
import { ZeroHash } from "ethers";
import { agreementLabel, carrierName } from "../chain/display";

export { carrierName };
import {
  evaluateClaims,
  reconciledFigures,
  OUTCOMES,
  periodEnd,
  PERIOD_STATES,
  TOLERANCE_RULES,
  type OutcomeName,
  type PeriodStateName,
} from "../protocol";
import type { Place } from "./findings";

export { OUTCOMES, type OutcomeName };
export const RESOLUTIONS = ["None", "Accepted", "Ruled", "Withdrawn"] as const;
export type ResolutionName = (typeof RESOLUTIONS)[number];
export const RULES = TOLERANCE_RULES;
export { MAX_ROUNDS } from "../protocol";

export interface Windows {
  commit: number;
  reveal: number;
  reconcile: number;
  dispute: number;
  response: number;
  arbitration: number;
}

/** One agreement version's terms (IAgreementBook.Terms). */
export interface Terms {
  carrierA: string;
  carrierB: string;
  token: string;
  toleranceBps: bigint;
  rule: number;
  effectiveFrom: number;
  arbiter: string;
  toleranceAbs: bigint;
  windows: Windows;
  termsHash: string;
}

export interface CarrierModel {
  id: string;
  name: string;
  /** Current officers: address (lower case) → slot. */
  officers: Map<string, number>;
  threshold: number;
  nodes: Set<string>;
  /** The officer nonce (`officerNonce`): every officer or node update advances it; pending tallies are kept under it. */
  nonce: number;
}

/** The escrow a period's payer holds reserved for its settlement (`reservationOf`). */
export interface ReservationModel {
  amount: bigint;
  /** 0 carrier A, 1 carrier B. */
  side: 0 | 1;
  partial: boolean;
  expiresAt: bigint;
}

export interface Claim {
  root: string;
  amountAB: bigint;
  amountBA: bigint;
  /** 1 revealed, 2 claim given when contesting a default. */
  status: 1 | 2;
  at: Place;
}

export interface RevealRecord {
  carrierId: string;
  round: number;
  root: string;
  amountAB: bigint;
  amountBA: bigint;
  at: Place;
}

/** One agreement-period as the contract stores it, plus where each fact came from. */
export interface PeriodModel {
  agreementId: string;
  period: number;
  round: number;
  /** 0 in round 0 (the round starts at the period's end). */
  roundStart: number;
  commitments: [string | null, string | null];
  claims: [Claim | null, Claim | null];
  /**
   * Claims an earlier round left on record (a correction round replaces a side's figures only when that
   * side reveals): what a fallen-back Mismatched period, or the side that stays silent, still holds (L-2).
   */
  carried: [Claim | null, Claim | null];
  outcome: OutcomeName;
  evaluatedAt: number;
  evaluatedFigures: { amountAB: bigint; amountBA: bigint } | null;
  disputed: boolean;
  dispute: {
    openedAt: number;
    lastActionAt: number;
    escalatedAt: number;
    opener: 0 | 1 | 2;
    proposer: 0 | 1 | 2;
    resolution: ResolutionName;
    proposals: number;
    proposedAB: bigint;
    proposedBA: bigint;
    resolvedAB: bigint;
    resolvedBA: bigint;
    /** When an accept, a ruling or a withdrawal resolved it (0 while open and for a lapsed arbitration). */
    resolvedAt: number;
  };
  approved: [boolean, boolean];
  partialApproved: [boolean, boolean];
  partialSettled: boolean;
  settled: boolean;
  /** What the partial settlement moved A→B. */
  partialNet: bigint;
  /** The payer's reservation, from `EscrowReserved` until it is settled or released. */
  reservation: ReservationModel | null;
  /** Whether the replay already counted how this period's final figures were reached without an event. */
  timeDrivenCounted: boolean;
  /**
   * Officer slots counted so far per side, kind and officer nonce (cleared when the carrier approves; a
   * tally under an older nonce is never read again).
   */
  tallies: Map<string, Set<number>>;
  /** An approval tally below its threshold was stored (`TALLIED`: an `OfficerApproved` was emitted). */
  tallied: boolean;
  /** Every reveal of every round, for summary checks. */
  reveals: RevealRecord[];
  /** The place of the latest event of this period, and of the facts that have no better place. */
  last: Place;
  /** Transaction that both revealed and still owes an Evaluated event. */
  pendingEvaluation: Place | null;
  /** What a co-signed fast-path settlement recorded (`FastPathSettled`), or null. */
  fastPath: { root: string; amountAB: bigint; amountBA: bigint; at: Place } | null;
}

export function newPeriod(agreementId: string, period: number): PeriodModel {
  return {
    agreementId,
    period,
    round: 0,
    roundStart: 0,
    commitments: [null, null],
    claims: [null, null],
    carried: [null, null],
    outcome: "None",
    evaluatedAt: 0,
    evaluatedFigures: null,
    disputed: false,
    dispute: emptyDispute(),
    approved: [false, false],
    partialApproved: [false, false],
    partialSettled: false,
    settled: false,
    partialNet: 0n,
    reservation: null,
    timeDrivenCounted: false,
    tallies: new Map(),
    tallied: false,
    reveals: [],
    last: { block: null, tx: null },
    pendingEvaluation: null,
    fastPath: null,
  };
}

export function emptyDispute(): PeriodModel["dispute"] {
  return {
    openedAt: 0,
    lastActionAt: 0,
    escalatedAt: 0,
    opener: 0,
    proposer: 0,
    resolution: "None",
    proposals: 0,
    proposedAB: 0n,
    proposedBA: 0n,
    resolvedAB: 0n,
    resolvedBA: 0n,
    resolvedAt: 0,
  };
}

/**
 * Starts a correction round as `_startRound` does: commitments, reveals and the outcome start over; the
 * claims on record are carried, and the last evaluation's time stays (it opens the reconcile window).
 */
export function startRound(p: PeriodModel, round: number, at: number): void {
  const keep = {
    reveals: p.reveals,
    last: p.last,
    evaluatedAt: p.evaluatedAt,
    carried: [p.claims[0] ?? p.carried[0], p.claims[1] ?? p.carried[1]] as PeriodModel["carried"],
  };
  Object.assign(p, newPeriod(p.agreementId, p.period), keep);
  p.round = round;
  p.roundStart = at;
}

/** `_evaluate`: the outcome and final figures of two reveals under `terms` (protocol/evaluation.ts). */
export function evaluate(
  a: Claim,
  b: Claim,
  terms: Terms,
): { outcome: OutcomeName; amountAB: bigint; amountBA: bigint } {
  return evaluateClaims(a, b, terms);
}

/** The figures the record holds for `side`: this round's claim, else one carried from an earlier round. */
export function claimOnRecord(p: PeriodModel, side: 0 | 1): Claim {
  return p.claims[side] ?? p.carried[side] ?? zeroClaim();
}

function zeroClaim(): Claim {
  return { root: ZeroHash, amountAB: 0n, amountBA: 0n, status: 1, at: { block: null, tx: null } };
}

/** `_baseState`: the state from the facts, ignoring approval and settlement flags, at `now`. */
export function baseState(p: PeriodModel, terms: Terms, now: number): PeriodStateName {
  if (p.disputed) {
    const d = p.dispute;
    if (d.resolution !== "None") return "Resolved";
    if (d.escalatedAt === 0) return "Disputed";
    return now > d.escalatedAt + terms.windows.arbitration ? "Resolved" : "Escalated";
  }
  if (p.outcome === "Matched") return "Matched";
  if (p.outcome === "Reconciled") return "Reconciled";
  if (p.outcome === "Mismatched") return "Mismatched";
  const start = p.round === 0 ? periodEnd(p.period) : p.roundStart;
  if (now < start) return "Pending";
  let deadline = start + terms.windows.commit;
  const committedA = p.commitments[0] !== null;
  const committedB = p.commitments[1] !== null;
  if (now <= deadline && !(committedA && committedB)) return "Committing";
  if (!committedA && !committedB) return "Void";
  deadline += terms.windows.reveal;
  if (now <= deadline) return "Revealing";
  // A correction round nobody revealed falls back to Mismatched at the carried claims (L-2).
  if (p.claims[0] === null && p.claims[1] === null) return p.round === 0 ? "Void" : "Mismatched";
  return now <= deadline + terms.windows.dispute ? "Defaulted" : "Uncontested";
}

/** `_context`: Settled and Approved from the flags, else the base state. */
export function derivedState(p: PeriodModel, terms: Terms, now: number): PeriodStateName {
  if (p.settled) return "Settled";
  if (p.approved[0] && p.approved[1]) return "Approved";
  return baseState(p, terms, now);
}

/** `_finalFigures` (meaningful in a final state). */
export function finalFigures(
  p: PeriodModel,
  terms: Terms,
  now: number,
): { amountAB: bigint; amountBA: bigint } {
  const a = claimOnRecord(p, 0);
  const b = claimOnRecord(p, 1);
  const s = baseState(p, terms, now);
  if (s === "Matched") return { amountAB: a.amountAB, amountBA: a.amountBA };
  if (s === "Reconciled") return reconciledFigures(a, b, terms);
  if (s === "Uncontested") {
    return p.claims[0]?.status === 1
      ? { amountAB: a.amountAB, amountBA: a.amountBA }
      : { amountAB: b.amountAB, amountBA: b.amountBA };
  }
  if (p.dispute.resolution !== "None")
    return { amountAB: p.dispute.resolvedAB, amountBA: p.dispute.resolvedBA };
  // Lapsed arbitration: the mean of the two claims per direction, rounded down.
  return { amountAB: (a.amountAB + b.amountAB) / 2n, amountBA: (a.amountBA + b.amountBA) / 2n };
}

/**
 * `PeriodLib.approvalDeadline`: for a binding outcome (Uncontested, Resolved), the last second to approve
 * before anyone may settle without approvals — the response window after the figures became final; 0
 * otherwise.
 */
export function approvalDeadline(p: PeriodModel, terms: Terms, now: number): number {
  const w = terms.windows;
  const s = baseState(p, terms, now);
  let finalAt: number;
  if (s === "Uncontested") {
    const start = p.round === 0 ? periodEnd(p.period) : p.roundStart;
    finalAt = start + w.commit + w.reveal + w.dispute;
  } else if (s === "Resolved") {
    finalAt = p.dispute.resolvedAt !== 0 ? p.dispute.resolvedAt : p.dispute.escalatedAt + w.arbitration;
  } else {
    return 0;
  }
  return finalAt + w.response;
}

/**
 * What a settlement of `p` (its undisputed part if `partial`) moves from A to B: the figures' net, for the
 * final one less what the partial settlement moved (`PeriodLib.toSettle`).
 */
export function netToSettle(p: PeriodModel, terms: Terms, now: number, partial: boolean): bigint {
  const f = partial ? partialFigures(p) : finalFigures(p, terms, now);
  return f.amountAB - f.amountBA - (!partial && p.partialSettled ? p.partialNet : 0n);
}

/** `_partialFigures`: per direction the smaller claim. */
export function partialFigures(p: PeriodModel): { amountAB: bigint; amountBA: bigint } {
  const a = claimOnRecord(p, 0);
  const b = claimOnRecord(p, 1);
  return {
    amountAB: a.amountAB < b.amountAB ? a.amountAB : b.amountAB,
    amountBA: a.amountBA < b.amountBA ? a.amountBA : b.amountBA,
  };
}

export const FINAL_STATES: readonly PeriodStateName[] = ["Matched", "Reconciled", "Uncontested", "Resolved"];
export const DISPUTE_STATES: readonly PeriodStateName[] = ["Disputed", "Escalated"];

export function stateName(index: bigint | number): PeriodStateName | string {
  return PERIOD_STATES[Number(index)] ?? `#${index}`;
}

/** `A–B` from the first version's carriers. */
export function agreementName(terms: Terms | undefined): string | null {
  return terms === undefined ? null : agreementLabel(terms.carrierA, terms.carrierB);
}

/** Terms from a decoded `Terms` struct (AgreementProposed / termsAt). */
export function toTerms(raw: Record<string, unknown>): Terms {
  const w = (raw.windows ?? {}) as Record<string, unknown>;
  return {
    carrierA: String(raw.carrierA),
    carrierB: String(raw.carrierB),
    token: String(raw.token),
    toleranceBps: BigInt(raw.toleranceBps as bigint),
    rule: Number(raw.rule),
    effectiveFrom: Number(raw.effectiveFrom),
    arbiter: String(raw.arbiter),
    toleranceAbs: BigInt(raw.toleranceAbs as bigint),
    windows: {
      commit: Number(w.commit),
      reveal: Number(w.reveal),
      reconcile: Number(w.reconcile),
      dispute: Number(w.dispute),
      response: Number(w.response),
      arbitration: Number(w.arbitration),
    },
    termsHash: String(raw.termsHash),
  };
}

/** The version in force for `period`: the latest with effectiveFrom ≤ period (`termsAt`). */
export function termsAt(versions: readonly Terms[], period: number): Terms | undefined {
  let found: Terms | undefined;
  for (const v of versions) if (v.effectiveFrom <= period) found = v;
  return found;
}
