/**
 * Archiving a month of CDRs once it is over for good: every partner with CDRs in the month has its
 * agreement's summary of the month built and its period Settled (or Void) on the ledger. Only then is
 * the month's partition detached, written out and dropped (db/cdr-archive.ts); before that its calls
 * may still be asked for by a partner's comparison or put into a dispute's evidence.
 */
import type { ChainClient } from "../chain/client";
import { archiveCdrMonth, partnersOfMonth, type CdrArchive } from "../db/cdr-archive";
import { partitionName } from "../db/cdr-partitions";
import type { Database } from "../db/database";
import { ConflictError, NotFoundError } from "../errors";
import { formatPeriod, periodState } from "../reconciliation/reveal";

/** Why `period` cannot be archived yet: one line per partner whose month is not over; empty when it can. */
export async function monthBlockers(db: Database, chain: ChainClient, period: number): Promise<string[]> {
  const { rows } = await db.query<{ exists: boolean }>("SELECT to_regclass($1) IS NOT NULL AS exists", [
    partitionName(period),
  ]);
  if (!rows[0]?.exists) throw new NotFoundError(`no CDRs of ${formatPeriod(period)} are stored`);
  const blockers: string[] = [];
  for (const partner of await partnersOfMonth(db, period)) {
    if (partner.agreementId === null) {
      blockers.push(`${partner.partnerId}: no agreement, so no summary settles its CDRs`);
      continue;
    }
    if (!partner.summarised) {
      blockers.push(`${partner.partnerId}: the period is not closed (icl period close)`);
      continue;
    }
    const state = await periodState(chain, partner.agreementId, period);
    if (state !== "Settled" && state !== "Void")
      blockers.push(`${partner.partnerId}: the period is ${state}`);
  }
  return blockers;
}

/**
 * Archives `period`'s CDRs into `dir` once every partner's period is settled.
 * @throws ConflictError naming each partner whose month is not over; NotFoundError when no CDRs of the
 * month are stored; what archiveCdrMonth throws.
 */
export async function archiveSettledMonth(
  db: Database,
  chain: ChainClient,
  period: number,
  dir: string,
): Promise<CdrArchive> {
  const blockers = await monthBlockers(db, chain, period);
  if (blockers.length > 0) {
    throw new ConflictError(
      `the CDRs of ${formatPeriod(period)} cannot be archived yet: a partner's period is not settled`,
      blockers.map((line) => `  ${line}`).join("\n"),
    );
  }
  return archiveCdrMonth(db, period, dir);
}
