/**
 * A PostgreSQL table a switch writes, read by `icl ingest --from postgres://… --table … --drain`:
 * Kamailio's acc table (acc-create.sql with the db_extra columns) filled in two steps, with calls
 * still up between them; a row committed after a higher id; the errors a person meets. The switch's
 * database is DATABASE_URL (a schema of its own); without DATABASE_URL the suite skips.
 */
import { expect } from "chai";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Client } from "pg";
import { generatedDeck } from "../../scripts/lib/generate-cdrs";
import { icl, iclProcess, REPO_ROOT } from "../helpers/cli";
import { primaryTarget, tempDir } from "../helpers/databases";

const URL = process.env.DATABASE_URL;
const FIXTURE = path.join(REPO_ROOT, "node", "samples", "kamailio-acc.csv");

/** Kamailio 5.6's acc table (acc-create.sql) with the extras the fixture has. */
const ACC_TABLE = `(
  id SERIAL PRIMARY KEY NOT NULL,
  method VARCHAR(16) DEFAULT '' NOT NULL,
  from_tag VARCHAR(128) DEFAULT '' NOT NULL,
  to_tag VARCHAR(128) DEFAULT '' NOT NULL,
  callid VARCHAR(255) DEFAULT '' NOT NULL,
  sip_code VARCHAR(3) DEFAULT '' NOT NULL,
  sip_reason VARCHAR(128) DEFAULT '' NOT NULL,
  time TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  src_user VARCHAR(64) DEFAULT '' NOT NULL,
  dst_ouser VARCHAR(64) DEFAULT '' NOT NULL,
  src_ip VARCHAR(64) DEFAULT '' NOT NULL,
  dst_ip VARCHAR(64) DEFAULT '' NOT NULL
)`;

/** The fixture's acc rows (its last line is a missed_calls row, which another table would hold). */
function fixtureRows(): string[][] {
  const [, ...lines] = fs.readFileSync(FIXTURE, "utf8").trimEnd().split("\n");
  return lines.slice(0, -1).map((line) => line.split(","));
}

function setUpNode(env: Record<string, string>, deck: string): void {
  expect(icl(["init", "--time-zone", "Europe/London"], env).code).to.equal(0);
  const partners: [string, string][] = [
    ["GLOBEX", "out:trunk=^192\\.0\\.2\\."],
    ["INITECH", "in:trunk=^198\\.51\\.100\\.7$"],
  ];
  for (const [partner, match] of partners) {
    expect(icl(["partners", "add", partner, "--match", match], env).code).to.equal(0);
    for (const direction of ["in", "out"]) {
      const result = icl(["tariffs", "import", deck, "--partner", partner, "--direction", direction], env);
      expect(result.code, result.stderr).to.equal(0);
    }
  }
}

function stats(env: Record<string, string>): Record<string, unknown> {
  const result = icl(["cdrs", "stats", "--json"], env);
  expect(result.code, result.stderr).to.equal(0);
  const { files: _files, ...rest } = JSON.parse(result.stdout) as Record<string, unknown>;
  return rest;
}

