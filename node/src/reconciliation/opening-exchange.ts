/**
 * The cooperative reveal: both openings in one `revealBoth` (docs/PROTOCOL.md, "Choosing the path").
 * Once both commitments of the round are on the ledger, and neither is opened, the node sends its opening
 * (root, totals, the round's salt) to the partner's node (peer resource `opening`) and receives the
 * partner's. The receiver answers only then, as the ledger shows it: before both commitments are on the
 * ledger an opening would let the other side commit figures copied from it, and the fairness of
 * commit–reveal rests on this check alone. Each side keeps the other's opening only when it hashes to the
 * partner's commitment on the ledger (protocol `computeCommitment`); holding it, the node sends
 * `revealBoth` (reveal.ts), else reveals alone, at once, as before.
 *
 * A kept opening also tells the node the figures the ledger will evaluate (protocol `evaluateClaims`)
 * before it does.
 */
import type { ChainClient } from "../chain/client";
import { requireAgreement, type LocalAgreement } from "../db/agreements";
import type { Database } from "../db/database";
import { loadPartnerOpening, savePartnerOpening, type PartnerOpening } from "../db/partner-exchange";
import { BaseError } from "../errors";
import type { Logger } from "../logger";
import { computeCommitment, type ContestClaim } from "../protocol";
import { partnerCarrier } from "../settlement/period-context";
import type { PeerClient } from "./peer-client";
import type { OpeningAnswerer } from "./peer-server";
import type { OpeningMessage } from "./peer-wire";
import { committedOpening, periodState, revealSummary, type RevealResult } from "./reveal";

export interface OpeningExchangeParts {
  db: Database;
  chain: ChainClient;
  logger: Logger;
  /** This node's carrier. */
  carrierId: string;
}

/** The round whose two commitments are on the ledger, both unopened, with them; null when not so. */
export interface Committed {
  round: number;
  ours: string;
  theirs: string;
}

const ZERO = /^0x0{64}$/i;

/**
 * Whether both commitments of the period's current round are on the ledger and neither is opened (the
 * period is Revealing): only then may openings travel.
 * @throws BaseError when the chain cannot be read.
 */
export async function bothCommitted(
  chain: ChainClient,
  agreementId: string,
  period: number,
  side: "A" | "B",
): Promise<Committed | null> {
  const [state, record] = await Promise.all([
    periodState(chain, agreementId, period),
    chain.ledger.periodRecord(agreementId, period),
  ]);
  if (state !== "Revealing") return null;
  if (Number(record.statusA) !== 0 || Number(record.statusB) !== 0) return null;
  if (ZERO.test(record.hashA) || ZERO.test(record.hashB)) return null;
  const [ours, theirs] = side === "A" ? [record.hashA, record.hashB] : [record.hashB, record.hashA];
  return { round: Number(record.round), ours: ours.toLowerCase(), theirs: theirs.toLowerCase() };
}

const wireOf = (round: number, o: ContestClaim): OpeningMessage => ({
  round,
  root: o.root.toLowerCase(),
  amountAB: o.amountAB.toString(),
  amountBA: o.amountBA.toString(),
  salt: o.salt.toLowerCase(),
});

/** The commitment `party`'s opening of `round` makes on this ledger (protocol `computeCommitment`), lower case. */
function commitmentOf(
  chain: ChainClient,
  agreementId: string,
  period: number,
  round: number,
  party: string,
  opening: ContestClaim,
): string {
  return computeCommitment({
    chainId: chain.chainId,
    ledger: chain.deployment.ledger,
    agreementId,
    period,
    round,
    party,
    ...opening,
  }).toLowerCase();
}

/**
 * This node's opening of its commitment of the round on the ledger (`committed`, {@link bothCommitted}):
 * its committed summary's root and totals with the round's salt, or null when they do not open it.
 * @throws BaseError when the database cannot be read.
 */
export async function ownOpening(
  db: Database,
  chain: ChainClient,
  agreement: { agreementId: string; secret: Uint8Array },
  period: number,
  committed: Committed,
  carrierId: string,
): Promise<ContestClaim | null> {
  const own = await committedOpening(db, agreement, period, committed.round);
  if (own === null) return null;
  const opens = commitmentOf(chain, agreement.agreementId, period, committed.round, carrierId, own);
  return opens === committed.ours ? own : null;
}

export class OpeningExchange {
  constructor(private readonly parts: OpeningExchangeParts) {}

