/**
 * `npm run demo`: the consortium on real parts, from CDRs to settled money and a clean audit.
 *
 * A Hardhat JSON-RPC chain on 127.0.0.1 (or `--rpc URL`, a node with the Hardhat accounts unlocked),
 * the contracts, three carriers (each a node key and three officers, 2-of-3), an arbiter, a regulator,
 * ICUSD and three bilateral agreements. One carrier node each, in this process: its own database
 * (PGlite in a temporary directory, or with `--pg` a PostgreSQL schema), evidence store, chain client
 * with its own key, NodeRunner and gateway (peer protocol, API, console) on a port of 127.0.0.1. One list
 * of calls per agreement; each carrier's switch writes its side in its own format (ACME icl-csv, GLOBEX
 * Asterisk, INITECH FreeSWITCH, in their local times and dialling plans; see SWITCHES) with the
 * imperfections the scenario needs:
 *
 * - ACME–GLOBEX: the same calls on both sides, though ACME's last two days arrive in a late batch that
 *   re-sends 1% of the earlier calls (rejected as duplicates) → equal summaries: no commitment, both
 *   carriers' officers co-sign its Settlement and the nodes settle it by the co-signed fast path (Matched);
 * - ACME–INITECH: INITECH's switch lost 0.5% of the calls → Reconciled within the 1% tolerance;
 * - GLOBEX–INITECH: INITECH's switch lost 4% → Mismatched; GLOBEX disputes with its sealed discrepancy
 *   report, INITECH proposes its own figures, GLOBEX escalates, both settle the undisputed part first,
 *   the arbiter rules GLOBEX's figures.
 *
 * Officers approve by EIP-712 signature (2 of 3 per carrier), ACME's node settles the other two in one
 * netted batch, and the audit replays the ledger. Prints a timeline and the balances; `--report FILE`
 * writes them as JSON; `--serve` then leaves a period waiting in each state that needs someone, files to
 * upload, and everything running, and prints every role's key (scripts/lib/demo-serve.ts). The deck has a mid-month rate change; INITECH
 * loaded another French rate for GLOBEX (a rate difference inside the dispute) and its clock runs 10 minutes slow
 * towards ACME. `--faults` stops and restarts a node, cuts a peer off and takes the chain's endpoint away
 * mid-settlement (see Options.faults); the figures must not change. `--processes` runs each node as its own
 * `icl run` process on PostgreSQL instead, set up and worked through the `icl` CLI, and SIGKILLs one after
 * it committed (scripts/lib/demo-processes.ts); the figures must equal this run's.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { JsonRpcProvider, Network, type Wallet } from "ethers";
import { openAuditChain } from "../node/src/audit/chain";
import { verifyLedger } from "../node/src/audit/verify";
import type { TxResult } from "../node/src/chain/tx-manager";
import { PERIOD, startHardhatNode, type HardhatNode } from "./lib/hardhat-node";
import { startAnvilNode, type AnvilNode } from "./lib/anvil-node";
import {
  WINDOWS,
  advance,
  fundEscrow,
  scriptConsortium,
  type ConsortiumAgreement,
  type ConsortiumCarrier,
} from "./lib/consortium";
import { dropNodeSchemas, openNodeDatabase } from "../node/src/node";
import { ingestFile } from "../node/src/ingest/ingest-file";
import { archiveSettledMonth } from "../node/src/services/cdr-archive";
import { OUTCOMES } from "../node/src/protocol";
import { periodState } from "../node/src/reconciliation/reveal";
import { acceptSettlementSignature, ourSettlement, signSettlement } from "../node/src/settlement/cosign";
import type { ChainClient } from "../node/src/chain/client";
import { DISPUTE_REASONS, type DisputeStep, type StepInput } from "../node/src/settlement/disputes";
import { findSettleable } from "../node/src/settlement/settleable";
import { settleBatchRequest } from "../node/src/settlement/settle-requests";
import { skippedInBatch } from "../node/src/settlement/settle-plan";
import { ingestSettings } from "../node/src/config/config";
import {
  SWITCHES,
  closeNode,
  demoConfig,
  nodeOf,
  setUpCarrier,
  startNode,
  type DemoNode,
} from "./lib/demo-carriers";
import { startProcessesDemo } from "./lib/demo-processes";
import { leaveServed, type ServedDemo } from "./lib/demo-serve";
import { approveAll, disputeStep, latestTimestamp, untilSeen } from "./lib/demo-steps";
import { startTcpProxy, type TcpProxy } from "./lib/tcp-proxy";
import {
  MONTH,
  SCENARIO,
  escrowBalances,
  cleanupStep,
  escrowMoves,
  formatIcusd,
  nodeTransactionCounts,
  writeDemoTraffic,
} from "./lib/demo-scenario";
import type { Call } from "./lib/traffic";

export { SWITCHES, demoDeck, disagreedDeck } from "./lib/demo-carriers";
export { SCENARIO } from "./lib/demo-scenario";

const M = 1_000_000n;

export interface Options {
  cdrs: number;
  rpc: string | null;
  report: string | null;
  /**
   * Then leave periods waiting for people to work (scripts/lib/demo-serve.ts) and the chain, nodes and
   * consoles running: until Ctrl-C with runDemo, until `stop()` with startDemo.
   */
  serve?: boolean;
  /**
   * The chain the demo starts when there is no `rpc`: `hardhat` (default, `hardhat node`) or `anvil`
   * (scripts/lib/anvil-node.ts: dumps its state every second, so that with `faults` it is SIGKILLed
   * mid-settlement and started again from its dump).
   */
  chain?: "hardhat" | "anvil";
  /** Each node's database in its own schema of PostgreSQL at this URL (`--pg` passes DATABASE_URL). */
  pg?: string | null;
  /**
   * Injects faults: INITECH's node stops after committing and restarts from its data directory, GLOBEX's
   * gateway is unreachable while INITECH compares, the chain's RPC endpoint goes down right after accepting
   * the netted settlement (its reply lost) and comes back — with `chain: "anvil"` the chain process itself is
   * SIGKILLed the moment it accepts the netted settlement, before it saves it, and restarted from its last
   * dump, and every node runs a pass on the restored chain. The figures must not change.
   */
  faults?: boolean;
  /**
   * Each node as its own `icl run` process on PostgreSQL (`pg`, else DATABASE_URL), set up and worked
   * through the `icl` CLI; one is SIGKILLed after committing and restarted (scripts/lib/demo-processes.ts).
   */
  processes?: boolean;
}

