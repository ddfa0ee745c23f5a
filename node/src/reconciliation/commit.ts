/**
 * Commits a stored usage summary to the ledger: the commitment binds the chain, the ledger, agreement,
 * period, round, this carrier, the summary's root and both totals under a per-round salt
 * (docs/PROTOCOL.md, "On chain").
 * The summary is marked committed *before* the transaction is sent, so a crash between the two can
 * never let a rebuilt summary (say, after a late batch) differ from what went on chain; the
 * transaction manager's idempotency key (`commit:<agreement>:<period>:<round>`) makes a re-run send
 * nothing twice.
 *
 * Given the partner's commitment signed by its node (commit-exchange.ts), the node sends both in one
 * `commitBoth` (key `commit-both:<agreement>:<period>:<round>`) while the partner's side is not on the
 * ledger yet; when that would revert because the partner's node has just done the same, both
 * commitments are on the ledger and that is the commit done.
 */
import { ZeroHash, hexlify } from "ethers";
import type { ChainClient } from "../chain/client";
import { ContractRevertError } from "../chain/errors";
import { loadSummary, type StoredSummary } from "../db/summaries";
import type { Database, Queryable } from "../db/database";
import type { PartnerCommitment } from "../db/partner-exchange";
import { BaseError, ConflictError, InputError } from "../errors";
import type { LocalAgreement } from "../db/agreements";
import { buildSummary } from "../summaries/build-summary";
import { commitmentSalt, periodSalt } from "../summaries/encoding";
import { commitRound, computeCommitment, type PeriodStateName } from "../protocol";
import { periodState } from "./reveal";

export interface CommitResult {
  carrierId: string;
  round: number;
  commitment: string;
  txHash: string;
  blockNumber: bigint;
  alreadyCommitted: boolean;
  /** Whether the transaction carried the partner's commitment too (`commitBoth`). */
  both: boolean;
}

/** The commitment this node's closed summary gives for the round a commit sent now lands in. */
export interface OwnCommitment {
  carrierId: string;
  round: number;
  commitment: string;
  /** The period's state when it was computed. */
  state: PeriodStateName;
  /** Whether this carrier's and the partner's commitments of that round are on the ledger. */
  weCommitted: boolean;
  theyCommitted: boolean;
}

type Committing = Pick<LocalAgreement, "agreementId" | "partnerId" | "side"> & { secret: Uint8Array };

/**
 * The commitment of `summary` (closed on this node) for the round a commit sent now lands in, and what
 * the ledger holds of that round.
 * @throws InputError when the node key is not registered for a carrier; BaseError when the chain
 * cannot be read.
 */
export async function ownCommitment(
  chain: ChainClient,
  agreement: Committing,
  period: number,
  summary: Pick<StoredSummary, "root" | "amountAB" | "amountBA">,
): Promise<OwnCommitment> {
  if (!chain.address) throw new InputError("the chain client has no node key to sign with");
  const carrierId = await chain.registry.carrierOfNode(chain.address);
  if (carrierId === ZeroHash) {
    throw new InputError(
      `the node key ${chain.address} is not registered as a node of any carrier on the ledger`,
    );
  }
  const [record, state] = await Promise.all([
    chain.ledger.periodRecord(agreement.agreementId, period),
    periodState(chain, agreement.agreementId, period),
  ]);
  // A commit sent while Mismatched starts the next (correction) round: the commitment binds that round.
  const round = commitRound(state, Number(record.round));
  const salt = hexlify(commitmentSalt(agreement.secret, agreement.agreementId, period, round));
  const commitment = computeCommitment({
    chainId: chain.chainId,
    ledger: chain.deployment.ledger,
    agreementId: agreement.agreementId,
    period,
    round,
    party: carrierId,
    root: summary.root,
    amountAB: summary.amountAB,
    amountBA: summary.amountBA,
    salt,
  });
  const [ours, theirs] = agreement.side === "A" ? [record.hashA, record.hashB] : [record.hashB, record.hashA];
  // Before the correction round starts, the hashes on the ledger are the previous round's.
  const sameRound = round === Number(record.round);
  return {
    carrierId: carrierId.toLowerCase(),
    round,
    commitment,
    state,
    weCommitted: sameRound && ours !== ZeroHash,
    theyCommitted: sameRound && theirs !== ZeroHash,
  };
}

/**
 * The closed summary of the period, rebuilt and frozen first when it was built but not closed.
 * @throws InputError when nothing was built.
 */
async function closedSummary(db: Database, agreement: Committing, period: number): Promise<StoredSummary> {
  let summary = await loadSummary(db, agreement.agreementId, period, { leaves: false });
  if (!summary) throw new InputError(`no summary of ${agreement.agreementId} ${period} has been built`);
  if (summary.committedAt === null) {
    // Rebuilt and frozen in one locked transaction: CDRs stored since the build are counted, and
    // any stored from now on is late. (icl period close builds frozen and skips this.)
    await buildSummary(
      db,
      { agreementId: agreement.agreementId, period, partnerId: agreement.partnerId, side: agreement.side },
      periodSalt(agreement.secret, agreement.agreementId, period),
      { freeze: true },
    );
    summary = (await loadSummary(db, agreement.agreementId, period, { leaves: false }))!;
  }
  return summary;
}

