/**
 * Approving before the reveal, end to end (docs/PROTOCOL.md, "Choosing the path"): with
 * `settlement.approveBeforeReveal` on, a period this node committed is held in Revealing, once both
 * openings are known (opening-exchange.ts) and reconcile (settlement/pre-reveal.ts), while both
 * carriers' officers sign their `Approval` of the figures the ledger will evaluate. Each pass the node
 *
 * 1. exchanges those signatures with the partner's node (peer resource `approval`): its officers' for the
 *    partner's officers', each side checking what it receives against the figures it computes itself
 *    from the two openings;
 * 2. once it holds both carriers' thresholds, party A's node sends one `revealAndSettle`: both openings,
 *    both approvals and the settlement from escrow in one transaction;
 * 3. reveals as before (revealBoth) when the openings do not reconcile, when the approvals are not all in
 *    `settlement.revealFallbackMs` before the reveal deadline, or when the transaction would revert (a
 *    payer short of escrow). The officers' signatures are not lost then: they cover the same struct
 *    `approveWithSignatures` takes after the reveal, and {@link ApprovalExchange.submitHeld} sends them.
 */
import { id as keccakText } from "ethers";
import type { ChainClient } from "../chain/client";
import { ContractRevertError } from "../chain/errors";
import { officerSigner } from "../chain/officer-signer";
import { requireAgreement, type LocalAgreement } from "../db/agreements";
import type { Database } from "../db/database";
import { BaseError, ConflictError, InputError } from "../errors";
import type { Logger } from "../logger";
import { approvalDigest, type ApprovalData, type PeriodStateName } from "../protocol";
import {
  gatheredApprovals,
  keepSignature,
  listStoredApprovals,
  markSubmitted,
  prepareApproval,
  submitIfReady,
} from "../settlement/approvals";
import { isoTime, loadPeriodContext, type PeriodContext } from "../settlement/period-context";
import { preReveal, preRevealApproval, type PreReveal } from "../settlement/pre-reveal";
import { requireFundedApproval } from "../settlement/reservations";
import type { FastPathOptions } from "./fast-path";
import type { PeerClient } from "./peer-client";
import type { ApprovalAnswerer } from "./peer-server";
import { periodState } from "./reveal";

/** What approving before the reveal did for one period in one pass. */
export interface PreRevealReport {
  agreement: string;
  period: number;
  /** The period's state after the step. */
  state: PeriodStateName;
  /**
   * `held`: the node keeps the period unrevealed for officers' approvals (`detail` says whose are
   * missing); `settled`: this node sent revealAndSettle; `approved`: it sent the approvals gathered
   * before a reveal that came first (approveWithSignatures).
   */
  step: "held" | "settled" | "approved";
  detail: string;
  txHash: string | null;
}

export interface ApprovalExchangeParts {
  db: Database;
  chain: ChainClient;
  logger: Logger;
  /** This node's carrier. */
  carrierId: string;
  /** `settlement.*` of the config. */
  options: Pick<FastPathOptions, "approveBeforeReveal" | "revealFallbackMs">;
}

/** One carrier's signatures on the pre-reveal approval, as `gatheredApprovals` returns them. */
type Gathered = Awaited<ReturnType<typeof gatheredApprovals>>;

const refuse = (code: "NOT_HELD" | "FIGURES_DIFFER", message: string) => new BaseError(message, { code });

/** When the node stops holding the reveal: `revealFallbackMs` before the reveal deadline, to the earlier second. */
export function revealFallbackAt(
  revealDeadline: bigint,
  options: Pick<FastPathOptions, "revealFallbackMs">,
): bigint {
  return revealDeadline - BigInt(Math.ceil(options.revealFallbackMs / 1000));
}

export class ApprovalExchange {
  constructor(private readonly parts: ApprovalExchangeParts) {}

