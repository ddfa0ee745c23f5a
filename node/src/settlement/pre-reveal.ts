/**
 * Approving before the reveal (docs/PROTOCOL.md, "Choosing the path"). Once both commitments of a round
 * are on the ledger and this node holds the partner's opening, checked against the partner's commitment
 * (reconciliation/opening-exchange.ts), it knows what the ledger will evaluate: the outcome and final
 * figures of the two openings (protocol `evaluateClaims`). When they reconcile (Matched, or Reconciled
 * within tolerance), both carriers' officers can sign their `Approval` of those figures now, and one
 * `revealAndSettle` opens both commitments, records both approvals and settles
 * (reconciliation/approval-exchange.ts), instead of a reveal, two approvals and a settlement.
 *
 * Both carriers sign one struct but for `carrierId`, deadline included: the deadline is fixed by the
 * round, `DEFAULT_VALID_SECONDS` after its reveal deadline, so both nodes compute the same one without
 * agreeing on it, and signatures gathered before the reveal still count after it when the node has
 * to reveal first (approveWithSignatures takes the same struct).
 */
import type { ChainClient } from "../chain/client";
import { requireAgreement } from "../db/agreements";
import type { Database } from "../db/database";
import { loadPartnerOpening } from "../db/partner-exchange";
import {
  evaluateClaims,
  TOLERANCE_RULES,
  type ApprovalData,
  type ContestClaim,
  type OutcomeName,
} from "../protocol";
import { bothCommitted, ownOpening } from "../reconciliation/opening-exchange";
import type { Figures } from "./approvals";
import type { PeriodContext } from "./period-context";

/** Validity of a pre-reveal approval past the round's reveal deadline: a week (approvals.ts's default). */
export const PRE_REVEAL_VALID_SECONDS = 7 * 86_400;

/** What both openings of the round give, before either is on the ledger. */
export interface PreReveal {
  outcome: Exclude<OutcomeName, "None">;
  /** The figures officers approve (zero amounts when Mismatched: nothing to approve). */
  figures: Figures;
  /** The one deadline both carriers' officers sign. */
  deadline: bigint;
  /** The round's reveal deadline on the ledger, unix seconds. */
  revealDeadline: bigint;
  openingA: ContestClaim;
  openingB: ContestClaim;
}

/**
 * The outcome and figures of the period's current round from both openings, while both commitments are
 * on the ledger unopened and this node holds its own opening and the partner's checked one; else null.
 * @throws InputError when this node is not party; BaseError when the chain or the database cannot be read.
 */
export async function preReveal(
  db: Database,
  chain: ChainClient,
  ctx: Pick<PeriodContext, "agreementId" | "period" | "side" | "ourCarrier" | "terms">,
): Promise<PreReveal | null> {
  if (ctx.side === null || ctx.ourCarrier === null) return null;
  const committed = await bothCommitted(chain, ctx.agreementId, ctx.period, ctx.side);
  if (committed === null) return null;
  const partner = await loadPartnerOpening(db, ctx.agreementId, ctx.period, committed.round);
  if (partner === null) return null;
  const agreement = await requireAgreement(db, ctx.agreementId);
  const own = await ownOpening(db, chain, agreement, ctx.period, committed, ctx.ourCarrier);
  if (own === null) return null;
  const [openingA, openingB] = ctx.side === "A" ? [own, partner] : [partner, own];
  const evaluated = evaluateClaims(openingA, openingB, {
    toleranceBps: ctx.terms.toleranceBps,
    toleranceAbs: ctx.terms.toleranceAbs,
    rule: TOLERANCE_RULES.indexOf(ctx.terms.rule),
  });
  const revealDeadline = BigInt((await chain.ledger.deadlines(ctx.agreementId, ctx.period)).revealDeadline);
  return {
    outcome: evaluated.outcome,
    figures: {
      amountAB: evaluated.amountAB,
      amountBA: evaluated.amountBA,
      rootA: openingA.root.toLowerCase(),
      rootB: openingB.root.toLowerCase(),
      round: committed.round,
    },
    deadline: revealDeadline + BigInt(PRE_REVEAL_VALID_SECONDS),
    revealDeadline,
    openingA: plain(openingA),
    openingB: plain(openingB),
  };
}

/** The `Approval` `carrierId`'s officers sign before the reveal: both openings' figures, the round's one deadline. */
export function preRevealApproval(
  ctx: Pick<PeriodContext, "agreementId" | "period">,
  pre: PreReveal,
  carrierId: string,
): ApprovalData {
  return {
    agreementId: ctx.agreementId,
    period: ctx.period,
    carrierId,
    round: pre.figures.round,
    partialSettlement: false,
    amountAB: pre.figures.amountAB,
    amountBA: pre.figures.amountBA,
    rootA: pre.figures.rootA,
    rootB: pre.figures.rootB,
    deadline: pre.deadline,
  };
}

const plain = (o: ContestClaim): ContestClaim => ({
  root: o.root,
  amountAB: o.amountAB,
  amountBA: o.amountBA,
  salt: o.salt,
});
