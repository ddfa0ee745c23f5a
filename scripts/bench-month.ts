/**
 * `npm run bench:month`: a large carrier's month on PostgreSQL, measured.
 *
 *   npm run bench:month [-- --cdrs N] [-- --loss SHARE] [-- --keep]
 *
 * GLOBEX's switch (Asterisk) writes N CDRs of January 2030 for its agreement with INITECH (default
 * 10 000 000, 5% of them unanswered attempts); INITECH's switch (FreeSWITCH) lost `--loss` of them
 * (default 0.01). Both nodes run in this process on a Hardhat chain with the demo's consortium (its
 * tolerance cut to 0.1% so the pair is Mismatched), each on its own schema of PostgreSQL at
 * DATABASE_URL (default 127.0.0.1:5432/test). The files are written chunk by chunk (no list of the
 * month's calls is held), then measured one after the other: each node's ingest, each node's period
 * close (the summary and its commitment), and the reveals and comparisons of both nodes' runners
 * until both hold their discrepancy report. The process's resident set is sampled through every
 * phase: flat means it does not grow with the month. Prints a table, then one JSON line.
 * The schemas are dropped at the end unless `--keep`.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ingestSettings } from "../node/src/config/config";
import { listCdrPartitions } from "../node/src/db/cdr-partitions";
import { dropNodeSchemas, openNodeDatabase } from "../node/src/node";
import { ingestFile } from "../node/src/ingest/ingest-file";
import { periodState } from "../node/src/reconciliation/reveal";
import { scriptConsortium } from "./lib/consortium";
import { SWITCHES, closeNode, demoConfig, setUpCarrier, startNode, type DemoNode } from "./lib/demo-carriers";
import { PERIOD, startHardhatNode } from "./lib/hardhat-node";
import { chooseLost, generateCalls, writeSideCdrs } from "./lib/traffic";

const CHUNK = 200_000;
const MB = 1024 * 1024;

/** The largest resident set seen while `work` runs (sampled every 200 ms), with its result. */
async function sampled<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number; peakRssMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200);
  const started = performance.now();
  try {
    const value = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, seconds: (performance.now() - started) / 1000, peakRssMb: peak / MB };
  } finally {
    clearInterval(timer);
  }
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      cdrs: { type: "string", default: "10000000" },
      loss: { type: "string", default: "0.01" },
      keep: { type: "boolean", default: false },
    },
  });
  const total = Number(values.cdrs);
  const loss = Number(values.loss);
  if (!Number.isInteger(total) || total < 1000) throw new Error("--cdrs must be a whole number ≥ 1000");
  if (!(loss > 0 && loss < 1)) throw new Error("--loss must be a share between 0 and 1");
  const url = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "icl-month-"));
  const schemas: string[] = [];
  const nodes: DemoNode[] = [];
  const hardhat = await startHardhatNode();
  const figures: Record<string, number | string> = {
    cdrs: total,
    loss,
    node: process.version,
    cpus: os.cpus().length,
  };
  try {
    const c = await scriptConsortium(hardhat.provider, { toleranceBps: 10, toleranceAbs: 1_000n });
    const agreement = c.agreements["GLOBEX-INITECH"];
    const secrets = new Map(Object.keys(c.agreements).map((name) => [name, crypto.randomBytes(32)]));
    for (const carrier of [agreement.a, agreement.b]) {
      const dir = path.join(work, carrier.name);
      fs.mkdirSync(dir);
      const schema = `icl_month_${process.pid}_${carrier.name.toLowerCase()}`;
      schemas.push(schema);
      const db = await openNodeDatabase({ url, schema, dataDir: dir });
      await setUpCarrier(db, c, carrier, secrets);
      nodes.push(await startNode(c, carrier, hardhat.url, db, dir));
    }
    const [globex, initech] = nodes as [DemoNode, DemoNode];
    await globex.node.agreements.setPeer(agreement.name, initech.gateway.url);
    await initech.node.agreements.setPeer(agreement.name, globex.gateway.url);
    console.log(
      `Interconnect Ledger month benchmark: ${total.toLocaleString("en")} calls of GLOBEX–INITECH, INITECH lost ${loss * 100}%, PostgreSQL, Node ${process.version}, ${os.cpus().length} CPUs\n`,
    );

    // The two switches' files, chunk by chunk.
    const files = new Map<DemoNode, { file: string; rows: number }>();
    for (const n of nodes) files.set(n, { file: path.join(n.dir, "Master-2030-01.csv"), rows: 0 });
    const written = await sampled(async () => {
      for (let first = 0, chunk = 0; first < total; first += CHUNK, chunk++) {
        const calls = generateCalls(PERIOD, Math.min(CHUNK, total - first), 1000 + chunk, {
          unanswered: 0.05,
          firstIndex: first,
        });
        const lost = chooseLost(calls, loss, 2000 + chunk);
        for (const [n, side] of [
          [globex, "A"],
          [initech, "B"],
        ] as const) {
          const entry = files.get(n)!;
          const partner = side === "A" ? agreement.b.name : agreement.a.name;
          entry.rows += writeSideCdrs(entry.file, calls, {
            side,
            partner,
            lost: side === "B" ? lost : undefined,
            batch: agreement.name,
            profile: { ...SWITCHES[n.carrier.name]!, trunk: partner.toLowerCase() },
            append: first > 0,
          });
        }
      }
    });
    const bytes = fs.statSync(files.get(globex)!.file).size;
    console.log(
      `files           ${fmt(written.seconds, 0)} s: GLOBEX ${files.get(globex)!.rows.toLocaleString("en")} CDRs (${fmt(bytes / 1e6, 0)} MB), INITECH ${files.get(initech)!.rows.toLocaleString("en")}`,
    );

    for (const n of nodes) {
      const { file, rows } = files.get(n)!;
      const key = n.carrier.name.toLowerCase();
      const ingest = await sampled(() =>
        ingestFile(n.db, file, SWITCHES[n.carrier.name]!.format, ingestSettings(demoConfig(n.carrier.name))),
      );
      const f = ingest.value.file;
      if (f.records !== BigInt(rows)) throw new Error(`${n.carrier.name} read ${f.records} CDRs of ${rows}`);
      if (f.rated + f.unbilled + f.rejected !== f.records)
        throw new Error(`${n.carrier.name}: the counts do not add up`);
      Object.assign(figures, {
        [`${key}_cdrs`]: rows,
        [`${key}_ingest_s`]: ingest.seconds,
        [`${key}_ingest_cdrs_per_s`]: Math.round(rows / ingest.seconds),
        [`${key}_ingest_rss_mb`]: ingest.peakRssMb,
      });
      const months = await listCdrPartitions(n.db);
      console.log(
        `ingest ${n.carrier.name.padEnd(8)} ${fmt(ingest.seconds, 0)} s  ${Math.round(rows / ingest.seconds).toLocaleString("en")} CDR/s: ` +
          `${f.rated} rated + ${f.unbilled} unbilled + ${f.rejected} rejected = ${f.records}; partitions ${months.map((m) => `${m.period} (${m.records})`).join(", ")}; peak RSS ${fmt(ingest.peakRssMb, 0)} MB`,
      );
      fs.rmSync(file, { force: true });
    }

    for (const n of nodes) {
      const key = n.carrier.name.toLowerCase();
      const close = await sampled(() => n.node.periods.close(agreement.name, PERIOD, "commit", n.chain));
      Object.assign(figures, { [`${key}_close_s`]: close.seconds, [`${key}_close_rss_mb`]: close.peakRssMb });
      console.log(
        `close ${n.carrier.name.padEnd(9)} ${fmt(close.seconds, 1)} s: summary of ${close.value.agreement.name} built and committed; peak RSS ${fmt(close.peakRssMb, 0)} MB`,
      );
    }

    const compared = await sampled(async () => {
      const seconds = new Map<string, number>();
      for (let round = 0; seconds.size < 2; round++) {
        if (round === 10) throw new Error("the nodes did not compare in 10 passes");
        for (const n of nodes) {
          const pass = await n.runner.pass();
          for (const x of pass.compared) {
            seconds.set(n.carrier.name, x.stats.seconds);
            console.log(
              `compare ${n.carrier.name.padEnd(7)} ${fmt(x.stats.seconds, 1)} s: ${x.report.leaves.length} differing leaves, ${x.report.counts.missing_cdrs} missing CDRs, ${x.report.counts.rate_difference} rate differences; ${x.stats.traffic.requests} requests, ${fmt(x.stats.traffic.bytesReceived / 1e6, 1)} MB received`,
            );
          }
          for (const d of pass.deferred) console.log(`  ${n.carrier.name} could not ${d.step}: ${d.error}`);
        }
      }
      return seconds;
    });
    const state = await periodState(globex.chain, agreement.agreementId, PERIOD);
    for (const [name, seconds] of compared.value) {
      figures[`${name.toLowerCase()}_compare_s`] = seconds;
      figures[`${name.toLowerCase()}_compare_s_per_million`] = seconds / (total / 1e6);
    }
    Object.assign(figures, {
      reveal_and_compare_s: compared.seconds,
      compare_rss_mb: compared.peakRssMb,
      state,
    });
    console.log(
      `reveals and comparisons ${fmt(compared.seconds, 0)} s in all (the period is ${state}); peak RSS ${fmt(compared.peakRssMb, 0)} MB`,
    );
    console.log(
      "\n" +
        JSON.stringify(figures, (_k, v: unknown) =>
          typeof v === "number" && !Number.isInteger(v) ? Number(v.toFixed(3)) : v,
        ),
    );
    return 0;
  } finally {
    for (const n of nodes) await closeNode(n).catch(() => undefined);
    await hardhat.stop();
    if (!values.keep) await dropNodeSchemas(url, schemas);
    fs.rmSync(work, { recursive: true, force: true });
  }
}
