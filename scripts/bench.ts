/**
 * `npm run bench`: speed and memory of the carrier node, measured in one run on generated files.
 *
 *   npm run bench [-- --cdrs N] [-- --skip-pglite] [-- --skip-postgres] [-- --skip-jetstream]
 *                 [-- --demo-cdrs N] [-- --skip-demo]
 *
 * - `icl rate` (mediation + rating, no database) next to the floor: a bare Node stream-and-split
 *   pass over the same file.
 * - `icl ingest` into PGlite and into PostgreSQL next to PostgreSQL `COPY` of the same rows into an
 *   identical table (same primary key and indexes).
 * - Peak RSS of each command at a quarter of the size and at full size: flat means bounded memory.
 * - JetStream: the same CDRs as icl-json messages on a NATS stream, `icl ingest --from nats://…
 *   --drain` into PostgreSQL (PGlite when PostgreSQL is not there), next to a file ingest of the
 *   same icl-json into the same kind of database; skipped with a notice when no NATS server
 *   answers at ICL_NATS_URL (default nats://127.0.0.1:4222).
 * - Reconciliation: hashes, bytes and round trips two nodes exchange to localise 10 differing leaves
 *   among 100 000, next to sending every leaf.
 * - The consortium demo's month at `--demo-cdrs` (default `--cdrs`) CDRs per carrier: seconds from period
 *   close to settlement, each comparison's seconds, peak RSS (`--skip-demo` leaves it out).
 * - The ratios side by side: rating ÷ parse floor, ingest ÷ COPY, comparison seconds per million CDRs,
 *   period close → settlement.
 * Prints a table, then one JSON line with every figure. PostgreSQL is DATABASE_URL, or the local
 * server at 127.0.0.1:5432; its parts are skipped with a notice when it does not answer. The run
 * first compiles the node (`tsc -p tsconfig.build.json`) and measures the compiled CLI, as installed.
 */
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Client } from "pg";
import { measureMerkleDiff } from "./lib/bench-merkle-diff";
import { connectBenchNats, publishFile, runUntilConsumed, writeIclJsonFromCsv } from "./lib/bench-jetstream";
import { generatedDeck, writeIclCsv } from "./lib/generate-cdrs";
import type { DemoResult } from "./demo";

const ROOT = path.resolve(__dirname, "..");
const ICL = path.join(ROOT, "bin", "icl.js");

interface Run {
  seconds: number;
  maxRssMb: number;
  stdout: string;
}