  /**
   * Before this node reveals a Revealing period: null when it should reveal now (approving before the
   * reveal is off, the openings are not both held or do not reconcile, the fallback time has come),
   * else what it did — held the reveal for officers, or revealed and settled in one transaction.
   * @throws BaseError when the chain or the database cannot be read, or a transaction cannot be sent.
   */
  async step(
    agreement: LocalAgreement & { secret: Uint8Array },
    period: number,
    peer: PeerClient | null,
  ): Promise<PreRevealReport | null> {
    const { db, chain, logger, options, carrierId } = this.parts;
    if (!options.approveBeforeReveal) return null;
    const ctx = await loadPeriodContext(chain, agreement, period);
    if (ctx.state !== "Revealing" || ctx.theirCarrier === null) return null;
    const pre = await preReveal(db, chain, ctx);
    if (pre === null || pre.outcome === "Mismatched") return null;
    const where = { agreement: agreement.name, period, round: pre.figures.round };
    const fallbackAt = revealFallbackAt(pre.revealDeadline, options);
    const ours = preRevealApproval(ctx, pre, carrierId);
    const theirs = preRevealApproval(ctx, pre, ctx.theirCarrier);
    if (peer !== null) await this.exchange(ctx, pre, ours, theirs, peer);
    const a = await gatheredApprovals(db, chain, ctx, ours);
    const b = await gatheredApprovals(db, chain, ctx, theirs);
    const progress =
      `${pre.outcome} on both openings; officers' approvals before the reveal: this carrier ` +
      `${a.signers.length}/${a.threshold}, the partner ${b.signers.length}/${b.threshold}`;
    if (ctx.chainNow >= fallbackAt) {
      logger.info("revealing: the approvals before the reveal are not all in", { ...where, progress });
      return null;
    }
    const held = (detail: string): PreRevealReport => ({
      agreement: agreement.name,
      period,
      state: ctx.state,
      step: "held",
      detail: `${detail}; revealing at ${isoTime(fallbackAt)} otherwise`,
      txHash: null,
    });
    if (a.signers.length < a.threshold || b.signers.length < b.threshold) {
      return held(peer === null ? `${progress}; no peer URL for the agreement` : progress);
    }
    if (agreement.side !== "A") return held(`${progress}; party A's node reveals and settles`);
    const [approvalA, approvalB] = [ours, theirs];
    try {
      await requireFundedApproval(chain, ctx, approvalA);
      await requireFundedApproval(chain, ctx, approvalB);
    } catch (error) {
      if (error instanceof InputError) return held(`${progress}; ${error.shortMessage}`);
      throw error;
    }
    return this.revealAndSettle(ctx, pre, approvalA, a, b, held);
  }

  /**
   * For a period revealed while this node held approvals signed before the reveal (the fallback, or the
   * partner's node revealed): sends them (approveWithSignatures) once they reach the threshold; null when
   * there is nothing to send.
   * @throws BaseError when the chain or the database cannot be read, or the transaction reverted.
   */
  async submitHeld(
    agreement: LocalAgreement & { secret: Uint8Array },
    period: number,
    state: PeriodStateName,
  ): Promise<PreRevealReport | null> {
    const { db, chain } = this.parts;
    if (state !== "Matched" && state !== "Reconciled") return null;
    const ctx = await loadPeriodContext(chain, agreement, period);
    const round = Number((await chain.ledger.periodRecord(agreement.agreementId, period)).round);
    const stored = await listStoredApprovals(db, ctx, round, false);
    if (!stored.some((s) => s.submittedTx === null)) return null;
    if ((await chain.ledger.approvalsOf(ctx.agreementId, period, ctx.ourCarrier!, false)).approved)
      return null;
    const { approval } = await prepareApproval(db, chain, ctx, false);
    let progress;
    try {
      progress = await submitIfReady(db, chain, ctx, approval);
    } catch (error) {
      // A payer short of escrow: the signatures stay; the next pass (or an officer) tries again.
      if (error instanceof InputError) return null;
      throw error;
    }
    if (progress.status !== "submitted") return null;
    return {
      agreement: agreement.name,
      period,
      state: await periodState(chain, agreement.agreementId, period),
      step: "approved",
      detail: `sent the approvals of ${progress.signers.length} officers signed before the reveal`,
      txHash: progress.txHash,
    };
  }

  /**
   * Answers the partner's `approval` request: keeps the partner's officers' signatures that verify over
   * the figures this node computes from both openings and returns this carrier's; refuses (HTTP 409)
   * when this node does not hold the round before its reveal (`NOT_HELD`) or a signature does not verify
   * (`FIGURES_DIFFER`).
   */
  readonly answer: ApprovalAnswerer = async (agreementId, period, request) => {
    const { db, chain, options, carrierId } = this.parts;
    if (!options.approveBeforeReveal) {
      throw refuse("NOT_HELD", "this node's officers approve after the reveal");
    }
    const agreement = await requireAgreement(db, agreementId);
    const ctx = await loadPeriodContext(chain, agreement, period);
    const pre = ctx.state === "Revealing" ? await preReveal(db, chain, ctx) : null;
    if (pre === null || pre.outcome === "Mismatched" || pre.figures.round !== request.round) {
      throw refuse(
        "NOT_HELD",
        `this node does not hold round ${request.round} of ${period} before its reveal (the period is ${ctx.state})`,
      );
    }
    if (BigInt(request.deadline) !== pre.deadline) {
      throw refuse("FIGURES_DIFFER", `the approvals are for another deadline than ${isoTime(pre.deadline)}`);
    }
    const theirs = preRevealApproval(ctx, pre, ctx.theirCarrier!);
    for (const signature of request.signatures) {
      const officer = await this.verify(theirs, signature);
      if (officer === null) {
        throw refuse(
          "FIGURES_DIFFER",
          "a signature does not verify as the partner's officers' over both openings' figures",
        );
      }
      await keepSignature(db, theirs, officer, signature);
    }
    const ours = await gatheredApprovals(db, chain, ctx, preRevealApproval(ctx, pre, carrierId));
    return {
      status: ours.signers.length >= ours.threshold ? "signed" : "waiting",
      signatures: ours.signers.map((s) => s.signature),
    };
  };

