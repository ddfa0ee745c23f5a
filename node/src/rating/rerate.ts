/**
 * Re-rating: prices stored attempts again against the decks in force, after a deck arrived late or
 * was corrected. A `NO_RATE` attempt that a deck now covers becomes rated (its reject goes), a rated
 * one whose row changed gets the new amount, an unbilled one its destination; every file's counts
 * move with it. Idempotent: run again, it changes nothing. A period whose summary was committed is
 * final: its CDRs are never re-rated.
 */
import type { Database } from "../db/database";
import { INGEST_LOCK, committedPeriods, periodOf } from "../db/ingest-store";
import {
  applyRerating,
  attemptsPage,
  committedPeriodsTouched,
  type RerateFilter,
  type Rerated,
  type StoredAttempt,
} from "../db/rerate-store";
import { loadActiveDecks } from "../db/tariffs";
import { ConflictError } from "../errors";
import type { MediatedCdr } from "../mediation/types";
import { Rater, rateInForce } from "./rater";

/** Attempts re-rated per transaction. */
const PAGE = 10_000;

/** What moved for one partner, direction and destination. */
export interface RerateLine {
  partner: string;
  direction: string;
  destination: string;
  /** Attempts that changed and now count here (or counted here before and left). */
  changed: number;
  ratedBefore: number;
  ratedAfter: number;
  amountBefore: bigint;
  amountAfter: bigint;
}

export interface RerateReport {
  /** Attempts looked at. */
  examined: number;
  /** Attempts whose figures changed (outcome, destination, billed units or amount). */
  changed: number;
  /** Attempts priced the same by another row or deck now: pointed at it, nothing else changed. */
  repointed: number;
  /** Outcome moves, e.g. `NO_RATE → rated`: count. */
  moves: Record<string, number>;
  amountBefore: bigint;
  amountAfter: bigint;
  /** Per destination the changes touch, sorted. */
  byDestination: RerateLine[];
  /** Committed periods whose CDRs were left as they are (only when no time range was given). */
  leftAlone: { partner: string; period: number }[];
}

const OUTCOME_NAME = { rated: "rated", unbilled: "unbilled", rejected: "NO_RATE" } as const;

/**
 * Re-rates the stored attempts matching `filter` against the active decks.
 * @throws ConflictError naming the committed periods when `filter` names a time range (or a
 * partner) that reaches into a period whose summary was committed: narrow the range.
 */
