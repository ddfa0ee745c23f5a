/**
 * `npm run demo -- --processes`: the demo's month with each carrier's node as its own `icl run` process
 * on PostgreSQL (a schema each), set up and worked from outside as its operators and officers would.
 * Operators: `icl init`, `partners add`, `tariffs import`, `agreements add` (demo-process-nodes.ts),
 * `ingest` of the switch files, `period close`, `icl settle` and `icl settle --netting` with the node key.
 * Officers, each with their own keystore: `icl officer approve` where it sends nothing (the co-signed
 * Settlement of the fast path, the approval of a period held unrevealed); after a reveal, at their node's
 * API (officer-api.ts, as the console does), so that the node submits with its own key as in the
 * one-process run; the dispute with `icl dispute open|propose|escalate`, the arbiter with `icl arbiter
 * rule`. The regulator: `icl audit verify`. The running nodes do the rest on their own (fast path, commit
 * and opening exchanges, reveal or revealAndSettle, comparison). INITECH's node is SIGKILLed after
 * committing and started again from the same schema. Same chain, consortium, scenario and traffic as
 * scripts/demo.ts, and the same DemoResult: figures, balances, CDR counts and transactions per node key
 * must equal the one-process run's (test/node/consortium-demo.test.ts).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { formatMicros } from "../../node/src/money/decimal";
import { dropNodeSchemas } from "../../node/src/node";
import { PERIOD_STATES } from "./protocol";
import type { DemoPeriod, DemoResult, Options, RunningDemo } from "../demo";
import {
  WINDOWS,
  advance,
  fundEscrow,
  scriptConsortium,
  type ConsortiumAgreement,
  type ConsortiumCarrier,
} from "./consortium";
import { SWITCHES } from "./demo-carriers";
import { prepareProcessNode, setUpProcessNode, type ProcessNode } from "./demo-process-nodes";
import {
  MONTH,
  SCENARIO,
  escrowBalances,
  cleanupStep,
  escrowMoves,
  formatIcusd,
  nodeTransactionCounts,
  writeDemoTraffic,
} from "./demo-scenario";
import { PERIOD, startHardhatNode, type HardhatNode } from "./hardhat-node";
import { icl, iclJson, startIclRun } from "./icl-process";
import { approve, signIn, type ApprovalProgress, type OfficerSession } from "./officer-api";

/** How often each `icl run` looks at the ledger: often, so that the demo does not wait long. */
const POLL_MS = 400;
/**
 * INITECH's node looks less often: when GLOBEX–INITECH's second commitment lands, GLOBEX's node (as in the
 * one-process run, where it passes first) is the one that exchanges the openings and reveals both.
 */
const INITECH_POLL_MS = 30_000;

/**
 * Runs the scenario with a process per node (see the module comment); resolves once everything is
 * stopped and removed (`serve` is not offered in this mode). Needs PostgreSQL: `options.pg` or
 * DATABASE_URL. On failure it cleans up before it rejects.
 */