  /** The partner's current officer whose signature `signature` is on `approval`, or null. */
  private async verify(approval: ApprovalData, signature: string): Promise<string | null> {
    const { chain } = this.parts;
    let officer: string;
    try {
      officer = await officerSigner(chain, approvalDigest(chain.ledgerDomain, approval), signature);
    } catch (error) {
      if (error instanceof ConflictError || error instanceof InputError) return null;
      throw error;
    }
    return (await chain.registry.isOfficer(approval.carrierId, officer)) ? officer.toLowerCase() : null;
  }

  /** Sends this carrier's signatures and keeps the partner's that verify (an unreachable partner is asked next pass). */
  private async exchange(
    ctx: PeriodContext,
    pre: PreReveal,
    ours: ApprovalData,
    theirs: ApprovalData,
    peer: PeerClient,
  ): Promise<void> {
    const { db, chain, logger } = this.parts;
    const gathered = await gatheredApprovals(db, chain, ctx, ours);
    let answer;
    try {
      answer = await peer.approval(ctx.agreementId, ctx.period, {
        round: pre.figures.round,
        deadline: pre.deadline.toString(),
        signatures: gathered.signers.map((s) => s.signature),
      });
    } catch (error) {
      logger.info("no approvals from the partner's node yet; asking again next pass", {
        agreement: ctx.name,
        period: ctx.period,
        error: error instanceof BaseError ? (error.details ?? error.shortMessage) : String(error),
      });
      return;
    }
    for (const signature of answer.signatures) {
      const officer = await this.verify(theirs, signature);
      if (officer === null) {
        logger.warn(
          "refused a signature the partner's node sent: not its officers' over both openings' figures",
          {
            agreement: ctx.name,
            period: ctx.period,
          },
        );
        continue;
      }
      await keepSignature(db, theirs, officer, signature);
    }
  }

  private async revealAndSettle(
    ctx: PeriodContext,
    pre: PreReveal,
    approvalA: ApprovalData,
    a: Gathered,
    b: Gathered,
    held: (detail: string) => PreRevealReport,
  ): Promise<PreRevealReport> {
    const { db, chain, logger } = this.parts;
    if (!chain.transactions) throw new InputError("the chain client has no node key to sign with");
    // The thresholds as gatheredApprovals read them: no second registry read.
    const signersA = a.signers.slice(0, a.threshold);
    const signersB = b.signers.slice(0, b.threshold);
    const sigsA = signersA.map((s) => s.signature);
    const sigsB = signersB.map((s) => s.signature);
    let result;
    try {
      result = await chain.transactions.send({
        kind: "reveal-settle",
        // One submission per set of signatures: a set that failed never blocks another.
        idempotencyKey: `reveal-settle:${ctx.agreementId}:${ctx.period}:${pre.figures.round}:${pre.deadline}:${keccakText([...sigsA, ...sigsB].join(",")).slice(2, 18)}`,
        to: chain.deployment.ledger,
        data: chain.ledger.interface.encodeFunctionData("revealAndSettle", [
          approvalA,
          pre.openingA,
          pre.openingB,
          sigsA,
          sigsB,
        ]),
      });
    } catch (error) {
      if (!(error instanceof ContractRevertError)) throw error;
      logger.warn("revealAndSettle would revert; holding the reveal until the fallback", {
        agreement: ctx.name,
        period: ctx.period,
        error: error.shortMessage,
      });
      return held(`revealAndSettle would revert (${error.shortMessage})`);
    }
    if (result.status !== "confirmed") {
      throw new ConflictError(
        `the revealAndSettle transaction ${result.txHash} reverted`,
        result.error ?? undefined,
      );
    }
    await markSubmitted(
      db,
      ctx,
      pre.figures.round,
      false,
      [...signersA, ...signersB].map((s) => s.officer),
      result.txHash,
    );
    return {
      agreement: ctx.name,
      period: ctx.period,
      state: await periodState(chain, ctx.agreementId, ctx.period),
      step: "settled",
      detail: `${pre.outcome}: revealed both openings, approved by both carriers and settled in one transaction`,
      txHash: result.txHash,
    };
  }
}
