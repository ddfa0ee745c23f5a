/**
 * Where a period stands for its officers on the co-signed fast path (cosign.ts): whether this node
 * leaves it to the fast path now (cosign.ts `fastPathStatus` decides), the `Settlement` its officers sign then,
 * how many of each carrier's officers signed it so far. What the API and the console show an officer
 * before and after signing.
 */
import type { ChainClient } from "../chain/client";
import type { Database } from "../db/database";
import { ConflictError, InputError } from "../errors";
import type { SettlementData } from "../protocol";
import { fastPathStatus, gatheredSignatures, ourSettlement } from "./cosign";
import { carrierName, type PeriodContext } from "./period-context";

/** The current officers of one carrier who signed the period's `Settlement`, and its threshold. */
export interface CarrierSignatures {
  carrier: string;
  name: string;
  /** Officers' addresses (lower case), in the order the node received their signatures. */
  signers: string[];
  threshold: number;
}

/** How far both carriers' officers are with one `Settlement`, as this node holds their signatures. */
export interface FastPathProgress {
  ours: CarrierSignatures;
  theirs: CarrierSignatures;
}

/** A period on the fast path: what its officers sign, and how far both carriers' officers are. */
export interface FastPathSigning {
  settlement: SettlementData;
  progress: FastPathProgress;
}

/**
 * The period's {@link FastPathSigning} when this node leaves it to the fast path now, else null.
 * `enabled` is the node's `settlement.fastPath`.
 * @throws BaseError when the chain or the database cannot be read.
 */
export async function fastPathSigningIfOpen(
  db: Database,
  chain: ChainClient,
  ctx: PeriodContext,
  enabled: boolean,
): Promise<FastPathSigning | null> {
  if (ctx.side === null) return null;
  const status = await fastPathStatus(
    db,
    chain,
    { agreementId: ctx.agreementId, side: ctx.side },
    ctx.period,
    enabled,
  );
  return status.awaits ? signingOf(db, chain, ctx) : null;
}

/** The `Settlement` this node's officers sign for the period, and both carriers' progress on it. */
async function signingOf(db: Database, chain: ChainClient, ctx: PeriodContext): Promise<FastPathSigning> {
  const settlement = await ourSettlement(
    db,
    chain,
    { agreementId: ctx.agreementId, name: ctx.name },
    ctx.period,
  );
  return { settlement, progress: await signingProgress(db, chain, ctx, settlement) };
}

/**
 * The current officers of each carrier whose signature over exactly `settlement` this node holds
 * (`gatheredSignatures`), with each carrier's threshold.
 * @throws InputError when this node is not party; BaseError when the chain or the database cannot be read.
 */
export async function signingProgress(
  db: Database,
  chain: ChainClient,
  ctx: PeriodContext,
  settlement: SettlementData,
): Promise<FastPathProgress> {
  if (ctx.ourCarrier === null || ctx.theirCarrier === null) {
    throw new InputError(`this node is not party to ${ctx.name}`);
  }
  const of = async (carrier: string): Promise<CarrierSignatures> => {
    const gathered = await gatheredSignatures(db, chain, settlement, carrier);
    return { carrier, name: carrierName(carrier), signers: gathered.officers, threshold: gathered.threshold };
  };
  return { ours: await of(ctx.ourCarrier), theirs: await of(ctx.theirCarrier) };
}

/**
 * The period's {@link FastPathSigning}: what an officer of this carrier signs to approve a period the
 * node leaves to the fast path.
 * @throws InputError when this node is not party; ConflictError naming why when the period is not on
 * the fast path (cosign.ts `fastPathStatus`).
 */
export async function requireFastPathSigning(
  db: Database,
  chain: ChainClient,
  ctx: PeriodContext,
  enabled: boolean,
): Promise<FastPathSigning> {
  if (ctx.side === null) throw new InputError(`this node is not party to ${ctx.name}`);
  const status = await fastPathStatus(
    db,
    chain,
    { agreementId: ctx.agreementId, side: ctx.side },
    ctx.period,
    enabled,
  );
  if (!status.awaits)
    throw new ConflictError(`${ctx.label} is not waiting on the co-signed fast path: ${status.reason}`);
  return signingOf(db, chain, ctx);
}
