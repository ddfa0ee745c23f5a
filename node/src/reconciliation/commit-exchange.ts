/**
 * The cooperative commit: both commitments of a round in one `commitBoth` (docs/PROTOCOL.md, "Choosing
 * the path"). When this node commits a round it signs its commitment with the node key (EIP-712
 * `Commitment`, the ledger's domain) and offers it to the partner's node (peer resource `commitment`);
 * the partner answers with its own signed commitment of the round when it has one. A partner's signed
 * commitment, whether answered or offered, is kept only when its signature recovers to a current node of
 * the partner carrier over exactly that agreement, period, round and carrier. Holding one while its own
 * commitment is not on the ledger, the node sends `commitBoth` (commit.ts); otherwise it commits alone,
 * at once: the exchange never makes a commit wait.
 *
 * A commitment hides the figures behind the round's salt, so giving it away early reveals nothing;
 * openings are another matter (they travel only once both commitments are on the ledger).
 */
import { verifyTypedData, type Signer } from "ethers";
import type { ChainClient } from "../chain/client";
import { requireAgreement, type LocalAgreement } from "../db/agreements";
import type { Database } from "../db/database";
import { loadPartnerCommitment, savePartnerCommitment } from "../db/partner-exchange";
import { BaseError } from "../errors";
import type { Logger } from "../logger";
import { COMMITMENT_TYPES, type CommitmentData } from "../protocol";
import { closedSummaryOrNull, commitSummary, ownCommitment, type CommitResult } from "./commit";
import { partnerCarrier } from "../settlement/period-context";
import type { PeerClient } from "./peer-client";
import type { CommitmentAnswerer } from "./peer-server";

export interface CommitmentExchangeParts {
  db: Database;
  chain: ChainClient;
  /** The node key (the chain client's transaction manager signs with the same key). */
  signer: Signer;
  logger: Logger;
  /** This node's carrier. */
  carrierId: string;
}

export class CommitmentExchange {
  constructor(private readonly parts: CommitmentExchangeParts) {}

  /**
   * Commits the period this node closed: offers its signed commitment to the partner's node (when there
   * is a peer), keeps the partner's signed commitment it answers with, and sends `commitBoth` when it
   * holds one for the round, else commits alone. An unreachable or refusing partner, or an answer that
   * does not verify, leaves the node committing alone, as it would without the exchange.
   * @throws as commit.ts `commitSummary`.
   */
  async commit(
    agreement: LocalAgreement & { secret: Uint8Array },
    period: number,
    peer: PeerClient | null,
  ): Promise<CommitResult> {
    const { db, chain, logger } = this.parts;
    const summary = await closedSummaryOrNull(db, agreement.agreementId, period);
    if (summary !== null && peer !== null) {
      const own = await ownCommitment(chain, agreement, period, summary);
      if (own.state === "Committing" && !own.weCommitted && !own.theyCommitted) {
        const where = { agreement: agreement.name, period, round: own.round };
        try {
          const answer = await peer.commitment(agreement.agreementId, period, {
            round: own.round,
            commitment: own.commitment,
            signature: await this.sign({
              agreementId: agreement.agreementId.toLowerCase(),
              period,
              round: own.round,
              carrierId: own.carrierId,
              commitment: own.commitment,
            }),
          });
          if (answer.status === "signed") {
            if (answer.round !== own.round) {
              logger.warn("the partner's node signed its commitment for another round; committing alone", {
                ...where,
                theirRound: answer.round,
              });
            } else {
              await this.accept(agreement.agreementId, period, answer);
            }
          }
        } catch (error) {
          const why = error instanceof BaseError ? (error.details ?? error.shortMessage) : String(error);
          if (error instanceof BaseError && error.code === "COMMITMENT_REFUSED") {
            logger.warn("refused the partner's signed commitment; not using it", { ...where, error: why });
          } else {
            logger.info("no signed commitment from the partner's node yet", { ...where, error: why });
          }
        }
      }
    }
    const round = summary === null ? null : (await ownCommitment(chain, agreement, period, summary)).round;
    const partner =
      round === null ? null : await loadPartnerCommitment(db, agreement.agreementId, period, round);
    return commitSummary(db, chain, agreement, period, { partner });
  }

  /**
   * Answers the partner's `commitment` request: keeps its signed commitment once it verifies (else
   * refuses, `COMMITMENT_REFUSED`, keeping nothing) and answers with this node's signed commitment of
   * the round when it has closed the period and the round is round 0 and open for commits (`Committing`);
   * `waiting` otherwise. A correction round is committed by an operator (`icl period commit`), never on
   * a partner's request.
   */
  readonly answer: CommitmentAnswerer = async (agreementId, period, request) => {
    const { db, chain } = this.parts;
    const agreement = await requireAgreement(db, agreementId);
    await this.accept(agreement.agreementId, period, request);
    const summary = await closedSummaryOrNull(db, agreement.agreementId, period);
    if (summary === null) return { status: "waiting" };
    const own = await ownCommitment(chain, agreement, period, summary);
    if (own.state !== "Committing" || own.round !== 0 || own.round !== request.round) {
      return { status: "waiting" };
    }
    const signature = await this.sign({
      agreementId: agreement.agreementId.toLowerCase(),
      period,
      round: own.round,
      carrierId: own.carrierId,
      commitment: own.commitment,
    });
    return { status: "signed", round: own.round, commitment: own.commitment, signature };
  };

  private async sign(data: CommitmentData): Promise<string> {
    return (
      await this.parts.signer.signTypedData(this.parts.chain.ledgerDomain, COMMITMENT_TYPES, data)
    ).toLowerCase();
  }

  /**
   * Keeps the partner's signed commitment of `round` once its signature recovers, over exactly this
   * agreement, period, round and the partner's carrier, to a current node of the partner carrier.
   * @throws BaseError `COMMITMENT_REFUSED` naming what does not verify; BaseError when the chain cannot
   * be read.
   */
  private async accept(
    agreementId: string,
    period: number,
    signed: { round: number; commitment: string; signature: string },
  ): Promise<void> {
    const { db, chain } = this.parts;
    const carrierId = await partnerCarrier(chain, agreementId, period, this.parts.carrierId);
    const data: CommitmentData = {
      agreementId: agreementId.toLowerCase(),
      period,
      round: signed.round,
      carrierId,
      commitment: signed.commitment,
    };
    let node: string;
    try {
      node = verifyTypedData(chain.ledgerDomain, COMMITMENT_TYPES, data, signed.signature);
    } catch (error) {
      throw new BaseError("the partner's commitment signature is malformed", {
        code: "COMMITMENT_REFUSED",
        cause: error,
      });
    }
    const signerCarrier = (await chain.registry.carrierOfNode(node)).toLowerCase();
    if (signerCarrier !== carrierId) {
      throw new BaseError(
        `the commitment signature recovers to ${node}, no current node of the partner carrier, over round ${signed.round}'s commitment`,
        { code: "COMMITMENT_REFUSED" },
      );
    }
    await savePartnerCommitment(db, {
      agreementId,
      period,
      round: signed.round,
      carrierId,
      commitment: signed.commitment,
      node,
      signature: signed.signature,
    });
  }
}
