/**
 * Tariffs: the rows of a deck that price one service and prefix over one period and time band. A
 * tariff has one or more intervals (rows that differ only in `interval_start`, their rate and their
 * increments), so a rate may change within a call as CGRateS' rate slots do: "the first minute at
 * 0.20 in 60 s blocks, then 0.10 per second". The deck is a list of lines; the rater needs tariffs.
 */
import type { Service } from "../mediation/types";
import type { DeckProblem, TariffRow } from "./tariff-deck";
import { bandsOverlap, type TimeBand } from "./time-band";

/** One interval of a tariff: from `start` seconds into the call, this rate and these increments. */
export interface TariffInterval {
  /** Seconds from the start of the billable interval; the first interval starts at 0. */
  start: number;
  /** Pico-units per minute (voice), per message (sms) or per MB (data). */
  rate: bigint;
  /** Seconds, counted from this interval's start. */
  firstIncrement: number;
  nextIncrement: number;
  /** Deck line of the row. */
  line: number;
}

/** What a deck prices for one service, prefix, period and band. */
export interface Tariff {
  /** Deck line of the row with interval_start 0 (the line reports and stored CDRs name). */
  line: number;
  service: Service;
  prefix: string;
  destination: string;
  /** Pico-units per rated CDR; only the interval-0 row may carry one. */
  connectFee: bigint;
  effectiveFrom: number | null;
  effectiveTo: number | null;
  band: TimeBand | null;
  /** Ascending `start`, the first at 0; sms and data have exactly one. */
  intervals: readonly TariffInterval[];
}

/**
 * Groups valid deck rows into tariffs and checks what only a whole tariff or deck can break: the
 * interval-0 row exists; one destination and no later connect fee per tariff; every interval but the
 * last is a whole number of its increments long (so a call crossing a boundary is never billed past
 * it); no two rows repeat an interval; no two tariffs of one service and prefix overlap in time (and,
 * when banded, in band). Returns the tariffs in deck-line order and the problems in line order.
 */
