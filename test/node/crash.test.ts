import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { generatedDeck, prng, writeIclCsv } from "../../scripts/lib/generate-cdrs";
import { icl, iclProcess } from "../helpers/cli";
import { databaseTargets, tempDir } from "../helpers/databases";

/** Kills per database target: a few in `npm test`, ICL_CHAOS_KILLS (50 in `npm run test:chaos`) otherwise. */
const KILLS = Number(process.env.ICL_CHAOS_KILLS ?? 3);
const ROWS = Number(process.env.ICL_CHAOS_ROWS ?? 20_000);

function setUpNode(env: Record<string, string>, deck: string): void {
  expect(icl(["init"], env).code).to.equal(0);
  for (const partner of ["GLOBEX", "INITECH"]) {
    expect(icl(["partners", "add", partner], env).code).to.equal(0);
    for (const direction of ["in", "out"]) {
      const result = icl(["tariffs", "import", deck, "--partner", partner, "--direction", direction], env);
      expect(result.code, result.stderr).to.equal(0);
    }
  }
}

function totals(env: Record<string, string>) {
  const stats = icl(["cdrs", "stats", "--json"], env);
  expect(stats.code, stats.stderr).to.equal(0);
  return JSON.parse(stats.stdout);
}

function ingestAndKillAfter(env: Record<string, string>, file: string, ms: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = iclProcess(["ingest", "--format", "icl-csv", file], env);
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

for (const target of databaseTargets()) {
  describe(`chaos: ingest killed with SIGKILL on ${target.name}`, function () {
    this.timeout(60_000 + KILLS * 30_000);
    after(() => target.cleanup());

    it(`gives the totals of a clean run after ${KILLS} kill(s) at random moments and a re-run`, async () => {
      const dir = tempDir();
      const deck = path.join(dir, "deck.csv");
      const cdrs = path.join(dir, "cdrs.csv");
      fs.writeFileSync(deck, generatedDeck());
      writeIclCsv(cdrs, ROWS, { seed: 7, imperfect: true });

      const clean = target.cliEnv().env;
      setUpNode(clean, deck);
      const started = Date.now();
      const cleanRun = icl(["ingest", "--format", "icl-csv", cdrs], clean);
      expect(cleanRun.code, cleanRun.stderr).to.equal(0);
      const cleanMs = Date.now() - started;
      const expected = totals(clean);
      expect(Number(expected.records)).to.equal(ROWS);

      const chaos = target.cliEnv().env;
      setUpNode(chaos, deck);
      const random = prng(Number(process.env.ICL_CHAOS_SEED ?? Date.now() % 100_000));
      const outcomes: (number | null)[] = [];
      for (let kill = 0; kill < KILLS; kill++) {
        // The first kill lands mid-run for sure (half a clean run in); the others anywhere, even after the end.
        const delay = kill === 0 ? cleanMs / 2 : random() * cleanMs * 1.1;
        outcomes.push(await ingestAndKillAfter(chaos, cdrs, Math.floor(delay)));
      }
      const finalRun = icl(["ingest", "--format", "icl-csv", cdrs], chaos);
      expect(finalRun.code, finalRun.stderr).to.equal(0);
      expect(totals(chaos)).to.deep.equal(expected);
      // At least one kill must have landed mid-run for the test to mean anything.
      expect(
        outcomes.filter((code) => code === null).length,
        `exit codes ${outcomes.join(",")}`,
      ).to.be.greaterThan(0);
      fs.rmSync(dir, { recursive: true, force: true });
    });
  });
}
