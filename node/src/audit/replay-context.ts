/**
 * What the replay's step modules (reveals, approvals, settlement, registry and book) share with the
 * {@link Replay} that drives them: the chain reads, the rebuilt consortium and escrow, the counters,
 * the scope of the transaction being replayed, and the finding sink. The replay implements it; the
 * step modules see only this, so each can be read (and tested) on its own.
 */
import { getAddress, type TransactionResponse } from "ethers";
import type { AuditEvent } from "./events";
import type { FindingKind, Place, Severity } from "./findings";
import type { CarrierModel, PeriodModel, ReservationModel, Terms } from "./model";

/** What the replay needs from the chain besides the events. */
export interface ReplayChain {
  ledgerAddress: string;
  /** The chain's id: commitments bind it (with the ledger's address and the round). */
  chainId: bigint;
  blockTimestamp(block: number): Promise<number>;
  transaction(hash: string): Promise<TransactionResponse | null>;
}

export interface EscrowAccount {
  carrierId: string;
  token: string;
  amount: bigint;
  last: Place;
}

/** What a carrier holds reserved in one token, from the reservation events. */
export interface ReservedAccount {
  carrierId: string;
  token: string;
  amount: bigint;
  last: Place;
}

export interface EvidenceRef {
  cid: string;
  event: string;
  agreementId: string;
  period: number;
  at: Place;
}

/** Facts of a period the replay could not explain from the stream (e.g. escrow moved without a Settled). */
export interface PeriodExtras {
  unexplained: Place | null;
}

/** How many of each step the replay checked (reported as `checked`). */
export interface ReplayCounts {
  events: number;
  reveals: number;
  revealsVerified: number;
  evaluations: number;
  /** Commitments that started a correction round of a Mismatched period. */
  correctionRounds: number;
  disputeSteps: number;
  /** Defaults contested by the silent party (`DefaultContested`). */
  defaultsContested: number;
  /** Disputes resolved by accepting the other side's proposal (`FiguresAccepted`). */
  acceptances: number;
  /** Disputes withdrawn by their opener (`DisputeWithdrawn`). */
  withdrawals: number;
  rulings: number;
  /**
   * Periods whose final approval was checked against a silent party's default (`Uncontested`), a
   * transition no event records.
   */
  uncontested: number;
  /**
   * Periods whose final approval was checked against the mean of the claims after the arbitration
   * window lapsed (`Resolved` without a ruling), likewise without an event.
   */
  lapsedArbitrations: number;
  officerApprovals: number;
  carrierApprovals: number;
  settlements: number;
  /** Payers' reservations (`EscrowReserved`) and their releases (`ReservationReleased`). */
  reservations: number;
  releases: number;
  /** Periods a `settleBatch` left out (`SettlementSkipped`). */
  skippedSettlements: number;
  /** Periods settled by the co-signed fast path (`FastPathSettled`). */
  fastPathSettlements: number;
  transactions: number;
}

export function emptyCounts(): ReplayCounts {
  return {
    events: 0,
    reveals: 0,
    revealsVerified: 0,
    evaluations: 0,
    correctionRounds: 0,
    disputeSteps: 0,
    defaultsContested: 0,
    acceptances: 0,
    withdrawals: 0,
    rulings: 0,
    uncontested: 0,
    lapsedArbitrations: 0,
    officerApprovals: 0,
    carrierApprovals: 0,
    settlements: 0,
    reservations: 0,
    releases: 0,
    skippedSettlements: 0,
    fastPathSettlements: 0,
    transactions: 0,
  };
}

/** The transaction being replayed: what its settlements say must move, and what moved. */
export interface TxScope {
  hash: string;
  block: number;
  /** carrier|token → Σ of what Settled events say must move. */
  expected: Map<string, bigint>;
  /** carrier|token → Σ EscrowMoved. */
  moved: Map<string, bigint>;
  settledPeriods: PeriodModel[];
  /** `agreementId:period:side:kind:nonce` of every officer tally this transaction added to. */
  tallies: Set<string>;
  /**
   * Payer approvals of this transaction that owe a reservation, by `agreementId:period:kind`, until an
   * `EscrowReserved` (or the period's settlement in the same transaction) pays the debt.
   */
  owedReservations: Map<string, { p: PeriodModel; side: 0 | 1; owed: bigint; at: Place }>;
  /**
   * Releases of this transaction not explained by a settlement: a new reservation of the same period
   * replacing it explains it, else it was a `release` call and must meet its rules (checked at the end).
   */
  releases: { p: PeriodModel; r: ReservationModel; now: number; bound: boolean; at: Place }[];
  /** `agreementId:period:side:kind` of every carrier approval in this transaction. */
  approvals: Set<string>;
}

export function newTxScope(hash: string, block: number): TxScope {
  return {
    hash,
    block,
    expected: new Map(),
    moved: new Map(),
    settledPeriods: [],
    tallies: new Set(),
    owedReservations: new Map(),
    releases: [],
    approvals: new Set(),
  };
}

export interface Where {
  agreementId: string | null;
  period: number | null;
}

/** The replay as its step modules see it. */
export interface ReplayContext {
  readonly chain: ReplayChain;
  readonly carriers: Map<string, CarrierModel>;
  readonly periods: Map<string, PeriodModel>;
  readonly escrow: Map<string, EscrowAccount>;
  /** carrier|token → what the carrier holds reserved. */
  readonly reserved: Map<string, ReservedAccount>;
  readonly extras: Map<string, PeriodExtras>;
  readonly counts: ReplayCounts;
  /** The transaction whose events are being replayed (null between transactions). */
  readonly currentTx: TxScope | null;
  termsFor(agreementId: string, period: number): Terms | undefined;
  add(severity: Severity, kind: FindingKind, at: Place, where: Where, message: string): void;
  carrierLabel(carrierId: string): string;
}

export function place(e: AuditEvent): Place {
  return { block: e.blockNumber, tx: e.txHash };
}

/** Where a step about one carrier of a period is reported, the carrier (lower case) and its side. */
export interface PartyStep {
  at: Place;
  where: Where;
  carrierId: string;
  side: 0 | 1;
}

/**
 * The {@link PartyStep} of event `e` about its `carrierId`, or null after a finding of `kind` when that
 * carrier is no party of the agreement (`what` names the step: "reveal by", "approval for", …).
 */
export function partyStep(
  r: ReplayContext,
  e: AuditEvent,
  p: PeriodModel,
  terms: Terms,
  kind: FindingKind,
  what: string,
): PartyStep | null {
  const at = place(e);
  const where = { agreementId: p.agreementId, period: p.period };
  const carrierId = String(e.args.carrierId ?? "").toLowerCase();
  const side = sideOf(terms, carrierId);
  if (side === null) {
    r.add("error", kind, at, where, `${what} ${carrierId}, not a party of the agreement`);
    return null;
  }
  return { at, where, carrierId, side };
}

export function periodKey(agreementId: string, period: number): string {
  return `${agreementId}:${period}`;
}

export function escrowKey(carrierId: string, token: string): string {
  return `${carrierId.toLowerCase()}|${getAddress(token)}`;
}

/** 0 for carrier A, 1 for carrier B, null for anyone else. */
export function sideOf(terms: Terms, carrierId: string): 0 | 1 | null {
  const id = carrierId.toLowerCase();
  if (id === terms.carrierA.toLowerCase()) return 0;
  if (id === terms.carrierB.toLowerCase()) return 1;
  return null;
}

export function addTo(map: Map<string, bigint>, key: string, delta: bigint): void {
  map.set(key, (map.get(key) ?? 0n) + delta);
}
