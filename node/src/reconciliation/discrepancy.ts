/**
 * The discrepancy report: given the summary leaves two carriers disagree on, and for those leaves the
 * calls behind them, it says per leaf how far apart the two sides are (records, billed units, amount)
 * and why, in the terms an interconnect settlement officer uses:
 *
 * - `missing_cdrs`: calls one side has and the other lacks (named by call key);
 * - `duration_difference`: the same call billed for different seconds;
 * - `rate_difference`: the same billed seconds priced differently (a tariff disagreement);
 * - `day_boundary_shift`: traffic that moved between adjacent days, the deltas cancelling (a clock
 *   or time-zone problem rather than lost traffic).
 *
 * Pure logic: the peer protocol fetches the inputs, this module judges them.
 */

export type AgreementDirection = "AB" | "BA";

/** What both summaries hold per leaf; `day` is days since 1970-01-01 (UTC). */
export interface LeafFigures {
  direction: AgreementDirection;
  service: string;
  destination: string;
  day: number;
  records: bigint;
  billed: bigint;
  amount: bigint;
}

/**
 * One call behind a leaf. `callKey` identifies the call the same way on both sides (both carriers
 * derive it from the call itself, not from their own CDR ids; see docs/PROTOCOL.md).
 */
export interface CallFigures {
  callKey: string;
  billed: bigint;
  amount: bigint;
}

export type DiscrepancyKind =
  "missing_cdrs" | "duration_difference" | "rate_difference" | "day_boundary_shift";

export interface LeafDiscrepancy {
  leaf: Omit<LeafFigures, "records" | "billed" | "amount">;
  ours: { records: bigint; billed: bigint; amount: bigint } | null;
  theirs: { records: bigint; billed: bigint; amount: bigint } | null;
  /** Ours minus theirs. */
  delta: { records: bigint; billed: bigint; amount: bigint };
  kinds: DiscrepancyKind[];
  /** Call keys only we have, and only they have (when calls were compared). */
  missingOnTheirSide: string[];
  missingOnOurSide: string[];
  /** Calls both have with different billed units. */
  durationDifferences: { callKey: string; ours: bigint; theirs: bigint }[];
  /** Calls both have with the same billed units and different amounts. */
  rateDifferences: { callKey: string; ours: bigint; theirs: bigint }[];
  /** For a day-boundary shift: the run of consecutive days the traffic moved within. */
  shift: { fromDay: number; toDay: number } | null;
}

export interface DiscrepancyReport {
  leaves: LeafDiscrepancy[];
  /** Amounts per direction over the differing leaves only, each side's view. */
  differingTotals: {
    ours: { AB: bigint; BA: bigint };
    theirs: { AB: bigint; BA: bigint };
  };
  counts: Record<DiscrepancyKind, number>;
}

const ZERO = { records: 0n, billed: 0n, amount: 0n };

/** The identity of a leaf: everything but its figures. */
export function leafKey(leaf: Pick<LeafFigures, "direction" | "service" | "destination" | "day">): string {
  return `${leaf.direction}|${leaf.service}|${leaf.destination}|${leaf.day}`;
}

/**
 * Builds the report from the leaves that differ (as found by the Merkle diff; a leaf only one side
 * has comes with `null` on the other) and, optionally, the calls behind each of them.
 */
export function buildDiscrepancyReport(input: {
  differing: { ours: LeafFigures | null; theirs: LeafFigures | null }[];
  calls?: Map<string, { ours: CallFigures[]; theirs: CallFigures[] }>;
}): DiscrepancyReport {
  const entries: LeafDiscrepancy[] = [];
  for (const pair of input.differing) {
    const base = pair.ours ?? pair.theirs;
    if (!base) continue;
    const ours = pair.ours ? pick(pair.ours) : null;
    const theirs = pair.theirs ? pick(pair.theirs) : null;
    const a = ours ?? ZERO;
    const b = theirs ?? ZERO;
    const entry: LeafDiscrepancy = {
      leaf: {
        direction: base.direction,
        service: base.service,
        destination: base.destination,
        day: base.day,
      },
      ours,
      theirs,
      delta: { records: a.records - b.records, billed: a.billed - b.billed, amount: a.amount - b.amount },
      kinds: [],
      missingOnTheirSide: [],
      missingOnOurSide: [],
      durationDifferences: [],
      rateDifferences: [],
      shift: null,
    };
    const calls = input.calls?.get(leafKey(base));
    if (calls) compareCalls(entry, calls.ours, calls.theirs);
    else if (entry.delta.records === 0n && entry.delta.billed === 0n && entry.delta.amount !== 0n) {
      // Without calls, same traffic priced differently is still recognisable from the figures.
      entry.kinds.push("rate_difference");
    }
    entries.push(entry);
  }
  markDayBoundaryShifts(entries);
  entries.sort((x, y) => compareLeaves(x.leaf, y.leaf));

  const counts: Record<DiscrepancyKind, number> = {
    missing_cdrs: 0,
    duration_difference: 0,
    rate_difference: 0,
    day_boundary_shift: 0,
  };
  for (const entry of entries) for (const kind of entry.kinds) counts[kind]++;
  return { leaves: entries, differingTotals: totalsOf(input.differing), counts };
}

