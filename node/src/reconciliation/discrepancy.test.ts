import { expect } from "chai";
import fc from "fast-check";
import {
  buildDiscrepancyReport,
  leafKey,
  type AgreementDirection,
  type CallFigures,
  type LeafFigures,
} from "./discrepancy";

/** One call as the generator knows it; each side derives its own view of it. */
interface Call {
  id: number;
  direction: AgreementDirection;
  destination: string;
  startMs: number;
  billed: bigint;
}

const DAY = 86_400_000;
const BASE = Date.UTC(2026, 9, 1);

interface SideView {
  /** Hours this side's clock is ahead. */
  skewHours?: number;
  /** Micro-units per billed second, per destination. */
  ratePerSecond?: Record<string, bigint>;
  lost?: ReadonlySet<number>;
  extraSeconds?: ReadonlyMap<number, bigint>;
}

/** Leaves and calls of one side, the way a node would build them from its own CDRs. */
function viewOf(calls: readonly Call[], side: SideView) {
  const leaves = new Map<string, LeafFigures>();
  const callsByLeaf = new Map<string, CallFigures[]>();
  for (const call of calls) {
    if (side.lost?.has(call.id)) continue;
    const startMs = call.startMs + (side.skewHours ?? 0) * 3_600_000;
    const billed = call.billed + (side.extraSeconds?.get(call.id) ?? 0n);
    const amount = billed * (side.ratePerSecond?.[call.destination] ?? 100n);
    const leaf = {
      direction: call.direction,
      service: "voice",
      destination: call.destination,
      day: Math.floor(startMs / DAY),
    };
    const key = leafKey(leaf);
    const current = leaves.get(key) ?? { ...leaf, records: 0n, billed: 0n, amount: 0n };
    leaves.set(key, {
      ...current,
      records: current.records + 1n,
      billed: current.billed + billed,
      amount: current.amount + amount,
    });
    // Both sides key a call by its own view of it (ids stand for the numbers; the start is to the second).
    const callKey = `${call.id}@${Math.floor(startMs / 1000)}`;
    callsByLeaf.set(key, [...(callsByLeaf.get(key) ?? []), { callKey, billed, amount }]);
  }
  return { leaves, callsByLeaf };
}

/** What the Merkle diff hands over: the leaves whose figures differ, with the calls behind them. */
function compare(ours: ReturnType<typeof viewOf>, theirs: ReturnType<typeof viewOf>) {
  const differing: { ours: LeafFigures | null; theirs: LeafFigures | null }[] = [];
  const calls = new Map<string, { ours: CallFigures[]; theirs: CallFigures[] }>();
  for (const key of new Set([...ours.leaves.keys(), ...theirs.leaves.keys()])) {
    const a = ours.leaves.get(key) ?? null;
    const b = theirs.leaves.get(key) ?? null;
    if (a && b && a.records === b.records && a.billed === b.billed && a.amount === b.amount) continue;
    differing.push({ ours: a, theirs: b });
    calls.set(key, { ours: ours.callsByLeaf.get(key) ?? [], theirs: theirs.callsByLeaf.get(key) ?? [] });
  }
  return buildDiscrepancyReport({ differing, calls });
}

const callArbitrary = fc.array(
  fc.record({
    direction: fc.constantFrom<AgreementDirection>("AB", "BA"),
    destination: fc.constantFrom("UK", "DE", "FR"),
    offset: fc.integer({ min: 0, max: 5 * DAY - 1 }),
    billed: fc.bigInt({ min: 1n, max: 3600n }),
  }),
  { minLength: 1, maxLength: 250 },
);

