/**
 * `icl ingest` and its neighbours as an operator runs them: files that are not what the node reads,
 * directories, an ingest killed half way and the period close it holds back, `icl files`, and the
 * small things (`icl --version`, a zone that does not exist).
 */
import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { generatedDeck, writeIclCsv } from "../../scripts/lib/generate-cdrs";
import { icl, iclProcess } from "../helpers/cli";
import { primaryTarget, tempDir } from "../helpers/databases";

const target = primaryTarget();

describe(`icl ingest from the command line on ${target.name}`, function () {
  this.timeout(240_000);
  const dir = tempDir();
  const deck = path.join(dir, "deck.csv");
  const good = path.join(dir, "good.csv");
  let env: Record<string, string>;

  /** A node with the generator's two partners and the deck both ways. */
  function newNode(): Record<string, string> {
    const nodeEnv = target.cliEnv().env;
    expect(icl(["init"], nodeEnv).code).to.equal(0);
    for (const partner of ["GLOBEX", "INITECH"]) {
      expect(icl(["partners", "add", partner], nodeEnv).code).to.equal(0);
      for (const direction of ["in", "out"]) {
        const imported = icl(
          ["tariffs", "import", deck, "--partner", partner, "--direction", direction],
          nodeEnv,
        );
        expect(imported.code, imported.stderr).to.equal(0);
      }
    }
    return nodeEnv;
  }

  before(() => {
    fs.writeFileSync(deck, generatedDeck());
    writeIclCsv(good, 40, { seed: 3 });
    env = newNode();
  });
  after(async () => {
    await target.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("exits 65 when every row of a file was rejected, and says what the file looks like", () => {
    const text = fs.readFileSync(good, "utf8");
    const cases: [string, Buffer, string][] = [
      [
        "semicolons.csv",
        Buffer.from(text.replaceAll(",", ";")),
        "fields separated by semicolons; it looks like icl-csv",
      ],
      [
        "utf16.csv",
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]),
        "UTF-16LE text",
      ],
      [
        "switch.bin",
        Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7919) % 256)),
        "binary, not text",
      ],
    ];
    for (const [name, bytes, looks] of cases) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, bytes);
      const result = icl(["ingest", "--format", "icl-csv", file], env);
      expect(result.code, name).to.equal(65);
      expect(result.stderr, name).to.contain(`${file}: every row was rejected`);
      expect(result.stderr, name).to.contain(looks);
    }
    // An Asterisk file ingested as icl-csv: the message names the format it looks like.
    const asterisk = path.join(dir, "Master.csv");
    fs.copyFileSync(path.join(__dirname, "..", "..", "node", "samples", "Master-asterisk12.csv"), asterisk);
    const wrong = icl(["ingest", "--format", "icl-csv", asterisk], env);
    expect(wrong.code).to.equal(65);
    expect(wrong.stderr).to.contain("it looks like asterisk");
  });

  it("refuses a directory without --recursive, naming it, and walks it with --recursive", () => {
    const tree = path.join(dir, "switch");
    fs.mkdirSync(path.join(tree, "2026-10"), { recursive: true });
    writeIclCsv(path.join(tree, "2026-10", "a.csv"), 20, { seed: 21 });
    writeIclCsv(path.join(tree, "b.csv"), 20, { seed: 22 });
    const refused = icl(["ingest", "--format", "icl-csv", tree], env);
    expect(refused.code).to.equal(65);
    expect(refused.stderr).to.contain(`${tree}: is a directory (give --recursive`);
    const missing = icl(["ingest", "--format", "icl-csv", path.join(dir, "nope.csv")], env);
    expect(missing.stderr).to.contain("no such file or directory");
    const walked = icl(["ingest", "--format", "icl-csv", "--recursive", "--json", tree], env);
    expect(walked.code, walked.stderr).to.equal(0);
    const files = (JSON.parse(walked.stdout) as { files: { path: string; records: string }[] }).files;
    expect(files.map((f) => path.relative(tree, f.path))).to.deep.equal([
      path.join("2026-10", "a.csv"),
      "b.csv",
    ]);
    expect(files.every((f) => f.records === "20")).to.equal(true);
  });

  it("refuses to close a period while an ingest killed half way is unfinished (exit 65, naming the file); closes once it is resumed", async function () {
    const big = path.join(dir, "october.csv");
    writeIclCsv(big, 120_000, { seed: 9 });
    fs.writeFileSync(path.join(dir, "secret.hex"), "11".repeat(32));
    const add = icl(
      [
        "agreements",
        "add",
        "GLOBEX-1",
        "--id",
        "0x" + "cd".repeat(32),
        "--partner",
        "GLOBEX",
        "--side",
        "A",
        "--secret-file",
        path.join(dir, "secret.hex"),
      ],
      env,
    );
    expect(add.code, add.stderr).to.equal(0);
    // Killed half way: once its progress (ICL_PROGRESS=1) says half the file's records are read, so
    // several batches are stored and the rest are not, however fast or slow the machine is today.
    const child = iclProcess(["ingest", "--format", "icl-csv", big], { ...env, ICL_PROGRESS: "1" });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
      const read = [...stderr.matchAll(/ (\d+) records /g)].map((m) => Number(m[1]));
      if ((read.at(-1) ?? 0) >= 60_000) child.kill("SIGKILL");
    });
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.on("exit", (c, s) => resolve([c, s])),
    );
    expect([code, signal], "the kill must land while the ingest runs").to.deep.equal([null, "SIGKILL"]);
    const listed = icl(["files", "list"], env);
    expect(listed.stdout).to.match(/october\.csv\s+icl-csv\s+ingesting/);
    expect(JSON.parse(icl(["files", "list", "--json"], env).stdout).files.at(-1).status).to.equal(
      "ingesting",
    );
    const close = icl(["period", "close", "--agreement", "GLOBEX-1", "--period", "2026-10"], env);
    expect(close.code).to.equal(65);
    expect(close.stderr).to.contain(`${big}: the period 2026-10 cannot be closed`);
    expect(close.stderr).to.contain("icl ingest on the same file again");
    const resumed = icl(["ingest", "--format", "icl-csv", big], env);
    expect(resumed.code, resumed.stderr).to.equal(0);
    expect(resumed.stdout).to.contain("resumed after line");
    const closed = icl(["period", "close", "--agreement", "GLOBEX-1", "--period", "2026-10", "--json"], env);
    expect(closed.code, closed.stderr).to.equal(0);
    expect(Number(JSON.parse(closed.stdout).records)).to.be.greaterThan(0);
  });

  it("prints its version, refuses a time zone that does not exist, and a bare icl shows how to start", () => {
    const version = icl(["--version"]);
    expect(version.code).to.equal(0);
    expect(version.stdout).to.match(
      /^icl \d+\.\d+\.\d+ \(Interconnect Ledger node\)\ndatabase schema \d+; CDR formats icl-csv, /,
    );
    const zone = icl(["init", "--time-zone", "Mars/Olympus_Mons"], { ...env, ICL_DATA_DIR: tempDir() });
    expect(zone.code).to.equal(65);
    expect(zone.stderr).to.contain("field mediation.timeZone: not an IANA time zone");
    const bare = icl([]);
    expect(bare.stdout).to.contain("Getting started:");
    expect(bare.stdout).to.contain("icl ingest Master.csv --format asterisk");
  });
});