function pick(leaf: LeafFigures) {
  return { records: leaf.records, billed: leaf.billed, amount: leaf.amount };
}

function compareCalls(
  entry: LeafDiscrepancy,
  ours: readonly CallFigures[],
  theirs: readonly CallFigures[],
): void {
  const theirsByKey = new Map(theirs.map((call) => [call.callKey, call]));
  const ourKeys = new Set<string>();
  for (const call of ours) {
    ourKeys.add(call.callKey);
    const other = theirsByKey.get(call.callKey);
    if (!other) entry.missingOnTheirSide.push(call.callKey);
    else if (other.billed !== call.billed) {
      entry.durationDifferences.push({ callKey: call.callKey, ours: call.billed, theirs: other.billed });
    } else if (other.amount !== call.amount) {
      entry.rateDifferences.push({ callKey: call.callKey, ours: call.amount, theirs: other.amount });
    }
  }
  for (const call of theirs) if (!ourKeys.has(call.callKey)) entry.missingOnOurSide.push(call.callKey);
  entry.missingOnTheirSide.sort();
  entry.missingOnOurSide.sort();
  if (entry.missingOnTheirSide.length + entry.missingOnOurSide.length > 0) entry.kinds.push("missing_cdrs");
  if (entry.durationDifferences.length > 0) entry.kinds.push("duration_difference");
  if (entry.rateDifferences.length > 0) entry.kinds.push("rate_difference");
}

/**
 * A clock or time-zone offset on one side moves each night's last calls into the next day: day D's
 * delta is s(D-1) − s(D), where s(D) is what crossed D's midnight. Along a run of consecutive differing
 * days of one direction, service and destination, the deltas therefore take both signs (and telescope
 * to what crossed the run's ends). Lost CDRs, in contrast, only ever make one side larger. So a run of
 * two or more consecutive days whose record or billed deltas take both signs is marked a shift. The
 * missing-CDR findings on those leaves stay listed (the calls do not match by key either); the shift
 * is what explains them.
 */
function markDayBoundaryShifts(entries: LeafDiscrepancy[]): void {
  const groups = new Map<string, LeafDiscrepancy[]>();
  for (const entry of entries) {
    const key = `${entry.leaf.direction}|${entry.leaf.service}|${entry.leaf.destination}`;
    const group = groups.get(key);
    if (group) group.push(entry);
    else groups.set(key, [entry]);
  }
  for (const group of groups.values()) {
    group.sort((a, b) => a.leaf.day - b.leaf.day);
    let start = 0;
    for (let i = 1; i <= group.length; i++) {
      if (i < group.length && group[i]!.leaf.day === group[i - 1]!.leaf.day + 1) continue;
      const run = group.slice(start, i);
      start = i;
      if (run.length < 2) continue;
      const bothSigns = (pick: (e: LeafDiscrepancy) => bigint) =>
        run.some((e) => pick(e) > 0n) && run.some((e) => pick(e) < 0n);
      if (!bothSigns((e) => e.delta.records) && !bothSigns((e) => e.delta.billed)) continue;
      const shift = { fromDay: run[0]!.leaf.day, toDay: run[run.length - 1]!.leaf.day };
      for (const entry of run) {
        entry.shift = shift;
        entry.kinds.unshift("day_boundary_shift");
      }
    }
  }
}

function compareLeaves(a: LeafDiscrepancy["leaf"], b: LeafDiscrepancy["leaf"]): number {
  if (a.direction !== b.direction) return a.direction < b.direction ? -1 : 1;
  if (a.service !== b.service) return a.service < b.service ? -1 : 1;
  if (a.destination !== b.destination) return a.destination < b.destination ? -1 : 1;
  return a.day - b.day;
}

function totalsOf(differing: { ours: LeafFigures | null; theirs: LeafFigures | null }[]) {
  const totals = { ours: { AB: 0n, BA: 0n }, theirs: { AB: 0n, BA: 0n } };
  for (const pair of differing) {
    if (pair.ours) totals.ours[pair.ours.direction] += pair.ours.amount;
    if (pair.theirs) totals.theirs[pair.theirs.direction] += pair.theirs.amount;
  }
  return totals;
}
