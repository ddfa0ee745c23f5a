/**
 * Which agreement-period a request names, and whether it exists: the two questions a period's view and
 * timeline ask before they read anything else (a dispute step planned asks the first; the ledger then
 * judges the period's state itself).
 *
 * - The agreement: this node's own, by its local name or id; or, for a reader of the whole ledger (a
 *   regulator, an arbiter), any agreement the ledger's agreement book holds, by its 0x id. Such an
 *   outsider's agreement is read from the chain alone: terms, period record, commitments, revealed
 *   figures, events. This node has no summary, report, evidence key or signatures for it, and so shows
 *   none.
 * - The period: a month the agreement's terms cover (not before its first version takes effect) and
 *   that has begun by the ledger's clock. Any other month would read as an empty Pending period, which
 *   tells the person nothing true; it is refused in words instead.
 */
import type { ChainClient } from "../chain/client";
import { agreementLabel } from "../chain/display";
import { requireAgreement } from "../db/agreements";
import type { Database } from "../db/database";
import { NotFoundError } from "../errors";
import { formatPeriod } from "../reconciliation/reveal";
import { chainCall } from "../settlement/escrow-tokens";
import { chainTime } from "../settlement/period-context";

/** An agreement as a period read names it. */
export interface NamedAgreement {
  agreementId: string;
  /** The local name when this node is party, else "CARRIER-A–CARRIER-B" from the ledger's terms. */
  name: string;
  /** This node's side, or null for an agreement it is not party to. */
  side: "A" | "B" | null;
}

/** Whether a read may name agreements this node is not party to (the ledger's, by id). */
export interface AgreementScope {
  outsiders?: boolean;
}

const AGREEMENT_ID = /^0x[0-9a-fA-F]{64}$/;

/**
 * The agreement `ref` names: this node's own (name or id), else, with `outsiders`, one the agreement
 * book holds (by id).
 * @throws NotFoundError for an agreement this node does not know (and, with `outsiders`, nor the
 * ledger); BaseError when the chain or the database cannot be read.
 */
export async function resolveAgreement(
  db: Database,
  chain: ChainClient,
  ref: string,
  scope: AgreementScope = {},
): Promise<NamedAgreement> {
  try {
    const { agreementId, name, side } = await requireAgreement(db, ref);
    return { agreementId, name, side };
  } catch (error) {
    // Not this node's: only a reader of the whole ledger goes on, and only with the ledger's id.
    if (!(error instanceof NotFoundError) || !scope.outsiders || !AGREEMENT_ID.test(ref)) throw error;
  }
  const agreementId = ref.toLowerCase();
  const versions = await chainCall("AgreementBook.versionCount", () => chain.book.versionCount(agreementId));
  if (versions === 0n) throw new NotFoundError(`agreement ${ref} is not on the ledger`);
  const { terms } = await chainCall("AgreementBook.versionOf", () => chain.book.versionOf(agreementId, 0));
  return { agreementId, name: agreementLabel(terms.carrierA, terms.carrierB), side: null };
}

/** The first second of `period` (YYYYMM), UTC. */
function periodStart(period: number): bigint {
  return BigInt(Date.UTC(Math.floor(period / 100), (period % 100) - 1, 1) / 1000);
}

/** YYYYMM of a time in seconds, UTC. */
function periodOf(seconds: bigint): number {
  const date = new Date(Number(seconds) * 1000);
  return date.getUTCFullYear() * 100 + date.getUTCMonth() + 1;
}

/**
 * Passes when `period` exists for the agreement: on or after its first version's `effectiveFrom`, and
 * begun by the ledger's clock (the current month exists; it has not closed yet).
 * @throws NotFoundError naming the agreement, the month and why; BaseError when the chain cannot be read.
 */
export async function requirePeriodOnLedger(
  chain: ChainClient,
  agreement: Pick<NamedAgreement, "agreementId" | "name">,
  period: number,
): Promise<void> {
  const label = `${agreement.name} ${formatPeriod(period)}`;
  const versions = await chainCall("AgreementBook.versionCount", () =>
    chain.book.versionCount(agreement.agreementId),
  );
  if (versions === 0n) {
    throw new NotFoundError(`there is no period ${label}: the agreement has no terms on the ledger`);
  }
  const { terms } = await chainCall("AgreementBook.versionOf", () =>
    chain.book.versionOf(agreement.agreementId, 0),
  );
  const first = Number(terms.effectiveFrom);
  if (period < first) {
    throw new NotFoundError(`there is no period ${label}: the agreement starts in ${formatPeriod(first)}`);
  }
  const now = await chainTime(chain);
  if (periodStart(period) > now) {
    throw new NotFoundError(
      `there is no period ${label} yet: the ledger's clock is in ${formatPeriod(periodOf(now))}`,
    );
  }
}

/**
 * Every agreement-period the ledger has a record of, any carriers': committed, or settled by the
 * co-signed fast path (which commits nothing), newest first.
 * @throws BaseError when the chain cannot be read.
 */
export async function ledgerPeriods(chain: ChainClient): Promise<{ agreementId: string; period: number }[]> {
  const from = chain.deployment.deployBlock;
  const [committed, fast] = await Promise.all([
    chainCall("SettlementLedger.Committed", () =>
      chain.ledger.queryFilter(chain.ledger.filters.Committed(), from),
    ),
    chainCall("SettlementLedger.FastPathSettled", () =>
      chain.ledger.queryFilter(chain.ledger.filters.FastPathSettled(), from),
    ),
  ]);
  const seen = new Map<string, { agreementId: string; period: number }>();
  for (const e of [...committed, ...fast]) {
    const agreementId = String(e.args.agreementId).toLowerCase();
    const period = Number(e.args.period);
    seen.set(`${agreementId}:${period}`, { agreementId, period });
  }
  return [...seen.values()].sort((x, y) => y.period - x.period || x.agreementId.localeCompare(y.agreementId));
}
