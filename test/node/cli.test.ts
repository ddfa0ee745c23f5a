import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { runCli } from "../../node/src/cli/main";
import { DECK_COLUMNS } from "../../node/src/rating/tariff-deck";
import { icl, REPO_ROOT } from "../helpers/cli";
import { databaseTargets, tempDir } from "../helpers/databases";
import { FORMAT_IDS } from "../../node/src/mediation/formats/registry";

const SAMPLES = path.join(REPO_ROOT, "node", "samples");
const DECK = path.join(SAMPLES, "tariff-globex.csv");

describe("icl rate (dry run)", function () {
  this.timeout(60_000);

  it("prints exactly one JSON object with hand-checked figures for the bundled sample", () => {
    const result = icl(["rate", "--tariff", DECK, "--json", path.join(SAMPLES, "cdrs-globex.csv")]);
    expect(result.stderr).to.equal("");
    expect(result.code).to.equal(0);
    // Every amount below is worked out by hand in docs/RATING.md (the sample walk-through).
    expect(JSON.parse(result.stdout)).to.deep.equal({
      records: 18,
      rated: 12,
      unbilled: 2,
      rejected: { INVALID: 2, DUPLICATE: 1, NO_RATE: 1 },
      billed_seconds: 1881,
      amount: "0.602950",
      by_destination: [
        { destination: "France - Mobile", records: 1, billed_seconds: 204, amount: "0.153000" },
        { destination: "Germany - Fixed", records: 2, billed_seconds: 1200, amount: "0.210000" },
        { destination: "Germany - Mobile", records: 1, billed_seconds: 45, amount: "0.042250" },
        { destination: "United Kingdom - Data", records: 1, billed_seconds: 0, amount: "0.010000" },
        { destination: "United Kingdom - London", records: 1, billed_seconds: 180, amount: "0.022500" },
        { destination: "United Kingdom - Mobile", records: 4, billed_seconds: 234, amount: "0.118700" },
        { destination: "United Kingdom - SMS", records: 1, billed_seconds: 0, amount: "0.045000" },
        { destination: "United States", records: 1, billed_seconds: 18, amount: "0.001500" },
      ],
    });
  });

  it("rates Asterisk CDRs in the switch's zone with match rules", () => {
    const result = icl([
      "rate",
      "--tariff",
      DECK,
      "--format",
      "asterisk",
      "--time-zone",
      "Europe/London",
      "--country-code",
      "44",
      "--match",
      "GLOBEX:out:trunk=^globex$",
      "--json",
      path.join(SAMPLES, "Master.csv"),
    ]);
    expect(result.code, result.stderr).to.equal(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).to.deep.include({
      records: 5,
      rated: 3,
      unbilled: 1,
      rejected: { UNKNOWN_PARTNER: 1 },
      amount: "0.161100",
    });
  });

  it("rates FreeSWITCH CDRs (15 and 13 columns) in the switch's zone", () => {
    const result = icl([
      "rate",
      "--tariff",
      DECK,
      "--format",
      "freeswitch",
      "--time-zone",
      "Europe/Berlin",
      "--match",
      "GLOBEX:out:accountcode=^globex$",
      "--json",
      path.join(SAMPLES, "freeswitch.csv"),
    ]);
    expect(result.code, result.stderr).to.equal(0);
    // London 125 s → 180 s × 0.0075/60; Berlin on a Saturday is off-peak: 300 s × 0.009/60; France mobile 60 s × 0.045/60.
    expect(JSON.parse(result.stdout)).to.deep.include({
      records: 5,
      rated: 3,
      unbilled: 2,
      rejected: {},
      amount: "0.112500",
    });
  });

  it("prints all three sample formats in the demo", () => {
    const demo = icl(["demo"]);
    expect(demo.code, demo.stderr).to.equal(0);
    expect(demo.stdout).to.contain("cdrs-globex.csv: 18 records = 12 rated + 2 unbilled + 4 rejected");
    expect(demo.stdout).to.contain(
      "Master.csv (Asterisk, Europe/London): 5 records = 3 rated + 1 unbilled + 1 rejected",
    );
    expect(demo.stdout).to.contain(
      "freeswitch.csv (FreeSWITCH, Europe/Berlin): 5 records = 3 rated + 2 unbilled + 0 rejected",
    );
  });

  it("names the deck file, line and field of a bad tariff row and exits 65", () => {
    const dir = tempDir();
    const deck = path.join(dir, "bad-deck.csv");
    fs.writeFileSync(deck, "prefix,destination,rate\n44,UK,0.01\n49,DE,zero\n");
    const result = icl(["rate", "--tariff", deck, path.join(SAMPLES, "cdrs-globex.csv")]);
    expect(result.code).to.equal(65);
    expect(result.stderr).to.contain(`${deck}, line 3, field rate: 'zero' is not a non-negative decimal`);
    fs.rmSync(dir, { recursive: true });
  });

  it("refuses unknown flags and formats with usage (exit 64), and a missing file with its name (exit 65)", () => {
    expect(icl(["rate", "--tariff", DECK, "--bogus", "x.csv"]).code).to.equal(64);
    const format = icl(["rate", "--tariff", DECK, "--format", "csv", "x.csv"]);
    expect(format.code).to.equal(64);
    expect(format.stderr).to.contain(`--format must be one of ${FORMAT_IDS.join(", ")}`);
    const missing = icl(["rate", "--tariff", DECK, "/nonexistent/cdrs.csv"]);
    expect(missing.code).to.equal(65);
    expect(missing.stderr).to.contain("/nonexistent/cdrs.csv: no such file");
  });

  it("has --help for every command", async () => {
    const overview = icl(["--help"]);
    expect(overview.code).to.equal(0);
    const commands = [...overview.stdout.matchAll(/^ {2}([a-z]+(?: [a-z-]+)?)(?= )/gm)].map((m) => m[1]!);
    expect(commands).to.include.members([
      "rate",
      "ingest",
      "partners add",
      "cdrs stats",
      "rejects list",
      "tariffs import",
      "agreements set-peer",
      "period report",
      "run",
    ]);
    // The binary answered above; each command's help is read in-process (one process per command
    // would cost a second each).
    for (const command of commands) {
      let stdout = "";
      const io = {
        stdout: new Writable({ write: (chunk, _encoding, done) => ((stdout += String(chunk)), done()) }),
        stderr: new Writable({ write: (_chunk, _encoding, done) => done() }),
        env: {},
      };
      expect(await runCli([...command.split(" "), "--help"], io), command).to.equal(0);
      expect(stdout).to.match(new RegExp(`^Usage: icl ${command}`));
    }
  });

  it("lists every deck column with its meaning in tariffs import and check --help, and names docs/RATING.md", async () => {
    for (const command of ["import", "check"]) {
      let stdout = "";
      const io = {
        stdout: new Writable({ write: (chunk, _encoding, done) => ((stdout += String(chunk)), done()) }),
        stderr: new Writable({ write: (_chunk, _encoding, done) => done() }),
        env: {},
      };
      expect(await runCli(["tariffs", command, "--help"], io)).to.equal(0);
      expect(stdout).to.contain("docs/RATING.md");
      // One line per column: the name, then its meaning.
      for (const column of DECK_COLUMNS) {
        expect(stdout, `${command}: ${column.name}`).to.match(new RegExp(`^ +${column.name} +\\S`, "m"));
      }
      expect(stdout).to.match(/^ +interval_start +voice: second of the call from which/m);
    }
  });
});

