/**
 * A period held for approvals before its reveal (pre-reveal.ts), as the API and the console show it to an
 * officer: the figures both carriers approve, the one deadline, and how many of each carrier's officers
 * signed so far (as this node holds their signatures: its own officers', and the partner's its node sent).
 */
import type { ChainClient } from "../chain/client";
import type { Database } from "../db/database";
import { gatheredApprovals } from "./approvals";
import { carrierName, type PeriodContext } from "./period-context";
import { preReveal, preRevealApproval } from "./pre-reveal";

/** One carrier's officers who signed the approval before the reveal, as this node holds them. */
export interface PreRevealSigners {
  carrier: string;
  name: string;
  /** Current officers whose signatures this node holds, in the order received. */
  signers: string[];
  threshold: number;
}

/** A period held for approvals before its reveal: what both carriers approve, and how far each is. */
export interface PreRevealSigning {
  outcome: "Matched" | "Reconciled";
  amountAB: bigint;
  amountBA: bigint;
  /** The one deadline both carriers sign. */
  deadline: bigint;
  ours: PreRevealSigners;
  theirs: PreRevealSigners;
}

/**
 * The period's {@link PreRevealSigning} while officers can approve it before its reveal (Revealing, both
 * openings held and reconciling), else null: what the API and the console show an officer.
 * @throws BaseError when the chain or the database cannot be read.
 */
export async function preRevealSigning(
  db: Database,
  chain: ChainClient,
  ctx: PeriodContext,
): Promise<PreRevealSigning | null> {
  if (ctx.state !== "Revealing" || ctx.ourCarrier === null || ctx.theirCarrier === null) return null;
  const pre = await preReveal(db, chain, ctx);
  if (pre === null || pre.outcome === "Mismatched") return null;
  const of = async (carrierId: string): Promise<PreRevealSigners> => {
    const gathered = await gatheredApprovals(db, chain, ctx, preRevealApproval(ctx, pre, carrierId));
    return {
      carrier: carrierId,
      name: carrierName(carrierId),
      signers: gathered.signers.map((s) => s.officer.toLowerCase()),
      threshold: gathered.threshold,
    };
  };
  return {
    outcome: pre.outcome,
    amountAB: pre.figures.amountAB,
    amountBA: pre.figures.amountBA,
    deadline: pre.deadline,
    ours: await of(ctx.ourCarrier),
    theirs: await of(ctx.theirCarrier),
  };
}
