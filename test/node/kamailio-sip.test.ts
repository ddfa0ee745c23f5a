/**
 * A real SIP proxy writes the CDRs: Debian's Kamailio (acc, dialog, db_postgres) between two SIPp
 * user agents on 127.0.0.1, accounting into a PostgreSQL database of its own, and the node reads
 * what Kamailio wrote straight from its tables, as a carrier would run it:
 * - `acc` through `kamailio-acc`: each answered INVITE paired with its BYE is one rated call with
 *   the held time, the busy attempt an unbilled attempt with SIP 486, the BYEs OTHER_LEG;
 * - `missed_calls` into the same node: the busy attempt again, counted once (DUPLICATE);
 * - `acc_cdrs` through `kamailio-cdrs` on a second node: the same calls and billed seconds.
 * Needs `kamailio` and `sipp` (Debian's kamailio, kamailio-postgres-modules, sip-tester; .ci/run
 * installs them) and DATABASE_URL; without them the suite skips with a notice, except where
 * ICL_REQUIRE_KAMAILIO=1 (set by .ci/run once it has installed them), where it fails.
 */
import { expect } from "chai";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Client } from "pg";
import { freePort } from "../helpers/hardhat";
import { generatedDeck } from "../../scripts/lib/generate-cdrs";
import { icl, REPO_ROOT } from "../helpers/cli";
import { primaryTarget, tempDir } from "../helpers/databases";

const URL = process.env.DATABASE_URL;
const FIXTURES = path.join(REPO_ROOT, "test", "fixtures");
const MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules/";
/** Calls of the test: A number, B number, answered or busy. */
const ANSWERED = [
  ["442079460001", "004930123456"],
  ["442079460002", "004930123457"],
  ["442079460003", "0033142685300"],
];
const BUSY = [["442079460004", "4486123456"]];
const HOLD_MS = 2_000;

/** The acc tables as Kamailio 5.6's acc-create.sql makes them, with the script's extra columns. */
const SCHEMA = `
CREATE TABLE version (table_name VARCHAR(32) NOT NULL, table_version INTEGER DEFAULT 0 NOT NULL,
  CONSTRAINT version_table_name_idx UNIQUE (table_name));
INSERT INTO version (table_name, table_version) VALUES ('acc', 5), ('acc_cdrs', 2), ('missed_calls', 4);
${["acc", "missed_calls"]
  .map(
    (table) => `CREATE TABLE ${table} (
  id SERIAL PRIMARY KEY NOT NULL, method VARCHAR(16) DEFAULT '' NOT NULL,
  from_tag VARCHAR(128) DEFAULT '' NOT NULL, to_tag VARCHAR(128) DEFAULT '' NOT NULL,
  callid VARCHAR(255) DEFAULT '' NOT NULL, sip_code VARCHAR(3) DEFAULT '' NOT NULL,
  sip_reason VARCHAR(128) DEFAULT '' NOT NULL, time TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  src_user VARCHAR(64) DEFAULT '' NOT NULL, dst_ouser VARCHAR(64) DEFAULT '' NOT NULL,
  src_ip VARCHAR(64) DEFAULT '' NOT NULL, dst_ip VARCHAR(64) DEFAULT '' NOT NULL);`,
  )
  .join("\n")}
CREATE TABLE acc_cdrs (
  id SERIAL PRIMARY KEY NOT NULL,
  start_time TIMESTAMP WITHOUT TIME ZONE DEFAULT '2000-01-01 00:00:00' NOT NULL,
  end_time TIMESTAMP WITHOUT TIME ZONE DEFAULT '2000-01-01 00:00:00' NOT NULL,
  duration REAL DEFAULT 0 NOT NULL,
  callid VARCHAR(255), src_user VARCHAR(64), dst_ouser VARCHAR(64), src_ip VARCHAR(64));`;

function have(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
}

function setUpNode(env: Record<string, string>, deck: string): void {
  expect(icl(["init", "--time-zone", "UTC"], env).code).to.equal(0);
  const added = icl(["partners", "add", "GLOBEX", "--match", "out:src_ip=^127\\.0\\.0\\.1$"], env);
  expect(added.code, added.stderr).to.equal(0);
  const imported = icl(["tariffs", "import", deck, "--partner", "GLOBEX", "--direction", "out"], env);
  expect(imported.code, imported.stderr).to.equal(0);
}