export async function startProcessesDemo(
  options: Options,
  out: (line: string) => void,
): Promise<RunningDemo> {
  const pg = options.pg || process.env.DATABASE_URL;
  if (!pg)
    throw new Error("--processes needs PostgreSQL: set DATABASE_URL (e.g. postgres://127.0.0.1:5432/test)");
  // It starts its own chain and always kills a node (the one-process run's --faults are relays).
  if (options.serve || options.faults || options.rpc !== null || options.chain === "anvil")
    throw new Error("--processes does not take --serve, --faults, --rpc or --chain anvil");
  const started = Date.now();
  const timeline: { at: string; what: string; who: string }[] = [];
  const note = (what: string, who: string) => {
    timeline.push({ at: new Date().toISOString(), what, who });
    out(`  ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${what}  — ${who}`);
  };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "icl-demo-processes-"));
  const schemas: string[] = [];
  const nodes: ProcessNode[] = [];
  let hardhat: HardhatNode | null = null;
  let stopped = false;
  const cleanup = async () => {
    if (stopped) return;
    stopped = true;
    const attempt = cleanupStep(out);
    for (const n of nodes) await attempt(`stop ${n.carrier.name}'s node`, async () => n.run?.stop());
    await attempt("drop the demo's PostgreSQL schemas", () => dropNodeSchemas(pg, schemas));
    await attempt("stop the chain", async () => hardhat?.stop());
    fs.rmSync(work, { recursive: true, force: true });
    process.removeListener("SIGINT", interrupted);
    process.removeListener("SIGTERM", interrupted);
  };
  // Ctrl-C mid-run: the nodes, the schemas, the chain and the work directory go too.
  const interrupted = () => void cleanup().finally(() => process.exit(130));
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    out("Interconnect Ledger — consortium demo, one process per node");
    hardhat = await startHardhatNode();
    const provider = hardhat.provider;
    out(`chain: Hardhat JSON-RPC on ${hardhat.url}`);
    const c = await scriptConsortium(provider, { toleranceAbs: 1_000n });
    note(
      "deployed the contracts, registered ACME, GLOBEX, INITECH, an arbiter and a regulator; three agreements approved",
      "consortium admin and officers",
    );
    const ledger = c.deployment.ledger.connect(provider);
    const state = async (agreement: ConsortiumAgreement) =>
      PERIOD_STATES[Number(await ledger.state(agreement.agreementId, PERIOD))]!;

    // Each node's data directory, PostgreSQL schema and gateway port, chosen before any starts, so that
    // each partner's peer URL is known at set-up and stays the same across a restart.
    for (const carrier of Object.values(c.carriers)) {
      const schema = `icl_demo_${process.pid}_${carrier.name.toLowerCase()}`;
      nodes.push(await prepareProcessNode(carrier, path.join(work, carrier.name), schema));
      schemas.push(schema);
    }
    const nodeOf = (carrier: ConsortiumCarrier) => nodes.find((n) => n.carrier.name === carrier.name)!;
    const secrets = new Map(Object.keys(c.agreements).map((name) => [name, crypto.randomBytes(32)]));
    await Promise.all(
      nodes.map(async (n) => {
        const pollMs = n.carrier.name === "INITECH" ? INITECH_POLL_MS : POLL_MS;
        await setUpProcessNode(n, { c, nodes, pg, rpcUrl: hardhat!.url, secrets, pollMs });
        note(
          `icl init (PostgreSQL schema ${n.schema}), partners add, tariffs import, agreements add`,
          n.carrier.name,
        );
      }),
    );

    // The switches' files, ingested by each node's operator (`icl ingest`), the late batch last.
    const { traffic, files, late } = writeDemoTraffic(c, (carrier) => nodeOf(carrier).dir, options.cdrs);
    const counts = new Map<string, { read: bigint; rated: bigint; unbilled: bigint; rejected: bigint }>();
    await Promise.all(
      nodes.map(async (n) => {
        const sum = { read: 0n, rated: 0n, unbilled: 0n, rejected: 0n };
        for (const file of files.get(n.carrier.name)!) {
          const {
            files: [f],
          } = (await n.icl(["ingest", file.file, "--format", SWITCHES[n.carrier.name]!.format])) as {
            files: { records: string; rated: string; unbilled: string; rejected: string }[];
          };
          sum.read += BigInt(f!.records);
          sum.rated += BigInt(f!.rated);
          sum.unbilled += BigInt(f!.unbilled);
          sum.rejected += BigInt(f!.rejected);
          note(
            `icl ingest ${path.basename(file.file)}${file === late ? " (the late batch)" : ""}: ${f!.records} CDRs, ${f!.rated} rated + ${f!.unbilled} unbilled + ${f!.rejected} rejected`,
            n.carrier.name,
          );
        }
        counts.set(n.carrier.name, sum);
      }),
    );

    for (const carrier of Object.values(c.carriers))
      await fundEscrow(c, carrier, "ICUSD", 1_000_000_000_000n);
    note("each carrier's treasury deposited 1,000,000 ICUSD into escrow", "treasuries");
    const before = await escrowBalances(c);

    /**
     * Two officers of each party sign with `icl officer approve`: the co-signed Settlement of a period left
     * to the fast path, or the approval of one held unrevealed; neither sends a transaction.
     */
    const signWithCli = async (agreement: ConsortiumAgreement, what: string) => {
      for (const carrier of [agreement.a, agreement.b]) {
        for (const officer of carrier.officers.slice(0, 2)) {
          await nodeOf(carrier).as(officer, ["officer", "approve", agreement.name, MONTH, "--yes"]);
        }
        note(
          `icl officer approve ${agreement.name} ${MONTH}: 2 of 3 officers signed ${what}`,
          `${carrier.name} officers`,
        );
      }
    };
    /**
     * Two officers of each party approve at their node's API, as in the console; the node submits its
     * carrier's approval with its own key once two signed.
     */
    const sessions = new Map<string, OfficerSession>();
    const approveAtApi = async (agreement: ConsortiumAgreement, partial: boolean) => {
      for (const carrier of [agreement.a, agreement.b]) {
        const n = nodeOf(carrier);
        let progress: ApprovalProgress | null = null;
        for (const officer of carrier.officers.slice(0, 2)) {
          let session = sessions.get(`${carrier.name}:${officer.address}`);
          if (session === undefined) {
            session = await signIn(n.run!.url, officer);
            sessions.set(`${carrier.name}:${officer.address}`, session);
          }
          progress = await approve(session, agreement.name, MONTH, partial);
        }
        note(
          `${carrier.name}'s officers approved ${partial ? "the undisputed part of " : ""}${agreement.name} ${MONTH} at the node's API (POST …/approvals; ${progress!.status} by the node)`,
          `${carrier.name} officers`,
        );
      }
    };
    const close = async (agreement: ConsortiumAgreement, carrier: ConsortiumCarrier, commit: boolean) => {
      await nodeOf(carrier).icl([
        "period",
        "close",
        "--agreement",
        agreement.name,
        "--period",
        MONTH,
        ...(commit ? ["--commit"] : []),
      ]);
      note(
        `icl period close ${agreement.name} ${MONTH} ${commit ? "--commit: committed its salted root" : ": frozen for the co-signed fast path"}`,
        carrier.name,
      );
    };
    /** Whether `carrier`'s node wrote its discrepancy report of the period (`icl period report`). */
    const hasReport = async (agreement: ConsortiumAgreement, carrier: ConsortiumCarrier) => {
      const args = ["period", "report", "--agreement", agreement.name, "--period", MONTH];
      return (await icl(args, nodeOf(carrier).env, null)).code === 0;
    };
    /** Whether both parties' nodes hold the period unrevealed for approvals (both openings reconcile). */
    const held = async (agreement: ConsortiumAgreement) => {
      for (const carrier of [agreement.a, agreement.b]) {
        const view = (await nodeOf(carrier).icl(["period", "show", agreement.name, MONTH])) as {
          preReveal: unknown;
        };
        if (view.preReveal === null) return false;
      }
      return true;
    };

    await Promise.all(
      nodes.map(async (n) => {
        n.run = await startIclRun(n.env, n.port);
        note(`icl run started (pid ${n.run.pid}), gateway ${n.run.url}`, n.carrier.name);
      }),
    );
    const closedAt = Date.now();
    // The nodes run while their operators close the month, one commitment at a time, so that no node
    // key sends from two processes at once and each step happens as in the one-process run.
    const [reconciling, disputed, fast] = [
      c.agreements["ACME-INITECH"],
      c.agreements["GLOBEX-INITECH"],
      c.agreements["ACME-GLOBEX"],
    ];
    await close(reconciling, c.carriers.ACME, true);
    await close(reconciling, c.carriers.INITECH, true);
    // Both nodes exchanged the openings and hold the reveal: both reconcile. The officers approve first.
    await until(`the nodes hold ${reconciling.name} unrevealed`, () => held(reconciling));
    note(
      `icl period show ${reconciling.name} ${MONTH}: held unrevealed, both openings reconcile`,
      "ACME and INITECH",
    );
    await signWithCli(reconciling, "before the reveal");
    await until(`${reconciling.name} is settled`, async () => (await state(reconciling)) === "Settled");
    note(
      `ACME's node revealed both openings of ${reconciling.name} ${MONTH}, recorded both carriers' approvals and settled it in one revealAndSettle`,
      "ACME node",
    );

    // ACME's node compares with INITECH's in the pass that settled (its roots differ): not killed mid-way.
    await until(`ACME's node wrote its report of ${reconciling.name}`, () =>
      hasReport(reconciling, c.carriers.ACME),
    );

    // The fault: INITECH's node is killed after committing, and started again from its schema.
    const initech = nodeOf(c.carriers.INITECH);
    await close(disputed, c.carriers.GLOBEX, true);
    await initech.run!.kill();
    note("INITECH's node was SIGKILLed after committing (fault)", "INITECH");
    await initech.run!.restart();
    note(`INITECH's node restarted from its schema (pid ${initech.run!.pid})`, "INITECH");
    // Its first pass, begun as it started, lists the committed periods without GLOBEX–INITECH, and its
    // next is INITECH_POLL_MS away: GLOBEX's node (as in the one-process run) exchanges the openings
    // and reveals both as soon as INITECH's commitment lands.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await close(disputed, c.carriers.INITECH, true);
    const revealedBy = ledger.filters.Revealed(disputed.agreementId, PERIOD);
    await until(
      `${disputed.name} is revealed`,
      async () => (await ledger.queryFilter(revealedBy)).length === 2,
    );
    note(`${disputed.name} ${MONTH} revealed (${await state(disputed)})`, "ledger");

    // The fast path: nothing committed; the officers sign the Settlement of their node's summary.
    await close(fast, c.carriers.ACME, false);
    await close(fast, c.carriers.GLOBEX, false);
    await signWithCli(fast, "(the co-signed Settlement)");
    await until(`${fast.name} is settled by the fast path`, async () => (await state(fast)) === "Settled");
    note(`ACME's node settled ${fast.name} ${MONTH} by the co-signed fast path`, "ACME node");

    // Where the roots differ, each node compares with the partner's and writes its discrepancy report.
    for (const agreement of [reconciling, disputed]) {
      await until(
        `both discrepancy reports of ${agreement.name} are written`,
        async () => (await hasReport(agreement, agreement.a)) && hasReport(agreement, agreement.b),
      );
      note(
        `both nodes compared ${agreement.name} ${MONTH} with the partner's and sealed their evidence`,
        `${agreement.a.name} and ${agreement.b.name}`,
      );
    }
    for (const agreement of Object.values(c.agreements))
      note(
        `${agreement.name} ${MONTH} is ${await state(agreement)} (expected ${SCENARIO[agreement.name].expect})`,
        "ledger",
      );

    // The dispute on GLOBEX–INITECH, each step with the actor's own key.
    const globex = nodeOf(c.carriers.GLOBEX);
    await globex.as(c.carriers.GLOBEX.officers[0], [
      "dispute",
      "open",
      disputed.name,
      MONTH,
      "--reason",
      "missing_cdrs",
      "--yes",
    ]);
    note(
      `icl dispute open ${disputed.name} ${MONTH} --reason missing_cdrs (the report's evidence)`,
      "GLOBEX officer 1",
    );
    const record = await ledger.periodRecord(disputed.agreementId, PERIOD);
    await initech.as(c.carriers.INITECH.officers[0], [
      "dispute",
      "propose",
      disputed.name,
      MONTH,
      "--ab",
      formatMicros(record.amountABofB),
      "--ba",
      formatMicros(record.amountBAofB),
      "--yes",
    ]);
    note(`icl dispute propose ${disputed.name} ${MONTH}: INITECH's figures`, "INITECH officer 1");
    await advance(provider, WINDOWS.response + 60);
    note(`the chain's clock moved ${WINDOWS.response / 86_400} days: the response window closed`, "time");
    await globex.as(c.carriers.GLOBEX.officers[1], ["dispute", "escalate", disputed.name, MONTH, "--yes"]);
    note(`icl dispute escalate ${disputed.name} ${MONTH}`, "GLOBEX officer 2");
    await approveAtApi(disputed, true);
    const acme = nodeOf(c.carriers.ACME);
    await acme.icl(["settle", disputed.agreementId, MONTH, "--yes"]);
    note(`icl settle ${disputed.name} ${MONTH}: the undisputed part, sent with ACME's node key`, "ACME node");
    await globex.as(c.arbiter, [
      "arbiter",
      "rule",
      disputed.name,
      MONTH,
      "--ab",
      formatMicros(record.amountABofA),
      "--ba",
      formatMicros(record.amountBAofA),
      "--yes",
    ]);
    note(`icl arbiter rule ${disputed.name} ${MONTH}: GLOBEX's figures`, "arbiter");

    for (const agreement of Object.values(c.agreements)) {
      if ((await state(agreement)) !== "Settled") await approveAtApi(agreement, false);
    }
    await acme.icl(["settle", "--netting", "--yes"]);
    note("icl settle --netting: the Approved periods in one settleBatch", "ACME node");
    const after = await escrowBalances(c);
    // January is over for ACME (every partner's period Settled): its CDRs leave the database for a file.
    const archive = (await acme.icl(["cdrs", "archive", "--period", MONTH])) as {
      records: string;
      sha256: string;
    };
    note(
      `icl cdrs archive: ${archive.records} CDRs of ${MONTH} detached and written to cdrs-${PERIOD}.csv.gz (sha256 ${archive.sha256.slice(0, 12)}…)`,
      "ACME",
    );

    const audit = (await iclJson(
      ["audit", "verify", "--rpc", hardhat.url, "--ledger", c.addresses.ledger],
      {},
    )) as { ok: boolean; findings: unknown[] };
    note(`icl audit verify: ${audit.ok ? "pass" : "FAIL"} (${audit.findings.length} findings)`, "regulator");
    const seconds = (Date.now() - closedAt) / 1000;

    const periods: DemoPeriod[] = [];
    for (const agreement of Object.values(c.agreements)) {
      // The final figures as the party's node shows them (`icl period show --json`).
      const view = (await nodeOf(agreement.a).icl(["period", "show", agreement.name, MONTH])) as {
        state: string;
        final: { amountAB: string; amountBA: string } | null;
        dispute: unknown;
      };
      periods.push({
        agreement: agreement.name,
        period: MONTH,
        state: view.state,
        amountAB: formatIcusd(BigInt(view.final?.amountAB ?? 0)),
        amountBA: formatIcusd(BigInt(view.final?.amountBA ?? 0)),
        settled: view.state === "Settled",
        disputed: view.dispute !== null,
      });
    }
    for (const r of periods)
      out(
        `${r.agreement.padEnd(16)} ${r.period}  ${r.state.padEnd(8)}  ${r.amountAB.padStart(13)}  ${r.amountBA.padStart(13)}`,
      );
    out(`\n${seconds.toFixed(1)} s from period close to settlement; audit: ${audit.ok ? "pass" : "fail"}`);
    const result: DemoResult = {
      periods,
      audit: audit.ok ? "pass" : "fail",
      escrow: escrowMoves(c, before, after),
      cdrs: Object.fromEntries(counts),
      traffic,
      nodeTransactions: await nodeTransactionCounts(c),
      // The comparisons ran inside the nodes' processes: their seconds are in each node's log.
      timings: {
        totalSeconds: (Date.now() - started) / 1000,
        closeToSettlementSeconds: seconds,
        comparisons: [],
      },
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      archivedCdrs: BigInt(archive.records),
    };
    out(
      `transactions per node key: ${Object.entries(result.nodeTransactions)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
    );
    if (options.report) {
      const { periods, audit, timings } = result;
      fs.writeFileSync(options.report, JSON.stringify({ periods, audit, timings, timeline }, null, 2));
    }
    await cleanup();
    return { result, served: null, stop: cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** Polls `done` every POLL_MS for up to two minutes. @throws Error naming `what` when it never holds. */
async function until(what: string, done: () => Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 120_000; !(await done());) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
