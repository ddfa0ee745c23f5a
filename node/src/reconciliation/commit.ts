/**
 * Commits a stored usage summary to the ledger: the commitment binds the chain, the ledger, agreement,
 * period, round, this carrier, the summary's root and both totals under a per-round salt
 * (docs/PROTOCOL.md, "On chain").
 * The summary is marked committed *before* the transaction is sent, so a crash between the two can
 * never let a rebuilt summary (say, after a late batch) differ from what went on chain; the
 * transaction manager's idempotency key (`commit:<agreement>:<period>:<round>`) makes a re-run send
 * nothing twice.
 */
import { ZeroHash, hexlify } from "ethers";
import type { ChainClient } from "../chain/client";
import { loadSummary, type StoredSummary } from "../db/summaries";
import type { Database } from "../db/database";
import { BaseError, ConflictError, InputError } from "../errors";
import type { LocalAgreement } from "../db/agreements";
import { buildSummary } from "../summaries/build-summary";
import { commitmentSalt, periodSalt } from "../summaries/encoding";
import { commitRound, computeCommitment } from "../protocol";
import { periodState } from "./reveal";

export interface CommitResult {
  carrierId: string;
  round: number;
  commitment: string;
  txHash: string;
  blockNumber: bigint;
  alreadyCommitted: boolean;
}

/**
 * Commits the stored summary of `agreementId`/`period` with the node key of `chain`.
 * @throws InputError when the node key is not registered for a carrier or nothing was built;
 * ConflictError when the transaction reverted; ContractRevertError/UnavailableError from the chain.
 */
export async function commitSummary(
  db: Database,
  chain: ChainClient,
  agreement: Pick<LocalAgreement, "agreementId" | "partnerId" | "side"> & { secret: Uint8Array },
  period: number,
): Promise<CommitResult> {
  if (!chain.transactions || !chain.address)
    throw new InputError("the chain client has no node key to sign with");
  let summary: StoredSummary | null = await loadSummary(db, agreement.agreementId, period, {
    leaves: false,
  });
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
  const idempotencyKey = `commit:${agreement.agreementId}:${period}:${round}`;
  const alreadyCommitted = (await chain.transactions.lookup(idempotencyKey))?.status === "confirmed";
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
  };
}