/** Runs one SIPp client scenario to the proxy; resolves when its calls are done. */
function runSipp(scenario: string, calls: string[][], proxyPort: number, dir: string): void {
  const inf = path.join(dir, `${path.basename(scenario, ".xml")}.csv`);
  fs.writeFileSync(inf, ["SEQUENTIAL", ...calls.map((call) => call.join(";"))].join("\n") + "\n");
  const result = spawnSync(
    "sipp",
    [
      `127.0.0.1:${proxyPort}`,
      ...["-sf", path.join(FIXTURES, "sipp", scenario), "-inf", inf, "-i", "127.0.0.1"],
      ...["-p", "0", "-m", String(calls.length), "-l", String(calls.length), "-r", "10"],
      ...["-d", String(HOLD_MS), "-timeout", "30", "-timeout_error", "-nostdin", "-trace_err"],
      ...["-error_file", path.join(dir, `${path.basename(scenario, ".xml")}-errors.log`)],
    ],
    { cwd: dir, encoding: "utf8", timeout: 60_000 },
  );
  const errors = path.join(dir, `${path.basename(scenario, ".xml")}-errors.log`);
  expect(
    result.status,
    `sipp ${scenario}: ${fs.existsSync(errors) ? fs.readFileSync(errors, "utf8").slice(0, 2000) : result.stderr}`,
  ).to.equal(0);
}