interface TimelineEntry {
  at: number;
  what: string;
  who: string;
  gas: bigint | null;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { cdrs: 100_000, rpc: null, report: null };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === "--serve" || flag === "--faults" || flag === "--processes") {
      options[flag.slice(2) as "serve" | "faults" | "processes"] = true;
      continue;
    }
    if (flag === "--pg") {
      options.pg = process.env.DATABASE_URL ?? "";
      if (!options.pg) throw new Error("--pg needs DATABASE_URL (e.g. postgres://127.0.0.1:5432/test)");
      continue;
    }
    if (flag === "--cdrs" && value && /^\d+$/.test(value)) options.cdrs = Number(value);
    else if (flag === "--chain" && (value === "hardhat" || value === "anvil")) options.chain = value;
    else if (flag === "--rpc" && value) options.rpc = value;
    else if (flag === "--report" && value) options.report = value;
    else
      throw new Error(
        `usage: npm run demo -- [--cdrs N] [--rpc URL | --chain hardhat|anvil] [--report FILE] [--pg] [--faults] [--serve] [--processes] (not: ${flag})`,
      );
    i++;
  }
  if (options.rpc !== null && !/^https?:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:\d+)?\/?$/.test(options.rpc)) {
    throw new Error("--rpc must be a loopback URL (http://127.0.0.1:8545)");
  }
  if (options.rpc !== null && options.chain !== undefined) {
    throw new Error("--chain starts a chain; --rpc uses a running one: give one of them");
  }
  return options;
}

export interface DemoPeriod {
  agreement: ConsortiumAgreement["name"];
  period: string;
  state: string;
  /** Final figures, exact decimals of ICUSD. */
  amountAB: string;
  amountBA: string;
  settled: boolean;
  disputed: boolean;
}

export interface DemoResult {
  periods: DemoPeriod[];
  audit: "pass" | "fail";
  /** Per carrier: escrow before the first settlement and after the last, base units. */
  escrow: Record<string, { before: bigint; after: bigint }>;
  /** Per carrier: CDRs read, rated, unbilled, rejected. */
  cdrs: Record<string, { read: bigint; rated: bigint; unbilled: bigint; rejected: bigint }>;
  /** The calls each agreement's traffic came from, which of them B's switch lost and which A's sent twice. */
  traffic: Record<string, { calls: Call[]; lostOnB: Set<number>; resentOnA: Set<number> }>;
  timings: {
    totalSeconds: number;
    closeToSettlementSeconds: number;
    /** Each comparison a node ran with its partner's node, with its calls per side (the agreement's month). */
    comparisons: {
      agreement: string;
      carrier: string;
      seconds: number;
      differingLeaves: number;
      calls: number;
    }[];
  };
  /** CDRs of the month ACME's node archived once every period was settled (null with `serve`). */
  archivedCdrs: bigint | null;
  /** This process's peak resident set (the nodes run in it; the chain is its own process), MB. */
  peakRssMb: number;
  /** Per carrier: transactions its node key sent (faults must not add any). */
  nodeTransactions: Record<string, number>;
}

