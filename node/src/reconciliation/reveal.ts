/**
 * Reveals a committed summary: root, both totals and the round's commitment salt, which the ledger
 * hashes and compares with the commitment. The second reveal of a period makes the ledger evaluate
 * it (Matched, Reconciled or Mismatched). Sent once per round through the transaction manager's
 * idempotency key `reveal:<agreement>:<period>:<round>`, or both carriers' openings in one `revealBoth`
 * when this node holds the partner's (opening-exchange.ts).
 */
import { hexlify } from "ethers";
import type { ChainClient } from "../chain/client";
import { ContractRevertError } from "../chain/errors";
import type { Database } from "../db/database";
import type { PartnerOpening } from "../db/partner-exchange";
import { loadSummary } from "../db/summaries";
import { ConflictError, InputError } from "../errors";
import { commitmentSalt } from "../summaries/encoding";
import { PERIOD_STATES, type ContestClaim, type PeriodStateName } from "../protocol";

/** The current round of a period as the ledger holds it, seen from one party's side. */
export interface RoundView {
  round: number;
  /** Whether this party has revealed the round. */
  weRevealed: boolean;
  /** Whether the other party has. */
  theyRevealed: boolean;
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
    theyRevealed: theirs.status === REVEALED,
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
  /** Whether the transaction revealed the partner's commitment too (`revealBoth`). */
  both: boolean;
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
 * Reveals this node's commitment of the current round; with `partner` (the partner's opening of the
 * same round, checked against its commitment: opening-exchange.ts), both in one `revealBoth` (key
 * `reveal-both:<agreement>:<period>:<round>`) while the partner's side is not revealed. When that would
 * revert because the partner's node has just done the same, this node's side is revealed and that is
 * the reveal done.
 * @throws InputError when nothing was committed from this node; ConflictError when the period is not
 * in its reveal window (naming the state it is in) or the transaction reverted.
 */
export async function revealSummary(
  db: Database,
  chain: ChainClient,
  agreement: { agreementId: string; name: string; secret: Uint8Array; side: "A" | "B" },
  period: number,
  options: { partner?: PartnerOpening | null } = {},
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
  const ours = { root: summary.root, amountAB: summary.amountAB, amountBA: summary.amountBA, salt };
  const done = async (txHash: string, blockNumber: bigint, both: boolean): Promise<RevealResult> => ({
    round,
    txHash,
    blockNumber,
    state: await periodState(chain, agreement.agreementId, period),
    both,
  });
  const partner = options.partner;
  const bothKey = `reveal-both:${agreement.agreementId}:${period}:${round}`;
  const revealKey = `reveal:${agreement.agreementId}:${period}:${round}`;
  const sentBoth = await chain.transactions.lookup(bothKey);
  if (sentBoth?.status === "confirmed" && sentBoth.txHash !== null && sentBoth.blockNumber !== null) {
    return done(sentBoth.txHash, sentBoth.blockNumber, true);
  }
  const view = await roundView(chain, agreement.agreementId, period, agreement.side);
  if (partner && partner.round === round && !view.weRevealed && !view.theyRevealed) {
    const [a, b] = agreement.side === "A" ? [ours, partner] : [partner, ours];
    const opening = (o: ContestClaim) => ({
      root: o.root,
      amountAB: o.amountAB,
      amountBA: o.amountBA,
      salt: o.salt,
    });
    try {
      const result = await chain.transactions.send({
        kind: "reveal-both",
        idempotencyKey: bothKey,
        to: chain.deployment.ledger,
        data: chain.ledger.interface.encodeFunctionData("revealBoth", [
          agreement.agreementId,
          period,
          opening(a),
          opening(b),
        ]),
      });
      if (result.status === "confirmed") return done(result.txHash, result.blockNumber, true);
    } catch (error) {
      if (!(error instanceof ContractRevertError)) throw error;
    }
    // The partner's node revealed both first: what the ledger holds decides.
    const now = await roundView(chain, agreement.agreementId, period, agreement.side);
    if (now.weRevealed) {
      const landed = await revealedBy(chain, agreement, period, round, summary.root);
      if (landed !== null) return done(landed.txHash, landed.blockNumber, true);
    }
  } else if (view.weRevealed && (await chain.transactions.lookup(revealKey))?.status !== "confirmed") {
    const landed = await revealedBy(chain, agreement, period, round, summary.root);
    if (landed !== null) return done(landed.txHash, landed.blockNumber, true);
  }
  const result = await chain.transactions.send({
    kind: "reveal",
    idempotencyKey: revealKey,
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
  return done(result.txHash, result.blockNumber, false);
}

/** The transaction that revealed this node's `root` in `round` (the partner's revealBoth). */
async function revealedBy(
  chain: ChainClient,
  agreement: { agreementId: string },
  period: number,
  round: number,
  root: string,
): Promise<{ txHash: string; blockNumber: bigint } | null> {
  const events = await chain.ledger.queryFilter(chain.ledger.filters.Revealed(agreement.agreementId, period));
  const event = events.find(
    (e) => Number(e.args.round) === round && e.args.root.toLowerCase() === root.toLowerCase(),
  );
  return event ? { txHash: event.transactionHash, blockNumber: BigInt(event.blockNumber) } : null;
}

/** 202610 → "2026-10". */
export function formatPeriod(period: number): string {
  return `${String(period).slice(0, 4)}-${String(period).slice(4)}`;
}