  /**
   * While both commitments are on the ledger unopened, sends this node's opening to the partner's node
   * and keeps the partner's that opens the partner's commitment (once per round). An unreachable or
   * refusing partner, or an opening that does not verify, leaves the node revealing alone.
   * @throws BaseError when the chain or the database cannot be read.
   */
  async exchange(
    agreement: LocalAgreement & { secret: Uint8Array },
    period: number,
    peer: PeerClient | null,
  ): Promise<void> {
    const { db, chain, logger } = this.parts;
    const committed = await bothCommitted(chain, agreement.agreementId, period, agreement.side);
    if (committed === null || peer === null) return;
    if ((await loadPartnerOpening(db, agreement.agreementId, period, committed.round)) !== null) return;
    const own = await ownOpening(db, chain, agreement, period, committed, this.parts.carrierId);
    if (own === null) return;
    const where = { agreement: agreement.name, period, round: committed.round };
    try {
      const answer = await peer.opening(agreement.agreementId, period, wireOf(committed.round, own));
      await this.accept(agreement.agreementId, period, committed, answer);
    } catch (error) {
      const why = error instanceof BaseError ? (error.details ?? error.shortMessage) : String(error);
      if (error instanceof BaseError && error.code === "OPENING_REFUSED") {
        logger.warn("refused the partner's opening; not using it", { ...where, error: why });
      } else {
        logger.info("no opening from the partner's node; revealing alone", { ...where, error: why });
      }
    }
  }

  /**
   * Reveals the period this node committed: both openings in one `revealBoth` when it holds the
   * partner's opening of the round ({@link exchange}), else its own.
   * @throws as reveal.ts `revealSummary`.
   */
  async reveal(agreement: LocalAgreement & { secret: Uint8Array }, period: number): Promise<RevealResult> {
    const { db, chain } = this.parts;
    const round = Number((await chain.ledger.periodRecord(agreement.agreementId, period)).round);
    const partner = await loadPartnerOpening(db, agreement.agreementId, period, round);
    return revealSummary(db, chain, agreement, period, { partner });
  }

  /**
   * Answers the partner's `opening` request, only while both commitments of the round are on the ledger
   * unopened (else `NOT_COMMITTED`, nothing kept): keeps the partner's opening once it hashes to the
   * partner's commitment (else `OPENING_REFUSED`) and answers with this node's own.
   */
  readonly answer: OpeningAnswerer = async (agreementId, period, request) => {
    const agreement = await requireAgreement(this.parts.db, agreementId);
    const committed = await bothCommitted(this.parts.chain, agreement.agreementId, period, agreement.side);
    if (committed === null || committed.round !== request.round) {
      throw new BaseError(
        `both commitments of round ${request.round} of ${period} are not on the ledger unopened; openings travel only then`,
        { code: "NOT_COMMITTED" },
      );
    }
    await this.accept(agreement.agreementId, period, committed, request);
    const own = await ownOpening(
      this.parts.db,
      this.parts.chain,
      agreement,
      period,
      committed,
      this.parts.carrierId,
    );
    if (own === null) {
      throw new BaseError(`this node holds no summary that opens its commitment of ${period}`, {
        code: "NOT_FOUND",
      });
    }
    return wireOf(committed.round, own);
  };

  /**
   * Keeps the partner's opening once it hashes to the partner's commitment of the round on the ledger.
   * @throws BaseError `OPENING_REFUSED` when it does not (another round, other figures, another salt).
   */
  private async accept(
    agreementId: string,
    period: number,
    committed: Committed,
    wire: OpeningMessage,
  ): Promise<PartnerOpening> {
    const carrierId = await partnerCarrier(this.parts.chain, agreementId, period, this.parts.carrierId);
    const opening: ContestClaim = {
      root: wire.root,
      amountAB: BigInt(wire.amountAB),
      amountBA: BigInt(wire.amountBA),
      salt: wire.salt,
    };
    if (
      wire.round !== committed.round ||
      commitmentOf(this.parts.chain, agreementId, period, wire.round, carrierId, opening) !== committed.theirs
    ) {
      throw new BaseError(
        `the partner's opening of round ${wire.round} does not hash to its commitment on the ledger`,
        { code: "OPENING_REFUSED" },
      );
    }
    const kept = { agreementId, period, round: wire.round, carrierId, ...opening };
    await savePartnerOpening(this.parts.db, kept);
    return kept;
  }
}
