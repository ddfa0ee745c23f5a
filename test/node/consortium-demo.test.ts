/**
 * The end-to-end suite: `npm run demo`'s scenario at a small size (a few thousand CDRs), on a Hardhat
 * JSON-RPC chain with three carrier nodes, asserted exactly:
 * - which pair ends how: ACME–GLOBEX Matched, ACME–INITECH Reconciled, GLOBEX–INITECH disputed and ruled,
 *   all three Settled in one netted batch;
 * - the settled figures equal the ones computed here from the generated call list and the deck alone
 *   (no node, no database): the tolerance rule picks the terminating carrier's figures (INITECH's, with
 *   its lost calls and its slow clock), the ruling A's (GLOBEX's agreed rates, not INITECH's wrong one);
 * - every carrier's escrow moved by exactly its net position over its agreements;
 * - every CDR is accounted for: rated + unbilled + rejected = read, and read is what the carrier's
 *   switch kept of the calls;
 * - the regulator's audit replays the ledger and passes.
 */
import { expect } from "chai";
import type { ConsortiumAgreement } from "../../node/src/chain/test-consortium";
import { parseScaled } from "../../node/src/money/decimal";
import { Rater } from "../../node/src/rating/rater";
import { loadTariffDeck } from "../../node/src/rating/tariff-deck";
import { SCENARIO, demoDeck, runDemo, type DemoResult } from "../../scripts/demo";
import type { Call } from "../../scripts/lib/traffic";

const PARTIES: Record<ConsortiumAgreement["name"], [string, string]> = {
  "ACME-GLOBEX": ["ACME", "GLOBEX"],
  "ACME-INITECH": ["ACME", "INITECH"],
  "GLOBEX-INITECH": ["GLOBEX", "INITECH"],
};

const MONTH_START = Date.UTC(2030, 0, 1);

/**
 * The amount of each direction over `calls` as a switch whose clock is `skewMs` off records them (a call
 * pushed before the month leaves the period), rated here from the deck alone.
 */
function rated(calls: readonly Call[], skewMs = 0): { AB: bigint; BA: bigint } {
  const rater = new Rater(loadTariffDeck(demoDeck(), "deck.csv"));
  const sums = { AB: 0n, BA: 0n };
  for (const recorded of calls) {
    const call = { ...recorded, startMs: recorded.startMs + skewMs };
    if (call.startMs < MONTH_START) continue;
    const result = rater.rate({
      key: `oracle:${call.index}`,
      partner: "oracle",
      direction: "out",
      service: "voice",
      startMs: call.startMs,
      duration: call.durationSeconds,
      volume: 0,
      aNumber: call.aNumber.replace(/^\+/, ""),
      bNumber: call.bNumber.replace(/^\+/, ""),
      disposition: "ANSWERED",
    });
    if (result.outcome !== "rated") throw new Error(`the deck does not rate ${call.bNumber}`);
    sums[call.direction] += result.amount;
  }
  return sums;
}

const units = (text: string) => parseScaled(text, 6)!;

describe("end to end: the consortium demo at a small size", function () {
  this.timeout(600_000);
  let result: DemoResult;
  const lines: string[] = [];

  before(async () => {
    result = await runDemo({ cdrs: 2000, rpc: null, report: null }, (line) => lines.push(line));
  });

  it("ends each pair as the scenario says, all settled, only GLOBEX–INITECH disputed, and the audit passes", () => {
    expect(result.periods.map((p) => [p.agreement, p.state, p.settled, p.disputed])).to.deep.equal([
      ["ACME-GLOBEX", "Settled", true, false],
      ["GLOBEX-INITECH", "Settled", true, true],
      ["ACME-INITECH", "Settled", true, false],
    ]);
    const said = lines.join("\n");
    expect(said).to.contain("ACME-GLOBEX 2030-01 is Matched");
    expect(said).to.contain("ACME-INITECH 2030-01 is Reconciled");
    expect(said).to.contain("GLOBEX-INITECH 2030-01 is Mismatched");
    expect(said).to.match(/settlePartial of GLOBEX-INITECH/);
    // What the nodes found when they compared: the slow clock, the lost calls, the wrong French rate.
    expect(said).to.match(/compared ACME-INITECH .*day_boundary_shift \d+/);
    expect(said).to.match(/compared GLOBEX-INITECH .*missing_cdrs \d+.*rate_difference \d+/);
    expect(result.audit).to.equal("pass");
  });

  it("settles the figures computed independently from the call list and the deck", () => {
    for (const period of result.periods) {
      const { calls, lostOnB } = result.traffic[period.agreement]!;
      const ofA = rated(calls);
      const ofB = rated(
        calls.filter((c) => !lostOnB.has(c.index)),
        SCENARIO[period.agreement].skewOnBMs,
      );
      // Reconciled: each direction at its terminating carrier's figures (B terminates A→B). Matched: both
      // agree. Ruled: the arbiter chose A's, whose switch kept every call.
      const expected =
        period.agreement === "ACME-INITECH" ? { AB: ofB.AB, BA: ofA.BA } : { AB: ofA.AB, BA: ofA.BA };
      if (period.agreement === "ACME-GLOBEX")
        expect(ofB, "nothing lost on a matched pair").to.deep.equal(ofA);
      expect([units(period.amountAB), units(period.amountBA)], period.agreement).to.deep.equal([
        expected.AB,
        expected.BA,
      ]);
    }
  });

  it("moves each carrier's escrow by exactly its net position over its agreements", () => {
    const net = new Map<string, bigint>([
      ["ACME", 0n],
      ["GLOBEX", 0n],
      ["INITECH", 0n],
    ]);
    for (const period of result.periods) {
      const [a, b] = PARTIES[period.agreement];
      const flow = units(period.amountBA) - units(period.amountAB); // what A receives net
      net.set(a, net.get(a)! + flow);
      net.set(b, net.get(b)! - flow);
    }
    for (const [carrier, { before, after }] of Object.entries(result.escrow)) {
      expect(after - before, carrier).to.equal(net.get(carrier));
    }
    expect(
      [...net.values()].reduce((x, y) => x + y, 0n),
      "netting creates no money",
    ).to.equal(0n);
  });

  it("accounts for every CDR: rated + unbilled + rejected = read = what each switch kept", () => {
    const kept = new Map<string, bigint>([
      ["ACME", 0n],
      ["GLOBEX", 0n],
      ["INITECH", 0n],
    ]);
    for (const [name, { calls, lostOnB }] of Object.entries(result.traffic)) {
      const [a, b] = PARTIES[name as ConsortiumAgreement["name"]];
      kept.set(a, kept.get(a)! + BigInt(calls.length));
      kept.set(b, kept.get(b)! + BigInt(calls.length - lostOnB.size));
    }
    for (const [carrier, c] of Object.entries(result.cdrs)) {
      expect(c.rated + c.unbilled + c.rejected, carrier).to.equal(c.read);
      expect(c.read, carrier).to.equal(kept.get(carrier));
    }
  });
});