export function assembleTariffs(rows: readonly TariffRow[]): { tariffs: Tariff[]; problems: DeckProblem[] } {
  const groups = new Map<string, TariffRow[]>();
  for (const row of rows) {
    const key = tariffKey(row);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  const problems: DeckProblem[] = [];
  const tariffs: Tariff[] = [];
  for (const group of groups.values()) {
    const tariff = assemble(group, problems);
    if (tariff) tariffs.push(tariff);
  }
  tariffs.sort((a, b) => a.line - b.line);
  problems.push(...findOverlaps(tariffs));
  problems.sort((a, b) => a.line - b.line);
  return { tariffs, problems };
}

/** Rows with equal keys are intervals of one tariff: everything that chooses a row, but not what it charges. */
function tariffKey(row: TariffRow): string {
  const band = row.band
    ? `${row.band.name}|${row.band.days.map((on) => (on ? "1" : "0")).join("")}|${row.band.fromMinute}|${row.band.toMinute}|${row.band.timeZone}`
    : "";
  return `${row.service}|${row.prefix}|${row.effectiveFrom ?? ""}|${row.effectiveTo ?? ""}|${band}`;
}

function assemble(group: readonly TariffRow[], problems: DeckProblem[]): Tariff | null {
  const sorted = [...group].sort((a, b) => a.intervalStart - b.intervalStart || a.line - b.line);
  const first = sorted[0]!;
  const what = `${first.service} prefix ${first.prefix}`;
  if (first.intervalStart !== 0) {
    const firstLine = Math.min(...group.map((row) => row.line));
    problems.push({
      line: firstLine,
      field: "interval_start",
      message: `${what} has no row with interval_start 0 for this period and band (lines ${sorted.map((r) => r.line).join(", ")} start at ${sorted.map((r) => `${r.intervalStart} s`).join(", ")})`,
    });
    return null;
  }
  const intervals: TariffInterval[] = [];
  let previous: TariffRow | null = null;
  for (const row of sorted) {
    if (previous && row.intervalStart === previous.intervalStart) {
      // The same row twice, or two rates for one stretch of the call: as ambiguous as two overlapping rows.
      problems.push({
        line: row.line,
        field: "prefix",
        message: `${what} overlaps line ${previous.line} (same period${row.band ? " and time band" : ""}${row.intervalStart > 0 ? `, interval_start ${row.intervalStart}` : ""})`,
      });
      continue;
    }
    if (row !== first) {
      if (row.destination !== first.destination) {
        problems.push({
          line: row.line,
          field: "destination",
          message: `'${row.destination}' differs from '${first.destination}' of line ${first.line}, the interval_start 0 row of the same tariff`,
        });
      }
      if (row.connectFee !== 0n) {
        // A connect fee is charged once per call; on a later interval it would be charged only to long calls.
        problems.push({
          line: row.line,
          field: "connect_fee",
          message: `is not 0 on a row with interval_start ${row.intervalStart}; only the interval_start 0 row (line ${first.line}) may carry one`,
        });
      }
    }
    if (previous) checkLength(previous, row.intervalStart, problems);
    intervals.push({
      start: row.intervalStart,
      rate: row.rate,
      firstIncrement: row.firstIncrement,
      nextIncrement: row.nextIncrement,
      line: row.line,
    });
    previous = row;
  }
  return {
    line: first.line,
    service: first.service,
    prefix: first.prefix,
    destination: first.destination,
    connectFee: first.connectFee,
    effectiveFrom: first.effectiveFrom,
    effectiveTo: first.effectiveTo,
    band: first.band,
    intervals,
  };
}

/**
 * An interval must be a whole number of its increments long: then a call that runs past its end is
 * billed exactly its length in it, and the next interval's increments start where the boundary says.
 */
function checkLength(row: TariffRow, nextStart: number, problems: DeckProblem[]): void {
  const length = nextStart - row.intervalStart;
  const span = `the interval from ${row.intervalStart} s to ${nextStart} s is ${length} s long`;
  if (length < row.firstIncrement) {
    problems.push({
      line: row.line,
      field: "first_increment",
      message: `${row.firstIncrement} s does not fit: ${span}`,
    });
  } else if ((length - row.firstIncrement) % row.nextIncrement !== 0) {
    problems.push({
      line: row.line,
      field: "next_increment",
      message: `${row.nextIncrement} s does not fit: ${span}, which is not ${row.firstIncrement} s plus whole ${row.nextIncrement} s increments`,
    });
  }
}

/** Two tariffs of one service and prefix whose effective periods and bands overlap would make rating ambiguous. */
function findOverlaps(tariffs: readonly Tariff[]): DeckProblem[] {
  const problems: DeckProblem[] = [];
  const groups = new Map<string, Tariff[]>();
  for (const tariff of tariffs) {
    const key = `${tariff.service}|${tariff.prefix}`;
    const group = groups.get(key);
    if (group) group.push(tariff);
    else groups.set(key, [tariff]);
  }
  for (const group of groups.values()) {
    for (let i = 0; i < group.length; i++) {
      for (let j = i + 1; j < group.length; j++) {
        const a = group[i]!;
        const b = group[j]!;
        const timeOverlap =
          (a.effectiveTo ?? Infinity) > (b.effectiveFrom ?? -Infinity) &&
          (b.effectiveTo ?? Infinity) > (a.effectiveFrom ?? -Infinity);
        if (!timeOverlap) continue;
        // An unbanded tariff is the default for the times no banded one covers; two defaults clash.
        const clash = a.band === null || b.band === null ? a.band === b.band : bandsOverlap(a.band, b.band);
        if (clash) {
          problems.push({
            line: b.line,
            field: "prefix",
            message: `${b.service} prefix ${b.prefix} overlaps line ${a.line} (same period${a.band || b.band ? " and time band" : ""})`,
          });
        }
      }
    }
  }
  return problems;
}