/** `npm run demo`: runs the scenario, prints it, writes `--report`; exit 0 when all settled and the audit passed. */
export async function main(argv: readonly string[]): Promise<number> {
  const options = parseArgs(argv);
  const result = await runDemo(options, (line) => process.stdout.write(line + "\n"));
  return result.audit === "pass" && result.periods.every((p) => p.settled) ? 0 : 1;
}

/**
 * The whole scenario; `out` receives the printed lines. With `serve` it then waits for Ctrl-C (or
 * SIGTERM). Cleans up what it started, whatever happens.
 */
export async function runDemo(options: Options, out: (line: string) => void): Promise<DemoResult> {
  const demo = await startDemo(options, out);
  if (demo.served !== null) {
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
  }
  await demo.stop();
  return demo.result;
}

/** The demo as run, and with `serve` still running. */
export interface RunningDemo {
  result: DemoResult;
  /** What `serve` left for people to work (scripts/lib/demo-serve.ts); null without it. */
  served: ServedDemo | null;
  /** Stops what is running (nodes, relays, chain) and removes the work directory and schemas; idempotent. */
  stop(): Promise<void>;
}

/**
 * Runs the scenario; without `serve` everything is stopped and removed by the time it resolves, with
 * `serve` it is left running (and the periods of demo-serve.ts waiting) until `stop()`. On failure it
 * cleans up before it rejects.
 */