function run(command: string, args: string[], env: Record<string, string> = {}): Run {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, {
    cwd: ROOT,
    // The compiled dist/ (built at the start of the run): what `npx icl` runs after `npm install`.
    env: { ...process.env, ...env, ICL_FROM_SOURCE: "0", ICL_REPORT_RSS: "1" },
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}):\n${result.stderr}`);
  const rss = /icl-max-rss-kb=(\d+)/.exec(result.stderr);
  return { seconds, maxRssMb: rss ? Number(rss[1]) / 1024 : NaN, stdout: result.stdout };
}

const FLOOR_SCRIPT = `
const fs = require("fs");
let rows = 0, fields = 0, rest = "";
const stream = fs.createReadStream(process.argv[1], { highWaterMark: 1 << 20 });
stream.on("data", (chunk) => {
  const lines = (rest + chunk.toString("utf8")).split("\\n");
  rest = lines.pop();
  for (const line of lines) { rows++; fields += line.split(",").length; }
});
stream.on("end", () => { process.stderr.write("icl-max-rss-kb=" + process.resourceUsage().maxRSS + "\\n"); console.log(rows, fields); });
`;

function setUpNode(dataDir: string, deck: string, env: Record<string, string>): void {
  run(process.execPath, [ICL, "init"], { ...env, ICL_DATA_DIR: dataDir });
  for (const partner of ["GLOBEX", "INITECH"]) {
    run(process.execPath, [ICL, "partners", "add", partner], { ...env, ICL_DATA_DIR: dataDir });
    for (const direction of ["in", "out"]) {
      run(
        process.execPath,
        [ICL, "tariffs", "import", deck, "--partner", partner, "--direction", direction],
        {
          ...env,
          ICL_DATA_DIR: dataDir,
        },
      );
    }
  }
}

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function psqlAvailable(): boolean {
  return spawnSync("psql", ["--version"], { encoding: "utf8" }).status === 0;
}

/** What the bench reads from the demo's `--report` (scripts/demo.ts writes it). */
type DemoReport = Pick<DemoResult, "audit" | "timings" | "peakRssMb"> & { periods: { settled: boolean }[] };

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const perSecond = (rows: number, seconds: number) => Math.round(rows / seconds);

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      cdrs: { type: "string", default: "1000000" },
      "skip-pglite": { type: "boolean", default: false },
      "skip-postgres": { type: "boolean", default: false },
      "skip-jetstream": { type: "boolean", default: false },
      "skip-demo": { type: "boolean", default: false },
      "demo-cdrs": { type: "string" },
    },
  });
  const full = Number(values.cdrs);
  const quarter = Math.max(1000, Math.floor(full / 4));
  const tsc = spawnSync(
    process.execPath,
    [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    {
      cwd: ROOT,
      encoding: "utf8",
    },
  );
  if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed:\n${tsc.stdout}${tsc.stderr}`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "icl-bench-"));
  const figures: Record<string, number | string | null> = {
    cdrs: full,
    node: process.version,
    cpus: os.cpus().length,
  };
  try {
    const deck = path.join(work, "deck.csv");
    fs.writeFileSync(deck, generatedDeck());
    const files: Record<number, string> = {};
    for (const size of [quarter, full]) {
      files[size] = path.join(work, `cdrs-${size}.csv`);
      writeIclCsv(files[size]!, size, { seed: 42, imperfect: true, attempts: true });
    }
    const bigFile = files[full]!;
    const megabytes = fs.statSync(bigFile).size / 1e6;
    console.log(
      `Interconnect Ledger benchmark: ${full.toLocaleString("en")} CDRs (${fmt(megabytes)} MB icl-csv), Node ${process.version}, ${os.cpus().length} CPUs\n`,
    );

    // 1. Rating without a database, next to the floor.
    const floor = run(process.execPath, ["-e", FLOOR_SCRIPT, bigFile]);
    const rateSmall = run(process.execPath, [ICL, "rate", "--tariff", deck, "--json", files[quarter]!]);
    const rate = run(process.execPath, [ICL, "rate", "--tariff", deck, "--json", bigFile]);
    const summary = JSON.parse(rate.stdout) as { records: number };
    if (summary.records !== full)
      throw new Error(`icl rate read ${summary.records} records, expected ${full}`);
    Object.assign(figures, {
      floor_s: floor.seconds,
      rate_s: rate.seconds,
      rate_vs_floor: rate.seconds / floor.seconds,
      rate_cdrs_per_s: perSecond(full, rate.seconds),
      rate_rss_mb_quarter: rateSmall.maxRssMb,
      rate_rss_mb_full: rate.maxRssMb,
      floor_rss_mb: floor.maxRssMb,
    });
    const oneThread = run(process.execPath, [ICL, "rate", "--tariff", deck, "--json", bigFile], {
      ICL_RATE_THREADS: "1",
    });
    if (oneThread.stdout !== rate.stdout)
      throw new Error("icl rate printed different results on one and on several threads");
    Object.assign(figures, {
      rate_one_thread_s: oneThread.seconds,
      rate_one_thread_vs_floor: oneThread.seconds / floor.seconds,
    });
    console.log(
      `icl rate        ${fmt(rate.seconds, 2)} s  ${perSecond(full, rate.seconds).toLocaleString("en")} CDR/s on ${os.availableParallelism()} cores (worker threads)`,
    );
    console.log(
      `  one thread    ${fmt(oneThread.seconds, 2)} s  (${fmt(oneThread.seconds / floor.seconds, 2)}× the floor; identical output)`,
    );
    console.log(
      `floor (split)   ${fmt(floor.seconds, 2)} s  → icl rate takes ${fmt(rate.seconds / floor.seconds, 2)}× the floor (aim ≤ 2×, at most 3×)`,
    );
    console.log(
      `peak RSS        icl rate ${fmt(rateSmall.maxRssMb, 0)} MB at ${quarter.toLocaleString("en")} CDRs, ${fmt(rate.maxRssMb, 0)} MB at ${full.toLocaleString("en")} (in-memory duplicate set ≈ 16 B/CDR)\n`,
    );

    // 2. Ingest into PGlite.
    if (!values["skip-pglite"]) {
      for (const size of [quarter, full]) {
        const dataDir = path.join(work, `pglite-${size}`);
        setUpNode(dataDir, deck, { DATABASE_URL: "" });
        const ingest = run(process.execPath, [ICL, "ingest", "--format", "icl-csv", files[size]!], {
          ICL_DATA_DIR: dataDir,
          DATABASE_URL: "",
        });
        const suffix = size === full ? "full" : "quarter";
        figures[`ingest_pglite_rss_mb_${suffix}`] = ingest.maxRssMb;
        if (size === full) {
          figures.ingest_pglite_s = ingest.seconds;
          figures.ingest_pglite_cdrs_per_s = perSecond(full, ingest.seconds);
          console.log(
            `ingest PGlite    ${fmt(ingest.seconds, 1)} s  ${perSecond(full, ingest.seconds).toLocaleString("en")} CDR/s  peak RSS ${fmt(figures.ingest_pglite_rss_mb_quarter as number, 0)} → ${fmt(ingest.maxRssMb, 0)} MB`,
          );
        }
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    }

    // 3. Ingest into PostgreSQL, next to COPY of the same rows.
    const url = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";
    if (values["skip-postgres"]) console.log("ingest PostgreSQL skipped (--skip-postgres)");
    else if (!(await postgresAnswers(url)))
      console.log(`ingest PostgreSQL skipped: nothing answers at ${url.replace(/\/\/[^@]*@/, "//")}`);
    else {
      const schemas: string[] = [];
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        for (const size of [quarter, full]) {
          const schema = `icl_bench_${crypto.randomBytes(4).toString("hex")}`;
          schemas.push(schema);
          const dataDir = path.join(work, `pg-${size}`);
          fs.mkdirSync(dataDir);
          fs.writeFileSync(path.join(dataDir, "config.json"), JSON.stringify({ database: { schema } }));
          setUpNode(dataDir, deck, { DATABASE_URL: url });
          const ingest = run(process.execPath, [ICL, "ingest", "--format", "icl-csv", files[size]!], {
            ICL_DATA_DIR: dataDir,
            DATABASE_URL: url,
          });
          const suffix = size === full ? "full" : "quarter";
          figures[`ingest_postgres_rss_mb_${suffix}`] = ingest.maxRssMb;
          if (size !== full) continue;
          figures.ingest_postgres_s = ingest.seconds;
          figures.ingest_postgres_cdrs_per_s = perSecond(full, ingest.seconds);
          console.log(
            `ingest Postgres  ${fmt(ingest.seconds, 1)} s  ${perSecond(full, ingest.seconds).toLocaleString("en")} CDR/s  peak RSS ${fmt(figures.ingest_postgres_rss_mb_quarter as number, 0)} → ${fmt(ingest.maxRssMb, 0)} MB`,
          );

          if (!psqlAvailable()) {
            console.log("COPY comparison skipped: psql is not installed");
            continue;
          }
          const dump = path.join(work, "cdrs-copy.csv");
          const stored = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${schema}.cdrs`);
          const rows = Number(stored.rows[0]!.n);
          const psql = (command: string) => run("psql", [url, "-v", "ON_ERROR_STOP=1", "-q", "-c", command]);
          // The same tables as the node's: a month-partitioned copy of cdrs and a copy of cdr_keys, each
          // loaded by COPY from what the ingest stored.
          const keysDump = path.join(work, "cdr-keys-copy.csv");
          psql(`\\copy (SELECT * FROM ${schema}.cdrs) TO '${dump}' CSV`);
          psql(`\\copy (SELECT * FROM ${schema}.cdr_keys) TO '${keysDump}' CSV`);
          await client.query(
            `CREATE TABLE ${schema}.cdrs_copy (LIKE ${schema}.cdrs INCLUDING ALL) PARTITION BY RANGE (start_time)`,
          );
          const months = await client.query<{ name: string; bounds: string }>(
            `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bounds
               FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = '${schema}.cdrs'::regclass`,
          );
          for (const month of months.rows) {
            await client.query(
              `CREATE TABLE ${schema}.${month.name}_copy PARTITION OF ${schema}.cdrs_copy ${month.bounds}`,
            );
          }
          await client.query(`CREATE TABLE ${schema}.cdr_keys_copy (LIKE ${schema}.cdr_keys INCLUDING ALL)`);
          const copyKeys = psql(`\\copy ${schema}.cdr_keys_copy FROM '${keysDump}' CSV`);
          const copyRows = psql(`\\copy ${schema}.cdrs_copy FROM '${dump}' CSV`);
          const copy = { seconds: copyKeys.seconds + copyRows.seconds };
          const copyRate = perSecond(rows, copy.seconds);
          figures.copy_s = copy.seconds;
          figures.copy_rows = rows;
          figures.copy_rows_per_s = copyRate;
          figures.ingest_postgres_vs_copy = perSecond(full, ingest.seconds) / copyRate;
          console.log(
            `COPY (same rows, keys and partitions) ${fmt(copy.seconds, 1)} s  ${copyRate.toLocaleString("en")} rows/s → ingest runs at ${fmt((100 * perSecond(full, ingest.seconds)) / copyRate, 0)}% of COPY (aim ≥ 50%)`,
          );
        }
      } finally {
        for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      }
    }

    // 4. JetStream: the same CDRs as messages, next to a file ingest of them into the same database.
    const natsUrl = process.env.ICL_NATS_URL || "nats://127.0.0.1:4222";
    const nc = values["skip-jetstream"] ? null : await connectBenchNats(natsUrl);
    const onPostgres = !values["skip-postgres"] && (await postgresAnswers(url));
    if (values["skip-jetstream"]) console.log("\nJetStream ingest skipped (--skip-jetstream)");
    else if (nc === null) console.log(`\nJetStream ingest skipped: no NATS server answers at ${natsUrl}`);
    else if (!onPostgres && values["skip-pglite"])
      console.log("\nJetStream ingest skipped: no database to ingest into");
    else {
      const schemas: string[] = [];
      const nodeEnv = (dataDir: string): Record<string, string> => {
        fs.mkdirSync(dataDir);
        if (!onPostgres) return { ICL_DATA_DIR: dataDir, DATABASE_URL: "" };
        const schema = `icl_bench_${crypto.randomBytes(4).toString("hex")}`;
        schemas.push(schema);
        fs.writeFileSync(path.join(dataDir, "config.json"), JSON.stringify({ database: { schema } }));
        return { ICL_DATA_DIR: dataDir, DATABASE_URL: url };
      };
      figures.jetstream_database = onPostgres ? "postgres" : "pglite";
      try {
        for (const size of [quarter, full]) {
          const json = path.join(work, `cdrs-${size}.ndjson`);
          await writeIclJsonFromCsv(files[size]!, json);
          const suffix = size === full ? "full" : "quarter";
          if (size === full) {
            const fileEnv = nodeEnv(path.join(work, `json-file-${size}`));
            setUpNode(fileEnv.ICL_DATA_DIR!, deck, fileEnv);
            // Neither measurement pays for the other's writes still on their way to disk.
            spawnSync("sync");
            const fileIngest = run(process.execPath, [ICL, "ingest", "--format", "icl-json", json], fileEnv);
            figures.jetstream_file_ingest_seconds = fileIngest.seconds;
          }
          const stream = await publishFile(nc, json, size);
          try {
            const streamEnv = nodeEnv(path.join(work, `jetstream-${size}`));
            setUpNode(streamEnv.ICL_DATA_DIR!, deck, streamEnv);
            spawnSync("sync");
            const ingest = await runUntilConsumed(
              nc,
              process.execPath,
              [
                ...[ICL, "ingest", "--from", natsUrl, "--stream", stream.name, "--subject", stream.subject],
                ...["--format", "icl-json", "--drain", "--json"],
              ],
              { ...process.env, ...streamEnv, ICL_FROM_SOURCE: "0", ICL_REPORT_RSS: "1" },
              { stream: stream.name, durable: "icl-icl-json", last: stream.last },
            );
            const stored = JSON.parse(ingest.stdout) as { records: string };
            if (Number(stored.records) !== size)
              throw new Error(`the JetStream ingest stored ${stored.records} records, expected ${size}`);
            figures[`jetstream_rss_mb_${suffix}`] = ingest.maxRssMb;
            if (size !== full) continue;
            const fileSeconds = figures.jetstream_file_ingest_seconds as number;
            Object.assign(figures, {
              jetstream_publish_seconds: stream.publishSeconds,
              jetstream_ingest_seconds: ingest.seconds,
              jetstream_cdrs_per_s: perSecond(full, ingest.seconds),
              jetstream_vs_file: fileSeconds / ingest.seconds,
            });
            console.log(
              `\nJetStream ingest ${fmt(ingest.seconds, 1)} s  ${perSecond(full, ingest.seconds).toLocaleString("en")} CDR/s into ${figures.jetstream_database} ` +
                `(published in ${fmt(stream.publishSeconds, 1)} s)  peak RSS ${fmt(figures.jetstream_rss_mb_quarter as number, 0)} → ${fmt(ingest.maxRssMb, 0)} MB`,
            );
            console.log(
              `  icl-json file ${fmt(fileSeconds, 1)} s  → JetStream ingest runs at ${fmt((100 * fileSeconds) / ingest.seconds, 0)}% of a file ingest of the same CDRs (aim ≥ 70%)`,
            );
          } finally {
            await stream.delete();
            fs.rmSync(json, { force: true });
          }
        }
      } finally {
        await nc.close();
        if (schemas.length > 0) {
          const client = new Client({ connectionString: url });
          await client.connect();
          try {
            for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          } finally {
            await client.end();
          }
        }
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  // 5. Reconciliation: what two nodes exchange to localise a few differing leaves of their summaries.
  const diff = await measureMerkleDiff(100_000, 10);
  Object.assign(figures, {
    diff_leaves: diff.leaves,
    diff_differing: diff.differing,
    diff_hashes: diff.diff_hashes,
    diff_bytes: diff.diff_bytes,
    diff_round_trips: diff.diff_round_trips,
    all_leaves_bytes: diff.all_leaves_bytes,
  });
  console.log(
    `\nsummary diff     ${diff.differing} differing leaves among ${diff.leaves.toLocaleString("en")}: ` +
      `${diff.diff_hashes} hashes, ${diff.diff_bytes.toLocaleString("en")} bytes, ${diff.diff_round_trips} round trips ` +
      `(sending every leaf: ${diff.all_leaves_bytes.toLocaleString("en")} bytes)`,
  );

  // 6. The consortium demo's month (scripts/demo.ts, three nodes in one process on PGlite): period close
  // to settlement, the comparisons in it, the peak RSS.
  if (values["skip-demo"]) console.log("\ndemo skipped (--skip-demo)");
  else {
    const demoCdrs = Number(values["demo-cdrs"] ?? full);
    const reportFile = path.join(os.tmpdir(), `icl-bench-demo-${process.pid}.json`);
    try {
      const demo = run(process.execPath, [
        path.join(ROOT, "bin", "demo.js"),
        ...["--cdrs", String(demoCdrs), "--report", reportFile],
      ]);
      const report = JSON.parse(fs.readFileSync(reportFile, "utf8")) as DemoReport;
      if (report.audit !== "pass" || !report.periods.every((p) => p.settled))
        throw new Error(`the demo did not settle every period with a passing audit (${reportFile})`);
      const compared = report.timings.comparisons;
      const comparisonSeconds = compared.reduce((sum, c) => sum + c.seconds, 0);
      const comparedCalls = compared.reduce((sum, c) => sum + c.calls, 0);
      Object.assign(figures, {
        demo_cdrs: demoCdrs,
        demo_seconds: demo.seconds,
        demo_rss_mb: report.peakRssMb,
        close_to_settlement_s: report.timings.closeToSettlementSeconds,
        comparisons: compared.length,
        comparison_s_per_million: comparedCalls === 0 ? null : comparisonSeconds / (comparedCalls / 1e6),
      });
      console.log(
        `\ndemo            ${demoCdrs.toLocaleString("en")} CDRs per carrier: ${fmt(demo.seconds, 0)} s in all, ` +
          `${fmt(report.timings.closeToSettlementSeconds, 1)} s from period close to settlement (aim ≤ 60 s), peak RSS ${fmt(report.peakRssMb, 0)} MB (aim < 2 048)`,
      );
      for (const c of compared) {
        console.log(
          `  compared      ${c.agreement} at ${c.carrier}: ${fmt(c.seconds, 1)} s for ${c.calls.toLocaleString("en")} calls a side, ${c.differingLeaves} differing leaves`,
        );
      }
    } finally {
      fs.rmSync(reportFile, { force: true });
    }
  }

  // 7. The ratios side by side, each against its floor measured in this run.
  const ratio = (value: unknown, digits = 2) => (typeof value === "number" ? fmt(value, digits) : "n/a");
  const copyShare = figures.ingest_postgres_vs_copy;
  console.log("\nratios measured in this run");
  console.log(`  rating ÷ parse floor             ${ratio(figures.rate_vs_floor)}×  (aim ≤ 2×)`);
  console.log(
    `  ingest ÷ COPY (PostgreSQL)       ${typeof copyShare === "number" ? fmt(1 / copyShare, 2) : "n/a"}×  (time per CDR)`,
  );
  console.log(`  comparison, s per million CDRs   ${ratio(figures.comparison_s_per_million, 1)}`);
  console.log(`  period close → settlement, s     ${ratio(figures.close_to_settlement_s, 1)}  (aim ≤ 60)`);

  const rounded = Object.fromEntries(
    Object.entries(figures).map(([k, v]) => [
      k,
      typeof v === "number" && !Number.isInteger(v) ? Number(v.toFixed(3)) : v,
    ]),
  );
  console.log("\n" + JSON.stringify(rounded));
  return 0;
}
