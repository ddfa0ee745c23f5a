/**
 * Officers' EIP-712 approvals as the node takes them: the approval to sign now (or why the period is
 * the fast path's instead), and a signature handed in, kept and submitted once a threshold signed.
 */
import type { ChainClient } from "../chain/client";
import { requireAgreement } from "../db/agreements";
import type { Database } from "../db/database";
import type { ResolvedConfig } from "../config/config";
import { ConflictError, InputError, UnavailableError } from "../errors";
import type { ApprovalData } from "../protocol";
import {
  acceptSignature,
  prepareApproval,
  submitIfReady,
  type ApprovalProgress,
  type Figures,
} from "../settlement/approvals";
import { acceptSettlementSignature, awaitsFastPath } from "../settlement/cosign";
import {
  requireFastPathSigning,
  signingProgress,
  type FastPathProgress,
  type FastPathSigning,
} from "../settlement/cosign-status";
import { loadPeriodContext } from "../settlement/period-context";

export interface ApprovalsService {
  /**
   * The approval this carrier's officers sign now for the period (`partial`: its undisputed part).
   * @throws NotFoundError for an unknown agreement; ConflictError when the state allows no such
   * approval, naming the fast path when the node leaves the period to it; InputError when this node
   * is not party; BaseError when the chain cannot be read.
   */
  prepare(
    chain: ChainClient,
    agreement: string,
    period: number,
    partial: boolean,
  ): Promise<{ approval: ApprovalData; figures: Figures; reusedDeadline: boolean }>;
  /**
   * Checks and keeps an officer's signature of `approval`, then submits the gathered signatures once a
   * threshold of current officers signed. Returns the officer and the carrier's progress.
   * @throws NotFoundError for an unknown agreement; ConflictError naming what differs or when the
   * transaction reverted; InputError for a malformed signature or too little escrow; UnavailableError
   * when the chain cannot be read, or (code `NO_NODE_KEY`) when the node has no key to submit with (the
   * signature is kept then).
   */
  submit(
    chain: ChainClient,
    agreement: string,
    period: number,
    approval: ApprovalData,
    signature: string,
  ): Promise<{ officer: string } & ApprovalProgress>;
  /**
   * The Settlement this carrier's officers sign for a period the node leaves to the co-signed fast path,
   * and each carrier's progress on it.
   * @throws NotFoundError for an unknown agreement; ConflictError naming why the period is not on the
   * fast path; BaseError when the chain or the database cannot be read.
   */
  fastPathSettlement(chain: ChainClient, agreement: string, period: number): Promise<FastPathSigning>;
  /**
   * Checks and keeps an officer's signature over this node's Settlement of the period; returns the
   * officer and each carrier's progress.
   * @throws NotFoundError for an unknown agreement; ConflictError when the period is not on the fast
   * path or the signature is refused; BaseError when the chain or the database cannot be read.
   */
  acceptFastPathSignature(
    chain: ChainClient,
    agreement: string,
    period: number,
    signature: string,
  ): Promise<{ officer: string; progress: FastPathProgress }>;
}

/** The approvals service of a node on `db` with `config`. Throws nothing. */
export function approvalsService(db: Database, config: ResolvedConfig): ApprovalsService {
  return {
    async prepare(chain, ref, period, partial) {
      const agreement = await requireAgreement(db, ref);
      const ctx = await loadPeriodContext(chain, agreement, period);
      try {
        return await prepareApproval(db, chain, ctx, partial);
      } catch (error) {
        // A period on the fast path is approved by signing its Settlement: say where, not just "no".
        const fastPath = config.config.settlement.fastPath;
        if (
          error instanceof ConflictError &&
          (await awaitsFastPath(db, chain, agreement, ctx.period, fastPath))
        ) {
          throw new ConflictError(
            `${ctx.label} waits on the co-signed fast path: its officers sign its Settlement ` +
              "(GET …/fast-path/settlement) instead of an approval",
          );
        }
        throw error;
      }
    },
    async submit(chain, ref, period, approval, signature) {
      const agreement = await requireAgreement(db, ref);
      const ctx = await loadPeriodContext(chain, agreement, period);
      const officer = await acceptSignature(db, chain, ctx, approval, signature);
      try {
        return { officer, ...(await submitIfReady(db, chain, ctx, approval)) };
      } catch (error) {
        if (error instanceof InputError && chain.transactions === null) {
          throw new UnavailableError("the signature was kept; this node has no key to submit with", {
            code: "NO_NODE_KEY",
            cause: error,
          });
        }
        throw error;
      }
    },
    async fastPathSettlement(chain, ref, period) {
      const ctx = await loadPeriodContext(chain, await requireAgreement(db, ref), period);
      return requireFastPathSigning(db, chain, ctx, config.config.settlement.fastPath);
    },
    async acceptFastPathSignature(chain, ref, period, signature) {
      const ctx = await loadPeriodContext(chain, await requireAgreement(db, ref), period);
      const { settlement } = await requireFastPathSigning(db, chain, ctx, config.config.settlement.fastPath);
      // Checked over this node's own Settlement: one signed over other figures recovers to someone else.
      const officer = await acceptSettlementSignature(
        db,
        chain,
        settlement,
        ctx.ourCarrier!,
        signature,
        ctx.chainNow,
      );
      return { officer, progress: await signingProgress(db, chain, ctx, settlement) };
    },
  };
}