describe("reconciliation: discrepancy report", () => {
  it("is empty when both sides saw the same calls", () => {
    const calls: Call[] = [{ id: 1, direction: "AB", destination: "UK", startMs: BASE, billed: 60n }];
    const report = compare(viewOf(calls, {}), viewOf(calls, {}));
    expect(report.leaves).to.deep.equal([]);
  });

  it("names exactly the calls lost on one side — no more, no fewer — and nothing else (property)", () => {
    fc.assert(
      fc.property(callArbitrary, fc.array(fc.nat(), { maxLength: 60 }), (specs, lostPicks) => {
        const calls = specs.map((s, id) => ({
          id,
          direction: s.direction,
          destination: s.destination,
          startMs: BASE + s.offset,
          billed: s.billed,
        }));
        const lost = new Set(lostPicks.map((p) => p % calls.length));
        const report = compare(viewOf(calls, {}), viewOf(calls, { lost }));
        const named = report.leaves
          .flatMap((leaf) => leaf.missingOnTheirSide)
          .map((key) => Number(key.split("@")[0]));
        expect(named.sort((a, b) => a - b)).to.deep.equal([...lost].sort((a, b) => a - b));
        expect(report.leaves.flatMap((leaf) => leaf.missingOnOurSide)).to.deep.equal([]);
        expect(report.counts).to.deep.include({
          duration_difference: 0,
          rate_difference: 0,
          day_boundary_shift: 0,
        });
        for (const leaf of report.leaves) expect(leaf.delta.records > 0n).to.equal(true);
      }),
    );
  });

  it("classifies one side's clock an hour ahead as a day-boundary shift", () => {
    // Every night has calls in its last hour, with distinct durations, over five days.
    const calls: Call[] = [];
    for (let day = 0; day < 5; day++) {
      for (let i = 0; i < 20; i++) {
        const id = calls.length;
        const lateNight = i % 4 === 0;
        calls.push({
          id,
          direction: i % 2 === 0 ? "AB" : "BA",
          destination: "UK",
          startMs: BASE + day * DAY + (lateNight ? 23 * 3_600_000 + i * 60_000 : (8 + (i % 10)) * 3_600_000),
          billed: BigInt(60 + id),
        });
      }
    }
    const report = compare(viewOf(calls, {}), viewOf(calls, { skewHours: 1 }));
    expect(report.leaves.length).to.be.greaterThan(4);
    for (const leaf of report.leaves) {
      expect(leaf.kinds[0], `day ${leaf.leaf.day} ${leaf.leaf.direction}`).to.equal("day_boundary_shift");
      expect(leaf.shift).to.not.equal(null);
    }
    expect(report.counts.day_boundary_shift).to.equal(report.leaves.length);
  });

  it("does not mistake lost late-night calls for a shift", () => {
    const calls: Call[] = [0, 1, 2].map((day) => ({
      id: day,
      direction: "AB",
      destination: "UK",
      startMs: BASE + day * DAY + 23.5 * 3_600_000,
      billed: 60n,
    }));
    const report = compare(viewOf(calls, {}), viewOf(calls, { lost: new Set([0, 1, 2]) }));
    expect(report.counts.day_boundary_shift).to.equal(0);
    expect(report.counts.missing_cdrs).to.equal(3);
  });

  it("classifies a disagreed rate on one destination as a rate difference, call by call", () => {
    const calls: Call[] = [
      { id: 1, direction: "AB", destination: "DE", startMs: BASE + 3_600_000, billed: 120n },
      { id: 2, direction: "AB", destination: "DE", startMs: BASE + 7_200_000, billed: 60n },
      { id: 3, direction: "AB", destination: "UK", startMs: BASE + 7_200_000, billed: 60n },
    ];
    const report = compare(viewOf(calls, {}), viewOf(calls, { ratePerSecond: { DE: 101n } }));
    expect(report.leaves).to.have.length(1);
    const [leaf] = report.leaves;
    expect(leaf!.kinds).to.deep.equal(["rate_difference"]);
    expect(leaf!.delta).to.deep.equal({ records: 0n, billed: 0n, amount: -180n });
    expect(leaf!.rateDifferences).to.deep.equal([
      { callKey: `1@${(BASE + 3_600_000) / 1000}`, ours: 12_000n, theirs: 12_120n },
      { callKey: `2@${(BASE + 7_200_000) / 1000}`, ours: 6_000n, theirs: 6_060n },
    ]);
  });

  it("recognises a rate difference from leaf figures alone when no calls are compared", () => {
    const ours: LeafFigures = {
      direction: "BA",
      service: "voice",
      destination: "FR",
      day: 20_362,
      records: 3n,
      billed: 180n,
      amount: 900n,
    };
    const report = buildDiscrepancyReport({ differing: [{ ours, theirs: { ...ours, amount: 960n } }] });
    expect(report.leaves[0]!.kinds).to.deep.equal(["rate_difference"]);
    expect(report.differingTotals).to.deep.equal({
      ours: { AB: 0n, BA: 900n },
      theirs: { AB: 0n, BA: 960n },
    });
  });

  it("classifies the same call billed for different seconds as a duration difference", () => {
    const calls: Call[] = [{ id: 7, direction: "BA", destination: "FR", startMs: BASE + 1000, billed: 60n }];
    const report = compare(viewOf(calls, {}), viewOf(calls, { extraSeconds: new Map([[7, 6n]]) }));
    expect(report.leaves[0]!.kinds).to.deep.equal(["duration_difference"]);
    expect(report.leaves[0]!.durationDifferences).to.deep.equal([
      { callKey: `7@${(BASE + 1000) / 1000}`, ours: 60n, theirs: 66n },
    ]);
  });
});
