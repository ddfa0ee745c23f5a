/**
 * Reveals a committed summary: root, both totals and the round's commitment salt, which the ledger
 * hashes and compares with the commitment. The second reveal of a period makes the ledger evaluate
 * it (Matched, Reconciled or Mismatched). Sent once per round through the transaction manager's
 * idempotency key `reveal:<agreement>:<period>:<round>`.
 */
import { hexlify } from "ethers";
import type { ChainClient } from "../chain/client";
import type { Database } from "../db/database";
import { loadSummary } from "../db/summaries";
import { ConflictError, InputError } from "../errors";
import { commitmentSalt } from "../summaries/encoding";
import { PERIOD_STATES, type ContestClaim, type PeriodStateName } from "../protocol";

/** The current round of a period as the ledger holds it, seen from one party's side. */
export interface RoundView {
  round: number;
  /** Whether this party has revealed the round. */
  weRevealed: boolean;
  /** Whether both parties have revealed it: only then are the roots below roots (before, commitments). */
  bothRevealed: boolean;
  /** The revealed roots, lower-case hex. */
  ourRoot: string;
  theirRoot: string;
}

const REVEALED = 1n;

/** Reads the period's current round for `side` from the ledger. */
export async function roundView(
  chain: ChainClient,
  agreementId: string,
  period: number,
  side: "A" | "B",
): Promise<RoundView> {
  const record = await chain.ledger.periodRecord(agreementId, period);
  const a = { status: BigInt(record.statusA), hash: record.hashA.toLowerCase() };
  const b = { status: BigInt(record.statusB), hash: record.hashB.toLowerCase() };
  const [ours, theirs] = side === "A" ? [a, b] : [b, a];
  return {
    round: Number(record.round),
    weRevealed: ours.status === REVEALED,
    bothRevealed: a.status === REVEALED && b.status === REVEALED,
    ourRoot: ours.hash,
    theirRoot: theirs.hash,
  };
}

/** The period's state on the ledger, by name. */
export async function periodState(
  chain: ChainClient,
  agreementId: string,
  period: number,
): Promise<PeriodStateName> {
  const index = Number(await chain.ledger.state(agreementId, period));
  return PERIOD_STATES[index] ?? "Pending";
}

export interface RevealResult {
  round: number;
  txHash: string;
  blockNumber: bigint;
  /** The state after the reveal (e.g. Matched once both sides revealed). */
  state: PeriodStateName;
}

/**
 * The opening of this node's commitment of `period` in `round`: the committed summary's root and totals
 * and the round's commitment salt (null when this node committed no summary).
 * @throws BaseError when the database cannot be read.
 */
export async function committedOpening(
  db: Database,
  agreement: { agreementId: string; secret: Uint8Array },
  period: number,
  round: number,
): Promise<ContestClaim | null> {
  const summary = await loadSummary(db, agreement.agreementId, period, { leaves: false });
  if (!summary || summary.committedAt === null) return null;
  return {
    root: summary.root,
    amountAB: summary.amountAB,
    amountBA: summary.amountBA,
    salt: hexlify(commitmentSalt(agreement.secret, agreement.agreementId, period, round)),
  };
}

/**
 * @throws InputError when nothing was committed from this node; ConflictError when the period is not
 * in its reveal window (naming the state it is in) or the transaction reverted.
 */
export async function revealSummary(
  db: Database,
  chain: ChainClient,
  agreement: { agreementId: string; name: string; secret: Uint8Array },
  period: number,
): Promise<RevealResult> {
  if (!chain.transactions) throw new InputError("the chain client has no node key to sign with");
  const summary = await loadSummary(db, agreement.agreementId, period, { leaves: false });
  if (!summary || summary.committedAt === null) {
    throw new InputError(
      `${agreement.name} ${period} has not been committed from this node (icl period close)`,
    );
  }
  const state = await periodState(chain, agreement.agreementId, period);
  if (state !== "Revealing") {
    throw new ConflictError(
      `period ${agreement.name} ${formatPeriod(period)} is ${state}; reveal needs Revealing ` +
        "(both parties committed, or the commit window closed)",
    );
  }
  const round = Number((await chain.ledger.periodRecord(agreement.agreementId, period)).round);
  const salt = hexlify(commitmentSalt(agreement.secret, agreement.agreementId, period, round));
  const result = await chain.transactions.send({
    kind: "reveal",
    idempotencyKey: `reveal:${agreement.agreementId}:${period}:${round}`,
    to: chain.deployment.ledger,
    data: chain.ledger.interface.encodeFunctionData("reveal", [
      agreement.agreementId,
      period,
      summary.root,
      summary.amountAB,
      summary.amountBA,
      salt,
    ]),
  });
  if (result.status !== "confirmed") {
    throw new ConflictError(`the reveal transaction ${result.txHash} reverted`, result.error ?? undefined);
  }
  return {
    round,
    txHash: result.txHash,
    blockNumber: result.blockNumber,
    state: await periodState(chain, agreement.agreementId, period),
  };
}

/** 202610 → "2026-10". */
export function formatPeriod(period: number): string {
  return `${String(period).slice(0, 4)}-${String(period).slice(4)}`;
}