describe("icl ingest --from postgres:// (a table a switch writes)", function () {
  this.timeout(120_000);
  let client: Client;
  let schema: string;
  let dir: string;
  let deck: string;
  const target = primaryTarget();

  before(async function () {
    if (!URL) {
      console.log("    (skipped: DATABASE_URL is not set; the switch's table needs PostgreSQL)");
      return this.skip();
    }
    client = new Client({ connectionString: URL });
    await client.connect();
    schema = `kam_test_${crypto.randomBytes(5).toString("hex")}`;
    await client.query(`CREATE SCHEMA ${schema}`);
    dir = tempDir();
    deck = path.join(dir, "deck.csv");
    fs.writeFileSync(deck, generatedDeck());
  });
  after(async () => {
    if (client) {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
    await target.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function insert(table: string, rows: string[][]): Promise<void> {
    for (const row of rows) {
      await client.query(
        `INSERT INTO ${schema}.${table} (id, method, from_tag, to_tag, callid, sip_code, sip_reason, time, src_user, dst_ouser, src_ip, dst_ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        row,
      );
    }
  }

  const ingestArgs = (table: string) => [
    "ingest",
    "--from",
    URL!,
    "--table",
    `${schema}.${table}`,
    "--format",
    "kamailio-acc",
    "--drain",
    "--json",
  ];

  it("reads new rows by id as the switch writes them, holds calls still up, and ends with the counts of the same rows as a file", async () => {
    await client.query(`CREATE TABLE ${schema}.acc ${ACC_TABLE}`);
    const rows = fixtureRows();
    const node = target.cliEnv().env;
    setUpNode(node, deck);

    // First the switch has written ids 1–3: two calls answered (held for their BYE) and a busy attempt.
    await insert("acc", rows.slice(0, 3));
    const first = icl(ingestArgs("acc"), node);
    expect(first.code, first.stderr).to.equal(0);
    const one = JSON.parse(first.stdout) as { status: string; run: { records: string }; records: string };
    expect(one.status).to.equal("live");
    expect(Number(one.records)).to.equal(1);

    // Then the rest: the BYEs, a re-INVITE, a message, a REGISTER, more attempts.
    await insert("acc", rows.slice(3));
    const second = icl(ingestArgs("acc"), node);
    expect(second.code, second.stderr).to.equal(0);
    const two = JSON.parse(second.stdout) as {
      records: string;
      rated: string;
      unbilled: string;
      rejected: string;
    };
    // 17 rows; the answered INVITE of id 14 still waits for its BYE (a table is read as it grows).
    expect(Number(two.records)).to.equal(16);
    expect(Number(two.rated) + Number(two.unbilled) + Number(two.rejected)).to.equal(16);

    // The same rows as a file: the same calls and counts, except that the file's end gives up on id 14.
    const fileNode = target.cliEnv().env;
    setUpNode(fileNode, deck);
    const csv = path.join(dir, "acc.csv");
    const header = fs.readFileSync(FIXTURE, "utf8").split("\n")[0]!;
    fs.writeFileSync(csv, [header, ...rows.map((row) => row.join(","))].join("\n") + "\n");
    const fileRun = icl(["ingest", "--format", "kamailio-acc", csv], fileNode);
    expect(fileRun.code, fileRun.stderr).to.equal(0);
    type Stats = { records: string; rejected: Record<string, string>; rejected_total: string };
    const fromFile = stats(fileNode) as Stats;
    const fromTable = stats(node) as Stats;
    expect(Number(fromFile.records)).to.equal(17);
    expect(fromTable.rejected).to.deep.equal({
      ...fromFile.rejected,
      INVALID: String(Number(fromFile.rejected.INVALID) - 1),
    });
    const { records: _a, rejected: _b, rejected_total: _c, ...tableRest } = fromTable;
    const { records: _d, rejected: _e, rejected_total: _f, ...fileRest } = fromFile;
    expect(tableRest).to.deep.equal(fileRest);

    // Its BYE comes: the call is billed, and nothing before it is counted twice.
    await insert("acc", [
      [
        "18",
        "BYE",
        "as1f0a9c14",
        "b7e0c2d914",
        "8f2c1a90-0014@10.0.0.5",
        "200",
        "OK",
        "2026-10-02 11:09:00",
        "442079460014",
        "004930123414",
        "10.0.0.5",
        "192.0.2.10",
      ],
    ]);
    const third = icl(ingestArgs("acc"), node);
    expect(third.code, third.stderr).to.equal(0);
    expect(Number((JSON.parse(third.stdout) as { records: string }).records)).to.equal(18);
    const list = icl(["files", "list", "--json"], node);
    expect(list.stdout).to.contain(`table ${schema}.acc`);
  });

  it("does not skip a row committed after a higher id (a gap in the ids is waited for)", async () => {
    await client.query(`CREATE TABLE ${schema}.late ${ACC_TABLE}`);
    const [a, b, c] = fixtureRows().filter((row) => row[1] === "INVITE" && Number(row[5]) >= 300);
    const node = target.cliEnv().env;
    setUpNode(node, deck);
    await insert("late", [["1", ...a!.slice(1)]]);
    // id 2 is inserted in a transaction still open when id 3 is committed and the read begins.
    const slow = new Client({ connectionString: URL });
    await slow.connect();
    try {
      await slow.query("BEGIN");
      await slow.query(
        `INSERT INTO ${schema}.late (id, method, from_tag, to_tag, callid, sip_code, sip_reason, time, src_user, dst_ouser, src_ip, dst_ip)
         VALUES (2, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        b!.slice(1),
      );
      await insert("late", [["3", ...c!.slice(1)]]);
      const child = iclProcess(ingestArgs("late"), node);
      let stdout = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
      await new Promise((resolve) => setTimeout(resolve, 700));
      await slow.query("COMMIT");
      expect(await exited).to.equal(0);
      expect(Number((JSON.parse(stdout) as { records: string }).records)).to.equal(3);
    } finally {
      await slow.end();
    }
  });

  it("names a missing table (65) and an unreachable server (69)", () => {
    const node = target.cliEnv().env;
    setUpNode(node, deck);
    const missing = icl(ingestArgs("no_such_table"), node);
    expect(missing.code).to.equal(65);
    expect(missing.stderr).to.match(/no_such_table does not exist/);
    const args = ingestArgs("acc");
    args[2] = "postgres://postgres@127.0.0.1:1/test";
    const down = icl(args, node);
    expect(down.code, down.stderr).to.equal(69);
    expect(down.stderr).to.match(/PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/test/);
    const noTable = icl(["ingest", "--from", URL!, "--format", "kamailio-acc", "--drain"], node);
    expect(noTable.code).to.equal(65);
    expect(noTable.stderr).to.match(/needs --table/);
  });
});