export async function startDemo(options: Options, out: (line: string) => void): Promise<RunningDemo> {
  if (options.processes) return startProcessesDemo(options, out);
  const started = Date.now();
  const timeline: TimelineEntry[] = [];
  const note = (what: string, who: string, gas: bigint | null = null) => {
    timeline.push({ at: Date.now(), what, who, gas });
    out(
      `  ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${what}${gas === null ? "" : ` (gas ${gas})`}  — ${who}`,
    );
  };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "icl-demo-"));
  // Ctrl-C or a closed pipe mid-run: the exit still removes the work directory (the chain stops with it).
  const removeWork = () => fs.rmSync(work, { recursive: true, force: true });
  const interrupted = () => process.exit(130);
  process.once("exit", removeWork);
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  let hardhat: HardhatNode | null = null;
  let anvil: AnvilNode | null = null;
  const nodes: DemoNode[] = [];
  const relays: TcpProxy[] = [];
  const schemas = new Map<string, string>();
  let served: ServedDemo | null = null;
  let stopped = false;
  const cleanup = async () => {
    if (stopped) return;
    stopped = true;
    const attempt = cleanupStep(out);
    if (served !== null) await attempt("stop the nodes following the ledger", () => served!.halt());
    for (const n of nodes) await attempt(`stop ${n.carrier.name}'s node`, () => closeNode(n));
    for (const relay of relays) await attempt("close a relay", () => relay.close());
    if (options.pg && schemas.size > 0) {
      await attempt("drop the demo's PostgreSQL schemas", async () => {
        await dropNodeSchemas(options.pg!, schemas.values());
      });
    }
    await attempt("stop the chain", async () => hardhat?.stop());
    removeWork();
    process.removeListener("exit", removeWork);
    process.removeListener("SIGINT", interrupted);
    process.removeListener("SIGTERM", interrupted);
  };
  try {
    out("Interconnect Ledger — consortium demo");
    let provider: JsonRpcProvider;
    if (options.rpc === null && options.chain === "anvil") {
      hardhat = anvil = await startAnvilNode({ stateDir: path.join(work, "chain") });
      provider = anvil.provider;
      out(`chain: Anvil JSON-RPC on ${anvil.url}, its state dumped every second to ${anvil.statePath}`);
    } else if (options.rpc === null) {
      hardhat = await startHardhatNode();
      provider = hardhat.provider;
      out(`chain: Hardhat JSON-RPC on ${hardhat.url}`);
    } else {
      provider = new JsonRpcProvider(options.rpc, Network.from(31337), { staticNetwork: true });
      out(`chain: ${options.rpc}`);
    }
    const rpcUrl = hardhat?.url ?? options.rpc!;
    // 0.001 ICUSD absolute: the 1% relative tolerance decides at every size.
    const c = await scriptConsortium(provider, { toleranceAbs: 1_000n });
    note(
      "deployed the registry, agreement book, ledger and ICUSD; registered ACME, GLOBEX, INITECH (2-of-3 officers), an arbiter and a regulator; three agreements approved",
      "consortium admin and officers",
    );

    const secrets = new Map(Object.keys(c.agreements).map((name) => [name, crypto.randomBytes(32)]));
    const openDb = async (carrier: ConsortiumCarrier, dir: string) => {
      if (!options.pg) return openNodeDatabase({ dataDir: dir });
      const schema = `icl_demo_${process.pid}_${carrier.name.toLowerCase()}`;
      const db = await openNodeDatabase({ url: options.pg, schema, dataDir: dir });
      schemas.set(carrier.name, schema);
      return db;
    };
    // Fault mode: a relay in front of the chain and of each gateway, so they can go away and come back.
    let chainRelay: TcpProxy | null = null;
    if (options.faults) {
      chainRelay = await startTcpProxy(Number(new URL(rpcUrl).port));
      relays.push(chainRelay);
    }
    const nodeRpcUrl = chainRelay?.url ?? rpcUrl;
    const start = async (carrier: ConsortiumCarrier, fresh: boolean): Promise<DemoNode> => {
      const dir = path.join(work, carrier.name);
      fs.mkdirSync(dir, { recursive: true });
      const db = await openDb(carrier, dir);
      try {
        if (fresh) await setUpCarrier(db, c, carrier, secrets);
        return await startNode(c, carrier, nodeRpcUrl, db, dir);
      } catch (error) {
        await db.close();
        throw error;
      }
    };
    // The three carriers' nodes start side by side (PGlite's start-up dominates).
    const started3 = await Promise.allSettled(
      Object.values(c.carriers).map((carrier) => start(carrier, true)),
    );
    for (const outcome of started3) if (outcome.status === "fulfilled") nodes.push(outcome.value);
    for (const outcome of started3) if (outcome.status === "rejected") throw outcome.reason;
    const gatewayRelays = new Map<string, TcpProxy>();
    for (const n of nodes) {
      if (options.faults) {
        const relay = await startTcpProxy(Number(new URL(n.gateway.url).port));
        relays.push(relay);
        gatewayRelays.set(n.carrier.name, relay);
      }
      note(
        `node started: ${options.pg ? `PostgreSQL schema ${schemas.get(n.carrier.name)}` : "own PGlite database"}, evidence store, node key; gateway and console ${n.gateway.url}/console/`,
        n.carrier.name,
      );
    }
    /** Where a carrier's partners reach its node: its gateway, or the relay in front of it. */
    const peerUrl = (n: DemoNode) => gatewayRelays.get(n.carrier.name)?.url ?? n.gateway.url;
    for (const agreement of Object.values(c.agreements)) {
      const [a, b] = [nodeOf(nodes, agreement.a), nodeOf(nodes, agreement.b)];
      await a.node.agreements.setPeer(agreement.name, peerUrl(b));
      await b.node.agreements.setPeer(agreement.name, peerUrl(a));
    }
    /** Stops a carrier's node abruptly (runner, gateway, chain client, database), as a crash would. */
    const stop = async (carrier: ConsortiumCarrier) => {
      const n = nodeOf(nodes, carrier);
      nodes.splice(nodes.indexOf(n), 1);
      await closeNode(n);
    };
    /** Starts a stopped carrier's node again from its data directory; its partners reach it as before. */
    const restart = async (carrier: ConsortiumCarrier) => {
      const n = await start(carrier, false);
      nodes.push(n);
      nodes.sort((x, y) => x.carrier.name.localeCompare(y.carrier.name));
      gatewayRelays.get(carrier.name)?.retarget(Number(new URL(n.gateway.url).port));
      return n;
    };

    // Traffic: one list of calls per agreement; each carrier's switch writes its side into its own files.
    const {
      traffic,
      files,
      late: lateFile,
    } = writeDemoTraffic(c, (carrier) => nodeOf(nodes, carrier).dir, options.cdrs);
    const counts = new Map<string, { read: bigint; rated: bigint; unbilled: bigint; rejected: bigint }>();
    const ingest = async (n: DemoNode, file: { file: string; rows: number }) => {
      const profile = SWITCHES[n.carrier.name]!;
      let shown = 0;
      const { file: f } = await ingestFile(
        n.db,
        file.file,
        profile.format,
        ingestSettings(demoConfig(n.carrier.name)),
        (p) => {
          // Progress at each quarter of the file (the console and `icl ingest` show a bar).
          const quarter = Math.floor((4 * p.bytesRead) / Math.max(1, p.byteSize));
          if (quarter > shown && quarter < 4 && file.rows >= 20_000) {
            shown = quarter;
            out(
              `           … ${n.carrier.name} ${path.basename(file.file)}: ${quarter * 25}% (${p.records} CDRs)`,
            );
          }
        },
      );
      const sum = counts.get(n.carrier.name) ?? { read: 0n, rated: 0n, unbilled: 0n, rejected: 0n };
      counts.set(n.carrier.name, {
        read: sum.read + f.records,
        rated: sum.rated + f.rated,
        unbilled: sum.unbilled + f.unbilled,
        rejected: sum.rejected + f.rejected,
      });
      return f;
    };
    // The three switches' files are ingested side by side, each node on its own.
    await Promise.all(
      nodes.map(async (n) => {
        for (const file of files.get(n.carrier.name)!.filter((f) => f !== lateFile)) {
          const f = await ingest(n, file);
          note(
            `ingested ${path.basename(file.file)} (${SWITCHES[n.carrier.name]!.format}): ${f.records} CDRs, ${f.rated} rated + ${f.unbilled} unbilled + ${f.rejected} rejected`,
            n.carrier.name,
          );
        }
      }),
    );
    const lateIngest = await ingest(nodeOf(nodes, c.carriers.ACME), lateFile);
    note(
      `a late batch arrived: ${lateFile.rows} CDRs of ACME–GLOBEX for 30–31 January, ${traffic["ACME-GLOBEX"]!.resentOnA.size} of them sent before; ingested: ${lateIngest.rated} rated + ${lateIngest.unbilled} unbilled + ${lateIngest.rejected} rejected as duplicates`,
      "ACME",
    );
    for (const [name, k] of counts) {
      note(
        `all CDRs accounted for: ${k.read} read = ${k.rated} rated + ${k.unbilled} unbilled + ${k.rejected} rejected`,
        name,
      );
    }

    // Escrow first: the co-signed fast path settles the moment both carriers' signatures meet.
    for (const carrier of Object.values(c.carriers)) await fundEscrow(c, carrier, "ICUSD", 1_000_000n * M);
    note("each carrier's treasury deposited 1,000,000 ICUSD into escrow", "treasuries");
    const before = await balances(c);

    const closedAt = Date.now();
    for (const agreement of Object.values(c.agreements)) {
      const fast = SCENARIO[agreement.name].expect === "Matched";
      for (const carrier of [agreement.a, agreement.b]) {
        const n = nodeOf(nodes, carrier);
        const closed = await n.node.periods.close(
          agreement.name,
          PERIOD,
          fast ? "freeze" : "commit",
          n.chain,
        );
        const local = closed.agreement;
        if (fast) {
          // Both nodes built the same summary: no commitment; two officers sign the co-signed Settlement of
          // their own node's summary, and the running nodes exchange the signatures and settle.
          const settlement = await ourSettlement(n.db, n.chain, local, PERIOD);
          const chainNow = BigInt((await n.chain.provider.getBlock("latest"))!.timestamp);
          for (const officer of carrier.officers.slice(0, 2)) {
            const signature = await signSettlement(n.chain, officer, settlement);
            await acceptSettlementSignature(n.db, n.chain, settlement, carrier.id, signature, chainNow);
          }
          note(
            `closed ${agreement.name} ${MONTH} without committing; two officers signed its co-signed Settlement (fast path)`,
            carrier.name,
          );
          continue;
        }
        const receipt = await n.chain.provider.getTransactionReceipt(closed.commit!.txHash);
        note(
          `closed ${agreement.name} ${MONTH} and committed its salted root`,
          carrier.name,
          receipt?.gasUsed ?? null,
        );
      }
    }
    const seen = new Set<string>();
    const heldFor = new Set<string>();
    let archived: bigint | null = null;
    const comparisons: DemoResult["timings"]["comparisons"] = [];
    const passes = async (only?: readonly DemoNode[]) => {
      for (const n of only ?? [...nodes]) {
        const pass = await n.runner.pass();
        for (const f of pass.fastPath) {
          if (f.step !== "submitted") continue;
          const receipt = f.txHash === null ? null : await n.chain.provider.getTransactionReceipt(f.txHash);
          note(
            `settled ${f.agreement} ${MONTH} by the co-signed fast path (one settleFastPath with both carriers' signatures)`,
            n.carrier.name,
            receipt?.gasUsed ?? null,
          );
        }
        for (const r of pass.revealed) note(`revealed ${r.agreement} ${MONTH}`, n.carrier.name);
        for (const h of pass.preReveal) {
          if (h.step === "settled") {
            const receipt = h.txHash === null ? null : await n.chain.provider.getTransactionReceipt(h.txHash);
            note(
              `revealed both openings of ${h.agreement} ${MONTH}, recorded both carriers' approvals and settled it in one revealAndSettle`,
              n.carrier.name,
              receipt?.gasUsed ?? null,
            );
            continue;
          }
          const agreement = Object.values(c.agreements).find((a) => a.name === h.agreement);
          if (h.step !== "held" || agreement === undefined || heldFor.has(agreement.name)) continue;
          // The node holds the reveal: both openings reconcile. The officers approve what they give.
          heldFor.add(agreement.name);
          note(
            `holds ${agreement.name} ${MONTH} unrevealed: both openings reconcile, so officers approve before the reveal`,
            n.carrier.name,
          );
          await approveAll(nodes, agreement, PERIOD, false, note);
        }
        for (const x of pass.compared) {
          const name =
            Object.values(c.agreements).find((a) => a.agreementId === x.agreementId)?.name ?? x.agreementId;
          const counts = Object.entries(x.report.counts)
            .filter(([, k]) => k > 0)
            .map(([kind, k]) => `${kind} ${k}`)
            .join(", ");
          comparisons.push({
            agreement: name,
            carrier: n.carrier.name,
            seconds: x.stats.seconds,
            differingLeaves: x.report.leaves.length,
            calls: traffic[name]?.calls.length ?? 0,
          });
          note(
            `compared ${name} with the partner's node in ${x.stats.seconds.toFixed(1)} s: ${x.report.leaves.length} differing leaves (${counts}); evidence sealed`,
            n.carrier.name,
          );
        }
        for (const d of pass.deferred) {
          const key = `${n.carrier.name}:${d.agreement}:${d.step}`;
          if (seen.has(key)) continue;
          seen.add(key);
          note(`could not ${d.step} for ${d.agreement} (${d.error}); trying again next pass`, n.carrier.name);
        }
      }
    };
    /** Reconciliation is done when every period was compared and each differing one has both reports. */
    const reconciled = async () => {
      for (const agreement of Object.values(c.agreements)) {
        const state = await periodState(nodes[0]!.chain, agreement.agreementId, PERIOD);
        if (SCENARIO[agreement.name].expect === "Matched") {
          if (state !== "Settled") return false; // the fast path
          continue;
        }
        // Reconciling openings settle in one revealAndSettle once the officers approved before the reveal.
        if (!["Matched", "Reconciled", "Mismatched", "Settled"].includes(state)) return false;
        for (const carrier of [agreement.a, agreement.b]) {
          const n = nodeOf(nodes, carrier);
          if ((await n.node.periods.report(agreement.agreementId, PERIOD)).report === null) return false;
        }
      }
      return true;
    };
    if (options.faults) {
      await stop(c.carriers.INITECH);
      note("INITECH's node stopped abruptly after committing (fault)", "INITECH");
      await passes();
      await gatewayRelays.get("GLOBEX")!.down();
      note("GLOBEX's gateway became unreachable (fault)", "GLOBEX");
      const initechNode = await restart(c.carriers.INITECH);
      note(`INITECH's node restarted from its data directory; gateway ${initechNode.gateway.url}`, "INITECH");
      await passes([initechNode]);
      await gatewayRelays.get("GLOBEX")!.up();
      note("GLOBEX's gateway is reachable again", "GLOBEX");
    }
    for (let round = 0; !(await reconciled()); round++) {
      if (round === 8) throw new Error("the nodes did not finish reconciling in 8 passes");
      await passes();
    }
    for (const agreement of Object.values(c.agreements)) {
      const chain = nodes[0]!.chain;
      const state = await periodState(chain, agreement.agreementId, PERIOD);
      const fast = await fastPathFigures(chain, agreement.agreementId, PERIOD);
      const evaluated = (
        await chain.ledger.queryFilter(chain.ledger.filters.Evaluated(agreement.agreementId, PERIOD))
      ).at(-1);
      const outcome = evaluated === undefined ? state : OUTCOMES[Number(evaluated.args.outcome)];
      const is =
        fast !== null
          ? "Matched and settled by the fast path"
          : state === "Settled"
            ? `${outcome} and settled in one revealAndSettle`
            : state;
      note(`${agreement.name} ${MONTH} is ${is} (expected ${SCENARIO[agreement.name].expect})`, "ledger");
    }

    // The dispute on GLOBEX–INITECH.
    const disputed = c.agreements["GLOBEX-INITECH"];
    const globex = nodeOf(nodes, c.carriers.GLOBEX);
    const initech = nodeOf(nodes, c.carriers.INITECH);
    const { report } = await globex.node.periods.report(disputed.agreementId, PERIOD);
    const step = (n: DemoNode, actor: Wallet, name: DisputeStep, input: StepInput, who: string) =>
      disputeStep(c, n, disputed, PERIOD, actor, name, input, who, note);
    await step(
      globex,
      c.carriers.GLOBEX.officers[0],
      "open",
      { reasonCode: DISPUTE_REASONS.missing_cdrs, evidenceCid: report?.evidenceCid ?? undefined },
      "GLOBEX officer 1",
    );
    const record = await globex.chain.ledger.periodRecord(disputed.agreementId, PERIOD);
    await step(
      initech,
      c.carriers.INITECH.officers[0],
      "propose",
      { amountAB: record.amountABofB, amountBA: record.amountBAofB },
      "INITECH officer 1",
    );
    // GLOBEX does not accept; once INITECH's proposal has stood for the response window it escalates.
    await advance(provider, WINDOWS.response + 60);
    // The officer's node must see the moved clock before it plans the escalation.
    await untilSeen([globex.chain.provider], await latestTimestamp(provider));
    note(`the chain's clock moved ${WINDOWS.response / 86_400} days: the response window closed`, "time");
    await step(globex, c.carriers.GLOBEX.officers[1], "escalate", {}, "GLOBEX officer 2");

    // Both carriers approve the undisputed part; it settles first.
    await approveAll(nodes, disputed, PERIOD, true, note);
    await sendSettle(nodeOf(nodes, c.carriers.ACME), disputed, note);
    await step(
      globex,
      c.arbiter,
      "rule",
      { amountAB: record.amountABofA, amountBA: record.amountBAofA },
      "arbiter",
    );

    // Final approvals of the two that went through commit–reveal, then one netted batch.
    for (const agreement of Object.values(c.agreements)) {
      if ((await periodState(nodes[0]!.chain, agreement.agreementId, PERIOD)) === "Settled") continue;
      await approveAll(nodes, agreement, PERIOD, false, note);
    }
    const acme = nodeOf(nodes, c.carriers.ACME);
    const periods = await findSettleable(acme.chain, acme.db);
    // The final figures each period settles at (after the tolerance rule, the ruling, the approvals).
    const finals = new Map<string, { amountAB: bigint; amountBA: bigint }>();
    for (const p of periods) finals.set(p.agreementId, { amountAB: p.amountAB, amountBA: p.amountBA });
    for (const agreement of Object.values(c.agreements)) {
      const fast = await fastPathFigures(acme.chain, agreement.agreementId, PERIOD);
      if (fast !== null) finals.set(agreement.agreementId.toLowerCase(), fast);
      // Settled by revealAndSettle at the figures the ledger evaluated from both openings.
      const evaluated = (
        await acme.chain.ledger.queryFilter(
          acme.chain.ledger.filters.Evaluated(agreement.agreementId, PERIOD),
        )
      ).at(-1);
      if (fast === null && !finals.has(agreement.agreementId.toLowerCase()) && evaluated !== undefined) {
        finals.set(agreement.agreementId.toLowerCase(), {
          amountAB: evaluated.args.amountAB,
          amountBA: evaluated.args.amountBA,
        });
      }
    }
    const keys = periods.map((p) => ({ agreementId: p.agreementId, period: p.period }));
    const request = settleBatchRequest(acme.chain, await c.tokens.ICUSD.getAddress(), keys);
    let sending: Promise<TxResult>;
    if (chainRelay && anvil) {
      // Everything before is in the chain's last dump; the chain process is killed the moment it accepts
      // the batch (mined, not yet dumped) and comes back from that dump without it. ACME's node keeps
      // asking; on the restored chain the batch's nonce is unused, so it broadcasts the same signed bytes.
      await anvil.waitForDump();
      const crashed = chainRelay.crashAfter("eth_sendRawTransaction");
      sending = acme.chain.transactions!.send(request);
      await crashed;
      await anvil.kill();
      note(
        "the chain process was SIGKILLed right after accepting ACME's settleBatch, before it saved its state (fault)",
        "chain",
      );
      await anvil.restart();
      const row = await acme.chain.transactions!.lookup(request.idempotencyKey);
      const kept = row?.txHash ? await provider.send("eth_getTransactionReceipt", [row.txHash]) : null;
      note(
        `the chain started again from its last dump at block ${await provider.getBlockNumber()}, ${kept === null ? "without" : "with"} the settleBatch`,
        "chain",
      );
      await chainRelay.up();
    } else if (chainRelay) {
      // The chain accepts the batch and goes down before its reply reaches ACME's node; the node keeps
      // retrying; when the endpoint is back, it finds its transaction mined and does not send another.
      const crashed = chainRelay.crashAfter("eth_sendRawTransaction");
      sending = acme.chain.transactions!.send(request);
      await crashed;
      note(
        "the chain's RPC endpoint went down right after accepting ACME's settleBatch, before replying (fault)",
        "chain",
      );
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await chainRelay.up();
      note("the chain's RPC endpoint is back", "chain");
    } else {
      sending = acme.chain.transactions!.send(request);
    }
    const sent = await sending;
    if (sent.status !== "confirmed")
      throw new Error(`the netted settlement reverted: ${sent.error ?? "no reason"}`);
    // A period settled by someone else in the meantime is left out by the ledger (SettlementSkipped).
    const skipped = await skippedInBatch(acme.chain, sent.txHash);
    note(
      `settled ${keys.length - skipped.length} ${keys.length - skipped.length === 1 ? "period" : "periods"} in one netted batch (settleBatch, ${sent.txHash.slice(0, 10)}…)` +
        (skipped.length > 0
          ? `; skipped ${skipped.map((k) => `${k.agreementId.slice(0, 10)}… (${k.state})`).join(", ")}`
          : ""),
      "ACME node",
      sent.gasUsed,
    );
    if (anvil && options.faults) {
      // Every node follows the restored chain: its index sees the blocks that left, its recent
      // transactions are checked again, and nothing is sent twice.
      await passes();
      note("every node ran a pass on the restored chain", "nodes");
    }
    const after = await balances(c);
    if (!options.serve) {
      // January is over for ACME: every partner's period Settled, so its CDRs leave the database for a file.
      const archive = await archiveSettledMonth(acme.db, acme.chain, PERIOD, path.join(acme.dir, "archive"));
      archived = archive.records;
      note(
        `icl cdrs archive: ${archive.records} CDRs of ${MONTH} detached and written to ${path.basename(archive.file)} (sha256 ${archive.sha256.slice(0, 12)}…)`,
        "ACME",
      );
    }

    // As a regulator opens it from the published deployment: its addresses and deploy block (a chain
    // restored from a dump, like Anvil's, has no historical state to search for the deploy block).
    const auditChain = await openAuditChain({
      rpcUrl,
      ledger: c.addresses.ledger,
      registry: c.addresses.registry,
      book: c.addresses.book,
      fromBlock: c.addresses.deployBlock,
    });
    const audit = await verifyLedger(auditChain);
    note(`icl audit verify: ${audit.ok ? "pass" : "FAIL"} (${audit.findings.length} findings)`, "regulator");
    const seconds = (Date.now() - closedAt) / 1000;
    const timings = {
      totalSeconds: (Date.now() - started) / 1000,
      closeToSettlementSeconds: seconds,
      comparisons,
    };
    const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);

    out("\nBalances in escrow (ICUSD)");
    out("carrier    before              after               moved");
    for (const carrier of Object.values(c.carriers)) {
      const [x, y] = [before.get(carrier.name)!, after.get(carrier.name)!];
      out(
        `${carrier.name.padEnd(10)} ${fmt(x).padStart(18)}  ${fmt(y).padStart(18)}  ${fmt(y - x).padStart(14)}`,
      );
    }
    const results: DemoPeriod[] = [];
    for (const agreement of Object.values(c.agreements)) {
      const final = finals.get(agreement.agreementId) ?? { amountAB: 0n, amountBA: 0n };
      const dispute = await acme.chain.ledger.disputeRecord(agreement.agreementId, PERIOD);
      results.push({
        agreement: agreement.name,
        period: MONTH,
        state: await periodState(acme.chain, agreement.agreementId, PERIOD),
        amountAB: fmt(final.amountAB),
        amountBA: fmt(final.amountBA),
        settled: (await periodState(acme.chain, agreement.agreementId, PERIOD)) === "Settled",
        disputed: dispute.openedAt !== 0n,
      });
    }
    out("\nagreement        period   state     A→B            B→A");
    for (const r of results)
      out(
        `${r.agreement.padEnd(16)} ${r.period}  ${r.state.padEnd(8)}  ${r.amountAB.padStart(13)}  ${r.amountBA.padStart(13)}`,
      );
    out(`\n${seconds.toFixed(1)} s from period close to settlement; audit: ${audit.ok ? "pass" : "fail"}`);
    if (options.report) {
      fs.writeFileSync(
        options.report,
        JSON.stringify(
          {
            periods: results,
            audit: audit.ok ? "pass" : "fail",
            timings,
            peakRssMb,
            timeline: timeline.map((t) => ({
              ...t,
              gas: t.gas?.toString() ?? null,
              at: new Date(t.at).toISOString(),
            })),
          },
          null,
          2,
        ),
      );
    }
    const result: DemoResult = {
      periods: results,
      audit: audit.ok ? "pass" : "fail",
      escrow: escrowMoves(c, before, after),
      cdrs: Object.fromEntries(counts),
      traffic,
      nodeTransactions: await nodeTransactionCounts(c),
      timings,
      peakRssMb,
      archivedCdrs: archived,
    };
    if (options.serve) {
      served = await leaveServed({
        c,
        nodes,
        rpcUrl,
        work,
        calls: Math.max(1_000, Math.floor(options.cdrs / 20)),
        note,
        out,
      });
    }
    // From here Ctrl-C is the served demo's to handle (runDemo), or the run is over.
    process.removeListener("SIGINT", interrupted);
    process.removeListener("SIGTERM", interrupted);
    if (served === null) await cleanup();
    return { result, served, stop: cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

const fmt = formatIcusd;
const balances = escrowBalances;

/** The figures a period was settled at by the co-signed fast path (its FastPathSettled event), or null. */
async function fastPathFigures(
  chain: ChainClient,
  agreementId: string,
  period: number,
): Promise<{ amountAB: bigint; amountBA: bigint } | null> {
  const ledger = chain.ledger;
  const [event] = await ledger.queryFilter(ledger.filters.FastPathSettled(agreementId, period));
  return event === undefined ? null : { amountAB: event.args.amountAB, amountBA: event.args.amountBA };
}

async function sendSettle(
  n: DemoNode,
  agreement: ConsortiumAgreement,
  note: (what: string, who: string, gas?: bigint | null) => void,
): Promise<void> {
  const sent = await n.node.settlement.settle(n.chain, {
    agreementId: agreement.agreementId,
    period: PERIOD,
    name: agreement.name,
  });
  note(`${sent.kind} of ${agreement.name} ${MONTH}`, `${n.carrier.name} node`, sent.transaction.gasUsed);
}