/**
 * The summary this node closed for the period, or null when it has not closed it (never frozen).
 * @throws BaseError when the database cannot be read.
 */
export async function closedSummaryOrNull(
  db: Queryable,
  agreementId: string,
  period: number,
): Promise<StoredSummary | null> {
  const summary = await loadSummary(db, agreementId, period, { leaves: false });
  return summary === null || summary.committedAt === null ? null : summary;
}

/**
 * Commits the stored summary of `agreementId`/`period` with the node key of `chain`; with `partner`
 * (the partner's commitment of the same round, signed by its node and checked), both in one
 * `commitBoth` while the partner's side is not on the ledger.
 * @throws InputError when the node key is not registered for a carrier or nothing was built;
 * ConflictError when the transaction reverted; ContractRevertError/UnavailableError from the chain.
 */
export async function commitSummary(
  db: Database,
  chain: ChainClient,
  agreement: Committing,
  period: number,
  options: { partner?: PartnerCommitment | null } = {},
): Promise<CommitResult> {
  if (!chain.transactions || !chain.address)
    throw new InputError("the chain client has no node key to sign with");
  const summary = await closedSummary(db, agreement, period);
  const own = await ownCommitment(chain, agreement, period, summary);
  const { carrierId, round, commitment } = own;
  const idempotencyKey = `commit:${agreement.agreementId}:${period}:${round}`;
  const bothKey = `commit-both:${agreement.agreementId}:${period}:${round}`;
  const sentBoth = await chain.transactions.lookup(bothKey);
  if (sentBoth?.status === "confirmed" && sentBoth.txHash !== null && sentBoth.blockNumber !== null) {
    const { txHash, blockNumber } = sentBoth;
    return { carrierId, round, commitment, txHash, blockNumber, alreadyCommitted: true, both: true };
  }
  const alreadyCommitted = (await chain.transactions.lookup(idempotencyKey))?.status === "confirmed";
  const partner = options.partner;
  let view = own;
  if (
    partner &&
    !alreadyCommitted &&
    partner.round === round &&
    own.state === "Committing" &&
    !own.weCommitted &&
    !own.theyCommitted
  ) {
    // An empty signature stands for the sender: this node commits its own side.
    const sides: [string, string, string, string] =
      agreement.side === "A"
        ? [commitment, "0x", partner.commitment, partner.signature]
        : [partner.commitment, partner.signature, commitment, "0x"];
    try {
      const result = await chain.transactions.send({
        kind: "commit-both",
        idempotencyKey: bothKey,
        to: chain.deployment.ledger,
        data: chain.ledger.interface.encodeFunctionData("commitBoth", [
          agreement.agreementId,
          period,
          ...sides,
        ]),
      });
      if (result.status === "confirmed") {
        return {
          carrierId,
          round,
          commitment,
          txHash: result.txHash,
          blockNumber: result.blockNumber,
          alreadyCommitted,
          both: true,
        };
      }
    } catch (error) {
      if (!(error instanceof ContractRevertError)) throw error;
    }
    // The partner's node sent commitBoth first (both on the ledger), or its signature no longer counts:
    // what the ledger holds decides.
    view = await ownCommitment(chain, agreement, period, summary);
  }
  if (view.weCommitted && !alreadyCommitted) {
    const landed = await committedBy(chain, agreement.agreementId, period, carrierId, round);
    if (landed !== null)
      return { carrierId, round, commitment, ...landed, alreadyCommitted: true, both: true };
  }
  const result = await chain.transactions.send({
    kind: "commit",
    idempotencyKey,
    to: chain.deployment.ledger,
    data: chain.ledger.interface.encodeFunctionData("commit", [agreement.agreementId, period, commitment]),
  });
  if (result.status !== "confirmed") {
    throw new ConflictError(`the commit transaction ${result.txHash} reverted`, result.error ?? undefined);
  }
  if (result.txHash === "") throw new BaseError("the transaction manager returned no transaction");
  return {
    carrierId,
    round,
    commitment,
    txHash: result.txHash,
    blockNumber: result.blockNumber,
    alreadyCommitted,
    both: false,
  };
}

/** The transaction that put `carrierId`'s commitment of `round` on the ledger (the partner's commitBoth). */
async function committedBy(
  chain: ChainClient,
  agreementId: string,
  period: number,
  carrierId: string,
  round: number,
): Promise<{ txHash: string; blockNumber: bigint } | null> {
  const events = await chain.ledger.queryFilter(
    chain.ledger.filters.Committed(agreementId, period, carrierId),
  );
  const event = events.find((e) => Number(e.args.round) === round);
  return event ? { txHash: event.transactionHash, blockNumber: BigInt(event.blockNumber) } : null;
}