export async function rerate(
  db: Database,
  filter: RerateFilter,
  options: { dryRun?: boolean } = {},
): Promise<RerateReport> {
  const touched = await committedPeriodsTouched(db, filter);
  const explicit = filter.fromMs !== undefined || filter.toMs !== undefined;
  if (explicit && touched.length > 0) {
    throw new ConflictError(
      `the range reaches into ${touched.length === 1 ? "a period" : `${touched.length} periods`} whose summary was committed`,
      touched.map((t) => `  ${t.partner} ${formatPeriod(t.period)}`).join("\n") +
        "\n  A committed summary is final; narrow --from/--to to the periods still open.",
    );
  }
  const raters = new Map<string, { deckId: number; rater: Rater }>();
  for (const [key, deck] of await loadActiveDecks(db))
    raters.set(key, { deckId: deck.deckId, rater: new Rater(deck.rows) });

  const report: RerateReport = {
    examined: 0,
    changed: 0,
    repointed: 0,
    moves: {},
    amountBefore: 0n,
    amountAfter: 0n,
    byDestination: [],
    leftAlone: touched,
  };
  const lines = new Map<string, RerateLine>();
  const lineOf = (partner: string, direction: string, destination: string | null): RerateLine => {
    const name = destination ?? "";
    const id = `${partner}\u0000${direction}\u0000${name}`;
    let line = lines.get(id);
    if (line === undefined) {
      line = {
        partner,
        direction,
        destination: name,
        changed: 0,
        ratedBefore: 0,
        ratedAfter: 0,
        amountBefore: 0n,
        amountAfter: 0n,
      };
      lines.set(id, line);
    }
    return line;
  };

  let after = "";
  for (;;) {
    const done = await db.transaction(async (tx) => {
      // Ingest batches and period closes take turns with a re-rate page, so a period is never
      // committed from half-re-rated CDRs and no page rates a CDR a close has just counted.
      await tx.query("SELECT pg_advisory_xact_lock($1)", [INGEST_LOCK]);
      const committed = await committedPeriods(tx);
      const page = await attemptsPage(tx, filter, after, PAGE);
      if (page.length === 0) return true;
      after = page[page.length - 1]!.sourceKey;
      const changes: { before: StoredAttempt; after: Rerated }[] = [];
      for (const attempt of page) {
        const counted = attempt.late ? attempt.billPeriod : periodOf(attempt.startMs);
        if (counted !== null && committed.get(attempt.partner)?.has(counted)) continue;
        report.examined++;
        const next = rateAgain(attempt, raters.get(`${attempt.partner}|${attempt.direction}`));
        if (sameFigures(attempt, next)) {
          if (attempt.tariffLine !== next.tariffLine) {
            report.repointed++;
            changes.push({ before: attempt, after: next });
          }
          continue;
        }
        changes.push({ before: attempt, after: next });
      }
      for (const { before, after: next } of changes) {
        if (sameFigures(before, next)) continue;
        report.changed++;
        const move = `${OUTCOME_NAME[before.outcome]} → ${OUTCOME_NAME[next.outcome]}`;
        if (before.outcome !== next.outcome) report.moves[move] = (report.moves[move] ?? 0) + 1;
        const old = lineOf(before.partner, before.direction, before.destination);
        const now = lineOf(before.partner, before.direction, next.destination);
        old.changed++;
        if (now !== old) now.changed++;
        if (before.outcome === "rated") {
          old.ratedBefore++;
          old.amountBefore += before.amount;
          report.amountBefore += before.amount;
        }
        if (next.outcome === "rated") {
          now.ratedAfter++;
          now.amountAfter += next.amount;
          report.amountAfter += next.amount;
        }
      }
      if (!options.dryRun) await applyRerating(tx, changes);
      return page.length < PAGE;
    });
    if (done) break;
  }
  report.byDestination = [...lines.values()].sort((a, b) =>
    a.partner !== b.partner
      ? a.partner < b.partner
        ? -1
        : 1
      : a.direction !== b.direction
        ? a.direction < b.direction
          ? -1
          : 1
        : a.destination < b.destination
          ? -1
          : a.destination > b.destination
            ? 1
            : 0,
  );
  return report;
}

/** The rating the deck in force gives a stored attempt. */
function rateAgain(attempt: StoredAttempt, deck: { deckId: number; rater: Rater } | undefined): Rerated {
  // What rating reads of a CDR; the attempt's other facts do not change its price.
  const cdr = {
    key: attempt.sourceKey,
    partner: attempt.partner,
    direction: attempt.direction,
    service: attempt.service,
    startMs: attempt.startMs,
    duration: attempt.duration,
    volume: attempt.volume,
    bNumber: attempt.bNumber,
    disposition: attempt.disposition,
  } as MediatedCdr;
  const { result, deckId } = rateInForce(deck, cdr);
  const base = { sourceKey: attempt.sourceKey, deckId };
  switch (result.outcome) {
    case "rated":
      return {
        ...base,
        outcome: "rated",
        destination: result.destination,
        prefix: result.prefix,
        band: result.band,
        billed: BigInt(result.billed),
        amount: result.amount,
        tariffLine: result.tariffLine,
        rejectMessage: null,
      };
    case "unbilled":
      return {
        ...base,
        outcome: "unbilled",
        destination: result.destination,
        prefix: result.prefix,
        band: null,
        billed: 0n,
        amount: 0n,
        tariffLine: null,
        rejectMessage: null,
      };
    default:
      return {
        ...base,
        outcome: "rejected",
        destination: null,
        prefix: null,
        band: null,
        billed: 0n,
        amount: 0n,
        tariffLine: null,
        rejectMessage: result.message,
      };
  }
}

/**
 * Whether a new rating equals the stored one in everything a report, a summary or a bill reads. A
 * new deck that prices the CDR the same but by another line only re-points it (the tariff line a
 * person would look the price up in); the same line of a new deck changes nothing at all.
 */
function sameFigures(a: StoredAttempt, b: Rerated): boolean {
  return (
    a.outcome === b.outcome &&
    a.destination === b.destination &&
    a.prefix === b.prefix &&
    a.band === b.band &&
    a.billed === b.billed &&
    a.amount === b.amount
  );
}

function formatPeriod(period: number): string {
  return `${Math.floor(period / 100)}-${String(period % 100).padStart(2, "0")}`;
}