for (const target of databaseTargets()) {
  describe(`icl node commands on ${target.name}`, function () {
    this.timeout(120_000);
    after(() => target.cleanup());

    it("init, partners, tariffs, ingest (twice), stats and rejects", () => {
      const { env } = target.cliEnv();
      expect(icl(["init", "--country-code", "44"], env).code).to.equal(0);
      expect(
        icl(["partners", "add", "GLOBEX", "--name", "Globex Telecom", "--match", "out:trunk=^globex$"], env)
          .code,
      ).to.equal(0);
      const dup = icl(["partners", "add", "GLOBEX"], env);
      expect(dup.code).to.equal(1);
      expect(dup.stderr).to.contain("partner GLOBEX already exists");
      const imported = icl(
        ["tariffs", "import", DECK, "--partner", "GLOBEX", "--direction", "out", "--currency", "EUR"],
        env,
      );
      expect(imported.code, imported.stderr).to.equal(0);
      const unknownPartner = icl(["tariffs", "import", DECK, "--partner", "NOPE", "--direction", "out"], env);
      expect(unknownPartner.code).to.equal(66);

      const cdrs = path.join(SAMPLES, "cdrs-globex.csv");
      const first = icl(["ingest", "--format", "icl-csv", "--json", cdrs], env);
      expect(first.code, first.stderr).to.equal(0);
      expect(JSON.parse(first.stdout).files[0]).to.deep.include({
        alreadyIngested: false,
        records: "18",
        rated: "12",
        unbilled: "2",
        rejected: "4",
      });
      const second = icl(["ingest", "--format", "icl-csv", "--json", cdrs], env);
      expect(JSON.parse(second.stdout).files[0]).to.deep.include({ alreadyIngested: true, records: "18" });

      const stats = JSON.parse(icl(["cdrs", "stats", "--json"], env).stdout);
      expect(stats).to.deep.include({
        files: 1,
        records: "18",
        rated: "12",
        unbilled: "2",
        rejected_total: "4",
      });
      expect(stats.rejected).to.deep.equal({ DUPLICATE: "1", INVALID: "2", NO_RATE: "1" });
      const uk = stats.by_partner.find(
        (r: { destination: string }) => r.destination === "United Kingdom - Mobile",
      );
      expect(uk).to.deep.equal({
        partner: "GLOBEX",
        direction: "out",
        destination: "United Kingdom - Mobile",
        records: "4",
        billed: "234",
        amount: "0.118700",
      });

      const rejects = JSON.parse(
        icl(["rejects", "list", "--json", "--reason", "invalid"], env).stdout,
      ).rejects;
      expect(rejects.map((r: { line: string; field: string }) => [r.line, r.field])).to.deep.equal([
        ["17", "direction"],
        ["18", "duration"],
      ]);
      expect(rejects[0].raw).to.contain("ACME-0015,GLOBEX,sideways");
      const table = icl(["cdrs", "stats"], env);
      expect(table.stdout).to.contain("18 records = 12 rated + 2 unbilled + 4 rejected");
    });

    it("records an agreement and closes a period into a stored summary with the hand-checked totals", () => {
      const { env, dataDir } = target.cliEnv();
      expect(icl(["init"], env).code).to.equal(0);
      expect(icl(["partners", "add", "GLOBEX"], env).code).to.equal(0);
      expect(
        icl(["tariffs", "import", DECK, "--partner", "GLOBEX", "--direction", "out"], env).code,
      ).to.equal(0);
      expect(
        icl(["ingest", "--format", "icl-csv", path.join(SAMPLES, "cdrs-globex.csv")], env).code,
      ).to.equal(0);
      const secretFile = path.join(dataDir, "acme-globex.secret");
      fs.writeFileSync(secretFile, "ab".repeat(32) + "\n");
      const id = "0x" + "1".repeat(64);
      const add = icl(
        [
          "agreements",
          "add",
          "ACME-GLOBEX",
          "--id",
          id,
          "--partner",
          "GLOBEX",
          "--side",
          "A",
          "--secret-file",
          secretFile,
        ],
        env,
      );
      expect(add.code, add.stderr).to.equal(0);
      expect(add.stdout).to.not.contain("abab");
      const listed = icl(["agreements", "list", "--json"], env).stdout;
      expect(JSON.parse(listed).agreements[0]).to.deep.include({
        name: "ACME-GLOBEX",
        agreementId: id,
        partnerId: "GLOBEX",
        side: "A",
      });
      expect(listed).to.not.contain("abab");

      const close = () =>
        icl(["period", "close", "--agreement", "ACME-GLOBEX", "--period", "2026-10", "--json"], env);
      const first = close();
      expect(first.code, first.stderr).to.equal(0);
      const summary = JSON.parse(first.stdout);
      // The sample's 12 rated CDRs: out to GLOBEX = A→B for party A, in 10 (direction, service, destination, day) leaves.
      expect(summary).to.deep.include({
        period: 202610,
        side: "A",
        records: "12",
        leaves: 10,
        amountAB: "0.602950",
        amountBA: "0.000000",
      });
      expect(summary.root).to.match(/^0x[0-9a-f]{64}$/);
      expect(JSON.parse(close().stdout).root, "a rebuild of the same data gives the same root").to.equal(
        summary.root,
      );
      expect(
        icl(["period", "close", "--agreement", "ACME-GLOBEX", "--period", "2026-11", "--json"], env).stdout,
      ).to.contain('"records": "0"');
      expect(icl(["period", "close", "--agreement", "NOPE", "--period", "2026-10"], env).code).to.equal(66);
      expect(
        icl(["period", "close", "--agreement", "ACME-GLOBEX", "--period", "2026-13"], env).code,
      ).to.equal(64);
    });

    it("ingests Asterisk CDRs with the partners' match rules and the configured zone", () => {
      const { env } = target.cliEnv();
      const init = icl(["init", "--country-code", "44", "--time-zone", "Europe/London"], env);
      expect(init.code, init.stderr).to.equal(0);
      // init again keeps what it does not manage (here the gateway section) and the keys it was given.
      const configFile = path.join(env.ICL_DATA_DIR!, "config.json");
      const config = JSON.parse(fs.readFileSync(configFile, "utf8"));
      fs.writeFileSync(configFile, JSON.stringify({ ...config, gateway: { sessionHours: 4 } }));
      expect(icl(["init", "--national-prefix", "0"], env).code).to.equal(0);
      const again = JSON.parse(fs.readFileSync(configFile, "utf8"));
      expect(again.gateway).to.deep.equal({ sessionHours: 4 });
      expect(again.mediation.timeZone).to.equal("Europe/London");
      expect(again.numbering).to.deep.include({ countryCode: "44", nationalPrefix: "0" });
      expect(icl(["partners", "add", "GLOBEX", "--match", "out:trunk=^globex$"], env).code).to.equal(0);
      expect(
        icl(["tariffs", "import", DECK, "--partner", "GLOBEX", "--direction", "out"], env).code,
      ).to.equal(0);
      const ingest = icl(["ingest", "--format", "asterisk", "--json", path.join(SAMPLES, "Master.csv")], env);
      expect(ingest.code, ingest.stderr).to.equal(0);
      expect(JSON.parse(ingest.stdout).files[0]).to.deep.include({
        records: "5",
        rated: "3",
        unbilled: "1",
        rejected: "1",
      });
      const stats = JSON.parse(icl(["cdrs", "stats", "--json"], env).stdout);
      expect(stats.rejected).to.deep.equal({ UNKNOWN_PARTNER: "1" });
      // 10:00 BST on 1 October is 09:00 UTC: the old UK mobile rate, 31 s on 30/6 = 36 s.
      const mobile = stats.by_partner.find(
        (r: { destination: string }) => r.destination === "United Kingdom - Mobile",
      );
      expect(mobile).to.deep.include({ records: "1", billed: "36", amount: "0.018600" });
    });
  });
}
