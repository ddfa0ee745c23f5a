/**
 * The end-to-end suite: `npm run demo`'s scenario at a small size (a few thousand CDRs), on a Hardhat
 * JSON-RPC chain with three carrier nodes, asserted exactly:
 * - which pair ends how: ACME–GLOBEX Matched (the fast path), ACME–INITECH Reconciled (approved before
 *   its reveal, revealed and settled in one revealAndSettle), GLOBEX–INITECH disputed and ruled, settled
 *   in the netted batch;
 * - the settled figures equal the ones computed here from the generated call list and the deck alone
 *   (no node, no database): the tolerance rule picks the terminating carrier's figures (INITECH's, with
 *   its lost calls and its slow clock), the ruling A's (GLOBEX's agreed rates, not INITECH's wrong one);
 * - every carrier's escrow moved by exactly its net position over its agreements;
 * - every CDR is accounted for: rated + unbilled + rejected = read, and read is what the carrier's
 *   switch wrote (the calls it kept, unanswered attempts included, and the late batch's re-sent rows,
 *   which are exactly the rejected ones);
 * - the regulator's audit replays the ledger and passes.
 *
 * A run with a process per node (`--processes`: each carrier's `icl run` on its own PostgreSQL schema,
 * worked through `icl` and the node's API, INITECH's node SIGKILLed after committing and restarted)
 * must end exactly as the first: figures, balances, CDR counts and every key's transactions.
 *
 * A fault run injects faults (INITECH's node stopped after committing and restarted from its data
 * directory, GLOBEX's gateway unreachable while INITECH compares, the chain's RPC endpoint down right
 * after accepting the netted settlement, its reply lost) and must end with the same figures, the same
 * balances and not one transaction more; a third run does the same on Anvil, whose process is SIGKILLed
 * the moment it accepts the netted settlement and restarted from its last dump, and must end the same.
 */
import { expect } from "chai";
import type { ConsortiumAgreement } from "../../scripts/lib/consortium";
import { parseScaled } from "../../node/src/money/decimal";
import { Rater } from "../../node/src/rating/rater";
import { loadTariffDeck } from "../../node/src/rating/tariff-deck";
import { SCENARIO, demoDeck, runDemo, type DemoResult } from "../../scripts/demo";
import { anvilBinary } from "../../scripts/lib/anvil-node";
import type { Call } from "../../scripts/lib/traffic";
import { mediatedCdr } from "../helpers/cdrs";

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
    if (!recorded.answered) continue;
    const call = { ...recorded, startMs: recorded.startMs + skewMs };
    if (call.startMs < MONTH_START) continue;
    const result = rater.rate(
      mediatedCdr({
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
      }),
    );
    if (result.outcome !== "rated") throw new Error(`the deck does not rate ${call.bNumber}`);
    sums[call.direction] += result.amount;
  }
  return sums;
}

const units = (text: string) => parseScaled(text, 6)!;