async function waitFor(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("Kamailio as the switch: its acc tables read by the node", function () {
  this.timeout(180_000);
  const target = primaryTarget();
  let admin: Client;
  let database: string;
  let dbUrl: string;
  let dir: string;
  let kamailio: ChildProcess | null = null;
  let uas: ChildProcess | null = null;
  let kamailioLog = "";

  before(async function () {
    const missing = [!URL && "DATABASE_URL", !have("kamailio") && "kamailio", !have("sipp") && "sipp"].filter(
      Boolean,
    );
    if (missing.length > 0) {
      const why = `needs ${missing.join(", ")} (apt-get install kamailio kamailio-postgres-modules sip-tester)`;
      if (process.env.ICL_REQUIRE_KAMAILIO === "1")
        throw new Error(`${why}; ICL_REQUIRE_KAMAILIO=1 requires them`);
      console.log(`    (skipped: ${why})`);
      return this.skip();
    }
    dir = tempDir("icl-kamailio-");
    admin = new Client({ connectionString: URL });
    await admin.connect();
    database = `icl_kamailio_${crypto.randomBytes(5).toString("hex")}`;
    await admin.query(`CREATE DATABASE ${database}`);
    const url = new globalThis.URL(URL!);
    url.pathname = `/${database}`;
    dbUrl = url.toString();
    const db = new Client({ connectionString: dbUrl });
    await db.connect();
    await db.query(SCHEMA);
    await db.end();

    const [proxyPort, uasPort] = [await freePort(), await freePort()];
    const config = fs
      .readFileSync(path.join(FIXTURES, "kamailio", "acc.cfg"), "utf8")
      .replaceAll("@PORT@", String(proxyPort))
      .replaceAll("@UAS_PORT@", String(uasPort))
      .replaceAll("@MODULES@", MODULES)
      .replaceAll("@DB_URL@", dbUrl.replace(/^postgresql:/, "postgres:"));
    fs.writeFileSync(path.join(dir, "kamailio.cfg"), config);
    uas = spawn("sipp", ["-sn", "uas", "-i", "127.0.0.1", "-p", String(uasPort), "-nostdin"], {
      cwd: dir,
      stdio: "ignore",
    });
    kamailio = spawn("kamailio", ["-f", path.join(dir, "kamailio.cfg"), "-DD", "-E", "-w", dir], {
      cwd: dir,
      env: { ...process.env, TZ: "UTC" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const stream of [kamailio.stdout!, kamailio.stderr!])
      stream.on("data", (chunk: Buffer) => (kamailioLog += chunk.toString()));
    await waitFor(
      async () => /Listening on/.test(kamailioLog) || kamailio!.exitCode !== null,
      "Kamailio to listen",
    );
    expect(kamailio.exitCode, kamailioLog.slice(-3000)).to.equal(null);
    await new Promise((resolve) => setTimeout(resolve, 500));

    runSipp("uac-answered.xml", ANSWERED, proxyPort, dir);
    runSipp("uac-busy.xml", BUSY, proxyPort, dir);
    const count = async (table: string) => {
      const db = new Client({ connectionString: dbUrl });
      await db.connect();
      try {
        return Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`)).rows[0]!.n);
      } finally {
        await db.end();
      }
    };
    await waitFor(
      async () => (await count("acc_cdrs")) === ANSWERED.length + BUSY.length,
      "Kamailio's dialog CDRs",
    ).catch(async (error: Error) => {
      const counts = `acc ${await count("acc")}, missed_calls ${await count("missed_calls")}, acc_cdrs ${await count("acc_cdrs")}`;
      throw new Error(`${error.message} (${counts}); Kamailio's log ends:\n${kamailioLog.slice(-3000)}`);
    });
  });

  after(async () => {
    kamailio?.kill("SIGTERM");
    uas?.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 500));
    kamailio?.kill("SIGKILL");
    uas?.kill("SIGKILL");
    if (admin) {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    }
    await target.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const ingest = (env: Record<string, string>, table: string, format: string) => {
    const result = icl(
      ["ingest", "--from", dbUrl, "--table", table, "--format", format, "--drain", "--json"],
      env,
    );
    expect(result.code, result.stderr).to.equal(0);
    return JSON.parse(result.stdout) as {
      records: string;
      rated: string;
      unbilled: string;
      rejected: string;
    };
  };
  const stats = (env: Record<string, string>) => {
    const result = icl(["cdrs", "stats", "--json"], env);
    expect(result.code, result.stderr).to.equal(0);
    return JSON.parse(result.stdout) as {
      rated: string;
      unbilled: string;
      rejected: Record<string, string>;
    };
  };

  it("bills each answered call of acc once, the busy attempt unbilled with 486, missed_calls' copy a DUPLICATE", async () => {
    const deck = path.join(dir, "deck.csv");
    fs.writeFileSync(deck, generatedDeck());
    const node = target.cliEnv().env;
    setUpNode(node, deck);
    const acc = ingest(node, "acc", "kamailio-acc");
    // 3 INVITE 200 + 3 BYE + 1 INVITE 486.
    expect(Number(acc.records)).to.equal(2 * ANSWERED.length + BUSY.length);
    expect(Number(acc.rated)).to.equal(ANSWERED.length);
    expect(Number(acc.unbilled)).to.equal(BUSY.length);
    const missed = ingest(node, "missed_calls", "kamailio-acc");
    expect(Number(missed.records)).to.equal(BUSY.length);
    const all = stats(node);
    expect(all.rejected).to.deep.equal({
      OTHER_LEG: String(ANSWERED.length),
      DUPLICATE: String(BUSY.length),
    });

    const db = new Client({ connectionString: dbUrl });
    await db.connect();
    const { rows } = await db.query<{ callid: string; seconds: number }>(
      `SELECT i.callid, EXTRACT(EPOCH FROM b.time - i.time)::int AS seconds FROM acc i JOIN acc b
         ON b.callid = i.callid AND b.method = 'BYE' WHERE i.method = 'INVITE' AND i.sip_code = '200'`,
    );
    await db.end();
    expect(rows).to.have.length(ANSWERED.length);
    for (const row of rows) expect(row.seconds).to.be.within(1, 3); // acc's times are whole seconds
  });

  it("reads acc_cdrs through kamailio-cdrs on another node: the same calls and outcomes", () => {
    const deck = path.join(dir, "deck.csv");
    const node = target.cliEnv().env;
    setUpNode(node, deck);
    const cdrs = ingest(node, "acc_cdrs", "kamailio-cdrs");
    expect(Number(cdrs.records)).to.equal(ANSWERED.length + BUSY.length);
    expect(Number(cdrs.rated)).to.equal(ANSWERED.length);
    expect(Number(cdrs.unbilled)).to.equal(BUSY.length);
    expect(Number(cdrs.rejected)).to.equal(0);
  });
});
