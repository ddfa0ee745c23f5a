/**
 * End to end with a process per node: `npm run demo -- --processes` at a small size, each carrier's node
 * its own `icl run` on PostgreSQL (a schema each in DATABASE_URL), set up and worked through `icl` and
 * the node's API, INITECH's node SIGKILLed after committing and restarted from its schema. It must end
 * exactly as the one-process run of the same traffic: the same final figures, states, escrow balances
 * and CDR counts, a passing audit, and each node key sending the same number of transactions.
 */
import { expect } from "chai";
import { runDemo, type DemoResult } from "../../scripts/demo";

const CDRS = 2000;

describe("end to end: the consortium demo with a process per node", function () {
  this.timeout(900_000);
  const url = process.env.DATABASE_URL;
  let inProcess: DemoResult;
  let processes: DemoResult;
  const lines: string[] = [];

  before(async function () {
    if (!url) {
      console.warn(
        "\n  *** SKIPPED: the demo with a process per node needs PostgreSQL; set DATABASE_URL " +
          "(e.g. postgres://postgres@127.0.0.1:5432/test) ***\n",
      );
      this.skip();
    }
    inProcess = await runDemo({ cdrs: CDRS, rpc: null, report: null, pg: url }, () => undefined);
    processes = await runDemo({ cdrs: CDRS, rpc: null, report: null, pg: url, processes: true }, (line) =>
      lines.push(line),
    );
  });

  it("settles every period at the one-process run's figures, with the same escrow balances and CDR counts", () => {
    expect(processes.periods).to.deep.equal(inProcess.periods);
    expect(processes.periods.map((p) => [p.agreement, p.state, p.disputed])).to.deep.equal([
      ["ACME-GLOBEX", "Settled", false],
      ["GLOBEX-INITECH", "Settled", true],
      ["ACME-INITECH", "Settled", false],
    ]);
    expect(processes.escrow).to.deep.equal(inProcess.escrow);
    expect(processes.cdrs).to.deep.equal(inProcess.cdrs);
    expect(processes.audit).to.equal("pass");
    // ACME archived its settled January through `icl cdrs archive`: every CDR it stored, as in one process.
    expect(processes.archivedCdrs).to.equal(inProcess.archivedCdrs);
    expect(processes.archivedCdrs).to.be.greaterThan(0n);
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
    expect(processes.nodeTransactions).to.deep.equal(inProcess.nodeTransactions);
    expect(processes.nodeTransactions.ACME).to.be.greaterThan(0);
  });
});