describe("end to end: the consortium demo at a small size", function () {
  this.timeout(600_000);
  let result: DemoResult;
  let faulty: DemoResult;
  const lines: string[] = [];
  const faultLines: string[] = [];

  before(async () => {
    // On PostgreSQL when DATABASE_URL is set (as in CI), one schema per carrier; the fault run below
    // always restarts a node from PGlite files, so CI proves the scenario on both.
    result = await runDemo(
      { cdrs: 2000, rpc: null, report: null, pg: process.env.DATABASE_URL ?? null },
      (line) => lines.push(line),
    );
  });

  it("ends each pair as the scenario says, all settled (the matched one by the fast path), only GLOBEX–INITECH disputed, and the audit passes", () => {
    expect(result.periods.map((p) => [p.agreement, p.state, p.settled, p.disputed])).to.deep.equal([
      ["ACME-GLOBEX", "Settled", true, false],
      ["GLOBEX-INITECH", "Settled", true, true],
      ["ACME-INITECH", "Settled", true, false],
    ]);
    const said = lines.join("\n");
    // The matched pair never commits: its officers co-sign one Settlement and one transaction settles it.
    expect(said).to.contain("ACME-GLOBEX 2030-01 is Matched and settled by the fast path");
    expect(said).to.match(/settled ACME-GLOBEX 2030-01 by the co-signed fast path/);
    expect(said).not.to.match(/closed ACME-GLOBEX 2030-01 and committed/);
    expect(said).to.contain("ACME-INITECH 2030-01 is Reconciled and settled in one revealAndSettle");
    expect(said).to.match(/holds ACME-INITECH 2030-01 unrevealed: both openings reconcile/);
    expect(said).to.match(/settled 1 period in one netted batch/);
    expect(said).to.contain("GLOBEX-INITECH 2030-01 is Mismatched");
    expect(said).to.match(/settlePartial of GLOBEX-INITECH/);
    // Each switch's own format reached its node.
    expect(said).to.match(/ingested cdrs-2030-01\.csv \(icl-csv\).* — ACME/);
    expect(said).to.match(/ingested Master-2030-01\.csv \(asterisk\).* — GLOBEX/);
    expect(said).to.match(/ingested Master-2030-01\.csv \(freeswitch\).* — INITECH/);
    // What the nodes found when they compared: the slow clock, the lost calls, the wrong French rate.
    expect(said).to.match(/compared ACME-INITECH .*day_boundary_shift \d+/);
    expect(said).to.match(/compared GLOBEX-INITECH .*missing_cdrs \d+.*rate_difference \d+/);
    expect(said).not.to.contain("could not");
    expect(result.audit).to.equal("pass");
  });

  it("settles the figures computed independently from the call list and the deck", () => {
    expectOracleFigures(result);
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

  it("accounts for every CDR: rated + unbilled + rejected = read = what each switch wrote", () => {
    const written = new Map<string, { rows: bigint; unanswered: bigint; resent: bigint }>();
    const add = (carrier: string, kept: readonly Call[], resent: number) => {
      const sum = written.get(carrier) ?? { rows: 0n, unanswered: 0n, resent: 0n };
      written.set(carrier, {
        rows: sum.rows + BigInt(kept.length + resent),
        unanswered: sum.unanswered + BigInt(kept.filter((c) => !c.answered).length),
        resent: sum.resent + BigInt(resent),
      });
    };
    for (const [name, { calls, lostOnB, resentOnA }] of Object.entries(result.traffic)) {
      const [a, b] = PARTIES[name as ConsortiumAgreement["name"]];
      add(a, calls, resentOnA.size);
      add(
        b,
        calls.filter((c) => !lostOnB.has(c.index)),
        0,
      );
    }
    expect(
      result.traffic["ACME-GLOBEX"]!.resentOnA.size,
      "the late batch re-sent some CDRs",
    ).to.be.greaterThan(0);
    for (const [carrier, c] of Object.entries(result.cdrs)) {
      const w = written.get(carrier)!;
      expect(c.rated + c.unbilled + c.rejected, carrier).to.equal(c.read);
      expect(c.read, carrier).to.equal(w.rows);
      // Unanswered attempts are unbilled; re-sent rows are rejected as duplicates; nothing else is.
      expect([c.unbilled, c.rejected], carrier).to.deep.equal([w.unanswered, w.resent]);
    }
  });

  it("archives ACME's settled January: every CDR it stored leaves the database for the file", () => {
    const acme = result.cdrs.ACME!;
    expect(result.archivedCdrs).to.equal(acme.rated + acme.unbilled);
    expect(lines.join("\n")).to.match(
      new RegExp(
        `icl cdrs archive: ${result.archivedCdrs} CDRs of 2030-01 detached and written to cdrs-203001\\.csv\\.gz`,
      ),
    );
  });

  describe("with a process per node: each carrier's icl run on its own PostgreSQL schema, one SIGKILLed", () => {
    let processes: DemoResult;
    const lines: string[] = [];
    before(async function () {
      const url = process.env.DATABASE_URL;
      if (!url) {
        console.warn(
          "\n  *** SKIPPED: the demo with a process per node needs PostgreSQL; set DATABASE_URL " +
            "(e.g. postgres://postgres@127.0.0.1:5432/test) ***\n",
        );
        return this.skip();
      }
      // The same traffic as the run above, which ran on PostgreSQL too (one schema per carrier).
      processes = await runDemo({ cdrs: 2000, rpc: null, report: null, pg: url, processes: true }, (line) =>
        lines.push(line),
      );
    });

    it("settles every period at the one-process run's figures, with the same escrow balances and CDR counts", () => {
      expect(processes.periods).to.deep.equal(result.periods);
      expect(processes.periods.map((p) => [p.agreement, p.state, p.disputed])).to.deep.equal([
        ["ACME-GLOBEX", "Settled", false],
        ["GLOBEX-INITECH", "Settled", true],
        ["ACME-INITECH", "Settled", false],
      ]);
      expect(processes.escrow).to.deep.equal(result.escrow);
      expect(processes.cdrs).to.deep.equal(result.cdrs);
      expect(processes.audit).to.equal("pass");
      // ACME archived its settled January through `icl cdrs archive`: every CDR it stored, as in one process.
      expect(processes.archivedCdrs).to.equal(result.archivedCdrs);
      expect(processes.archivedCdrs! > 0n, "ACME archived its CDRs").to.equal(true);
    });

    it("restarts the SIGKILLed node from its schema and completes the cycle", () => {
      const said = lines.join("\n");
      const pids = [...said.matchAll(/icl run started \(pid (\d+)\).* — INITECH/g)].map((m) => m[1]);
      expect(pids).to.have.length(1);
      expect(said).to.match(/INITECH's node was SIGKILLed after committing/);
      const restarted = /INITECH's node restarted from its schema \(pid (\d+)\)/.exec(said);
      expect(restarted, said).not.to.equal(null);
      expect(restarted![1]).not.to.equal(pids[0]);
      // The steps after the restart need INITECH's node: its report, its officers' approvals at its API.
      expect(said).to.match(/both nodes compared GLOBEX-INITECH/);
      expect(said).to.match(/INITECH's officers approved GLOBEX-INITECH 2030-01 at the node's API/);
      expect(said).to.match(/icl audit verify: pass/);
    });

    it("sends as many transactions from each node key as the one-process run", () => {
      expect(processes.nodeTransactions).to.deep.equal(result.nodeTransactions);
      expect(processes.nodeTransactions.ACME).to.be.greaterThan(0);
    });
  });

  describe("with faults: a node restarted, a peer unreachable, the chain endpoint down mid-settlement", () => {
    before(async () => {
      faulty = await runDemo({ cdrs: 2000, rpc: null, report: null, faults: true }, (line) =>
        faultLines.push(line),
      );
    });

    it("goes through each fault and recovers", () => {
      const said = faultLines.join("\n");
      expect(said).to.match(/INITECH's node stopped abruptly after committing/);
      expect(said).to.match(/INITECH's node restarted from its data directory/);
      // INITECH reveals only after its restart, and its first attempt to compare with GLOBEX fails.
      expect(said.indexOf("revealed GLOBEX-INITECH 2030-01  — INITECH")).to.be.greaterThan(
        said.indexOf("INITECH's node restarted"),
      );
      expect(said).to.match(
        /could not compare with the counterparty for GLOBEX-INITECH .*did not answer.* — INITECH/,
      );
      expect(said).to.match(/compared GLOBEX-INITECH with the partner's node.* — INITECH/);
      expect(said).to.match(/chain's RPC endpoint went down right after accepting ACME's settleBatch/);
      expect(said).to.match(/chain's RPC endpoint is back[^]*settled 2 periods in one netted batch/);
      expect(faulty.audit).to.equal("pass");
    });

    it("ends with the same states, figures and balances as the run without faults", () => {
      expect(faulty.periods).to.deep.equal(result.periods);
      expect(faulty.escrow).to.deep.equal(result.escrow);
      expect(faulty.cdrs).to.deep.equal(result.cdrs);
      expectOracleFigures(faulty);
    });

    it("sends not one transaction more: the lost reply did not make ACME's node settle twice", () => {
      // With INITECH's node down once both commitments were on the ledger, its partners could not get
      // its openings and revealed alone, and INITECH revealed its two periods itself after the restart
      // (in the run without faults its partners' nodes reveal both in one revealBoth each). Without
      // the openings exchanged, ACME–INITECH could not be approved before its reveal either: each node
      // sends its carrier's approval after it (one revealAndSettle from ACME's node without faults), and
      // the period settles in the netted batch, so that batch settles two periods instead of one.
      expect(faulty.nodeTransactions).to.deep.equal({
        ...result.nodeTransactions,
        ACME: result.nodeTransactions.ACME! + 1,
        INITECH: result.nodeTransactions.INITECH! + 3,
      });
      expect(result.nodeTransactions.ACME).to.be.greaterThan(0);
    });

    describe("on Anvil: the chain process itself SIGKILLed mid-settlement and restarted from its dump", () => {
      let onAnvil: DemoResult;
      const anvilLines: string[] = [];
      before(async function () {
        if (anvilBinary() === null) {
          if (process.platform === "linux" && process.arch === "x64") {
            throw new Error("@foundry-rs/anvil-linux-amd64 is not installed: run npm ci");
          }
          process.stderr.write("\n!!! ANVIL DEMO SKIPPED: no Anvil for this platform (Linux x64 only)\n");
          return this.skip();
        }
        onAnvil = await runDemo(
          { cdrs: 2000, rpc: null, report: null, faults: true, chain: "anvil" },
          (line) => anvilLines.push(line),
        );
      });

      it("kills the chain the moment it accepts the netted settlement, and every node recovers", () => {
        const said = anvilLines.join("\n");
        expect(said).to.match(/INITECH's node restarted from its data directory/);
        expect(said).to.match(/chain process was SIGKILLed right after accepting ACME's settleBatch/);
        expect(said).to.match(
          /chain started again from its last dump at block \d+, with(out)? the settleBatch[^]*settled 2 periods in one netted batch[^]*every node ran a pass on the restored chain/,
        );
        expect(onAnvil.audit).to.equal("pass");
      });

      it("ends with the clean run's states, figures and balances, and the Hardhat fault run's transactions", () => {
        expect(onAnvil.periods).to.deep.equal(result.periods);
        expect(onAnvil.escrow).to.deep.equal(result.escrow);
        expect(onAnvil.cdrs).to.deep.equal(result.cdrs);
        expectOracleFigures(onAnvil);
        // The same node faults as on Hardhat, where the chain never lost a block: not one transaction
        // more from any key, so the settleBatch the restored chain had lost went out once more as the
        // same signed transaction, and nothing the chain kept was sent again.
        expect(onAnvil.nodeTransactions).to.deep.equal(faulty.nodeTransactions);
      });
    });
  });
});

/** Each period settled at the figures computed here from its call list and the deck. */
function expectOracleFigures(run: DemoResult): void {
  for (const period of run.periods) {
    const { calls, lostOnB } = run.traffic[period.agreement]!;
    const ofA = rated(calls);
    const ofB = rated(
      calls.filter((c) => !lostOnB.has(c.index)),
      SCENARIO[period.agreement].skewOnBMs,
    );
    // Reconciled: each direction at its terminating carrier's figures (B terminates A→B). Matched: both
    // agree. Ruled: the arbiter chose A's, whose switch kept every call.
    const expected =
      period.agreement === "ACME-INITECH" ? { AB: ofB.AB, BA: ofA.BA } : { AB: ofA.AB, BA: ofA.BA };
    if (period.agreement === "ACME-GLOBEX") expect(ofB, "nothing lost on a matched pair").to.deep.equal(ofA);
    expect([units(period.amountAB), units(period.amountBA)], period.agreement).to.deep.equal([
      expected.AB,
      expected.BA,
    ]);
  }
}
