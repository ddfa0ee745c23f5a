/**
 * The ingest pipeline end to end, as a carrier's billing engineer meets it: a bad value deep in a big
 * file, an ingest that stops half way, a deck that arrives late, CDRs that arrive after their period
 * was committed, and files that are not what the node reads.
 */
import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { generatedDeck, writeIclCsv } from "../../scripts/lib/generate-cdrs";
import { addAgreement } from "../../node/src/db/agreements";
import type { Database } from "../../node/src/db/database";
import { getFile, listFiles, listRejects } from "../../node/src/db/ingest-store";
import { addPartner } from "../../node/src/db/partners";
import { cdrStats } from "../../node/src/db/stats";
import { loadSummary } from "../../node/src/db/summaries";
import { importDeck } from "../../node/src/db/tariffs";
import { InputError } from "../../node/src/errors";
import { fileSource } from "../../node/src/ingest/file-source";
import { ingestFile } from "../../node/src/ingest/ingest-file";
import { runIngest, type IngestSettings } from "../../node/src/ingest/pipeline";
import type { IngestSource } from "../../node/src/ingest/source";
import { formatById } from "../../node/src/mediation/formats/registry";
import { rerate } from "../../node/src/rating/rerate";
import { loadTariffDeck } from "../../node/src/rating/tariff-deck";
import { buildSummary } from "../../node/src/summaries/build-summary";
import { periodSalt } from "../../node/src/summaries/encoding";
import { databaseTargets, primaryTarget, tempDir } from "../helpers/databases";

/** October 2026 is the generator's month; the clock stands in mid-November. */
const NOW = Date.parse("2026-11-15T00:00:00Z");
const SETTINGS: IngestSettings = {
  mediation: {
    timeZone: "UTC",
    useGmtTime: false,
    numbering: { countryCode: "1", nationalPrefix: "1", internationalPrefix: "011" },
  },
  now: () => NOW,
};
const AGREEMENT = "0x" + "ab".repeat(32);
const SECRET = new Uint8Array(32).fill(7);

async function setUp(db: Database, deck = generatedDeck()): Promise<void> {
  for (const id of ["GLOBEX", "INITECH"]) {
    await addPartner(db, { id, name: id, matchRules: [] });
    for (const direction of ["in", "out"] as const) {
      await importDeck(db, {
        partner: id,
        direction,
        name: `${id}-${direction}`,
        currency: "USD",
        contentHash: "h",
        rows: loadTariffDeck(deck, "deck.csv"),
      });
    }
  }
}

/** Every stored CDR, as comparable rows (the ingest's id left out). */
async function storedCdrs(db: Database): Promise<Record<string, unknown>[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT source_key, line, partner_id, direction, service, start_time, duration, volume, a_number, b_number,
            disposition, outcome, destination, prefix, band, billed, amount_micro, tariff_line, setup_time,
            answer_time, end_time, warnings, late, bill_period
       FROM cdrs ORDER BY source_key`,
  );
  return rows;
}

/** `icl cdrs stats` minus what tells two nodes' files apart. */
async function stats(db: Database) {
  const { files: _files, ...rest } = await cdrStats(db);
  return rest;
}

/** Replaces field `column` of line `line` (1 = header) of an icl-csv file. */
function spoil(source: string, target: string, line: number, column: number, value: string): string {
  const lines = fs.readFileSync(source, "utf8").split("\n");
  const fields = lines[line - 1]!.split(",");
  fields[column] = value;
  lines[line - 1] = fields.join(",");
  fs.writeFileSync(target, lines.join("\n"));
  return fields[0]!;
}

for (const target of databaseTargets()) {
  describe(`ingest pipeline on ${target.name}`, function () {
    this.timeout(300_000);
    const dir = tempDir();
    const clean = path.join(dir, "clean.csv");
    before(() => writeIclCsv(clean, 60_000, { seed: 15 }));
    after(async () => {
      await target.cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    async function node(): Promise<Database> {
      const db = await target.open();
      await setUp(db);
      return db;
    }

    // Storage on both kinds is proven by the other cases; the big file runs on the primary one (CI: PostgreSQL).
    if (target.name === primaryTarget().name)
      describe("a 60 000-row file with one impossible value on row 40 000", () => {
        let reference: Record<string, unknown>[];
        before(async () => {
          const db = await node();
          const result = await ingestFile(db, clean, "icl-csv", SETTINGS);
          expect(result.file.records).to.equal(60_000n);
          reference = await storedCdrs(db);
          await db.close();
        });

        const cases: {
          name: string;
          column: number;
          value: string;
          settings: IngestSettings;
          expect: object;
        }[] = [
          {
            name: "a start in year 0000, by the plausibility rules",
            column: 4,
            value: "0000-01-01T00:00:00Z",
            settings: SETTINGS,
            expect: { reason: "IMPLAUSIBLE", field: "start_time", rule: "start_too_old" },
          },
          {
            name: "a start in year 0000 with the rules off, by the storable range",
            column: 4,
            value: "0000-01-01T00:00:00Z",
            settings: { ...SETTINGS, plausibility: { rules: { start_too_old: "off" } } },
            expect: { reason: "INVALID", field: "start_time", rule: null },
          },
          {
            name: "a duration the database cannot hold (its integer column refuses it)",
            column: 5,
            value: "99999999999",
            settings: { ...SETTINGS, plausibility: { rules: { call_too_long: "off" } } },
            expect: { reason: "INVALID", field: "duration", rule: null },
          },
        ];
        for (const c of cases) {
          it(`stores every other row exactly as a clean run; ${c.name} is a reject naming line and field`, async () => {
            const file = path.join(dir, `spoilt-${c.column}-${c.value.length}.csv`);
            const key = spoil(clean, file, 40_001, c.column, c.value);
            const db = await node();
            const result = await ingestFile(db, file, "icl-csv", c.settings);
            expect(result.file.status).to.equal("done");
            expect(result.file.records).to.equal(60_000n);
            expect(result.file.rated + result.file.unbilled + result.file.rejected).to.equal(60_000n);
            const rejects = await listRejects(db, { fileId: result.file.id, limit: 10 });
            expect(rejects).to.have.length(1);
            expect(rejects[0]).to.deep.include({ line: 40_001n, ...c.expect });
            expect(rejects[0]!.message).to.not.contain("the database refused the statement");
            const stored = await storedCdrs(db);
            expect(stored).to.deep.equal(reference.filter((row) => row.source_key !== `icl:${key}`));
            await db.close();
          });
        }
      });

    it("refuses to close a period while an ingest that may touch it is unfinished, and closes once it is resumed", async () => {
      const db = await node();
      await addAgreement(db, {
        agreementId: AGREEMENT,
        name: "GLOBEX-1",
        partnerId: "GLOBEX",
        side: "A",
        secret: SECRET,
      });
      // A source that fails after its second batch: the ingest is marked incomplete with the reason.
      const real = fileSource(clean, formatById("icl-csv"));
      const failing: IngestSource = {
        ...real,
        async *batches(handler, ingest, rows, signal) {
          let n = 0;
          for await (const batch of real.batches(handler, ingest, rows, signal)) {
            if (++n === 3) throw new Error("the disk went away");
            yield batch;
          }
        },
      };
      let failed: unknown;
      try {
        await runIngest(db, failing, { ...SETTINGS, batchRows: 8192 });
      } catch (error) {
        failed = error;
      }
      expect(String(failed)).to.contain("the disk went away");
      const [stopped] = await listFiles(db);
      expect(stopped).to.deep.include({
        status: "incomplete",
        incompleteReason: "Error: the disk went away",
      });
      // Two batches of 8192 rows were stored before the third failed: the header and 16 384 rows.
      expect(stopped!.checkpointLine).to.equal(16_385n);
      expect(stopped!.records).to.equal(16_384n);

      const request = { agreementId: AGREEMENT, period: 202610, partnerId: "GLOBEX", side: "A" as const };
      const salt = periodSalt(SECRET, AGREEMENT, 202610);
      let refused: unknown;
      try {
        await buildSummary(db, request, salt);
      } catch (error) {
        refused = error;
      }
      expect(refused).to.be.instanceOf(InputError);
      expect((refused as InputError).file).to.equal(clean);
      expect((refused as InputError).shortMessage).to.contain("2026-10 cannot be closed");
      expect((refused as InputError).details).to.contain("incomplete after line");
      // September ended before the file's first CDR: it may be closed.
      await buildSummary(db, { ...request, period: 202609 }, periodSalt(SECRET, AGREEMENT, 202609));

      const resumed = await ingestFile(db, clean, "icl-csv", SETTINGS);
      expect(resumed.resumedAfterLine).to.equal(Number(stopped!.checkpointLine));
      expect(resumed.file.records).to.equal(60_000n);
      const summary = await buildSummary(db, request, salt);
      const fresh = await node();
      await ingestFile(fresh, clean, "icl-csv", SETTINGS);
      expect(await stats(db)).to.deep.equal(await stats(fresh));
      expect(summary.records > 0n, String(summary.records)).to.equal(true);
      await db.close();
      await fresh.close();
    });

    it("re-rating after a late deck gives exactly the stats of a clean run with the right deck; a second run changes nothing", async () => {
      // The first deck lacks Germany and France: those calls are NO_RATE until the full deck arrives.
      const partial = generatedDeck()
        .split("\n")
        .filter((line) => !line.includes("Germany") && !line.includes("France"))
        .join("\n");
      const late = await target.open();
      await setUp(late, partial);
      await ingestFile(late, clean, "icl-csv", SETTINGS);
      const before = await cdrStats(late);
      expect(Number(before.rejectedByReason.NO_RATE ?? 0n)).to.be.greaterThan(1000);
      await setUp2(late);
      const report = await rerate(late, {});
      expect(report.moves["NO_RATE → rated"]).to.equal(Number(before.rejectedByReason.NO_RATE));
      expect(
        report.amountAfter > report.amountBefore,
        `${report.amountBefore} → ${report.amountAfter}`,
      ).to.equal(true);

      const right = await node();
      await ingestFile(right, clean, "icl-csv", SETTINGS);
      expect(await stats(late)).to.deep.equal(await stats(right));
      const [file] = await listFiles(late);
      expect(file!.rated + file!.unbilled + file!.rejected).to.equal(file!.records);

      const again = await rerate(late, {});
      expect(again.changed).to.equal(0);
      await late.close();
      await right.close();

      async function setUp2(db: Database) {
        for (const id of ["GLOBEX", "INITECH"])
          for (const direction of ["in", "out"] as const)
            await importDeck(db, {
              partner: id,
              direction,
              name: `${id}-${direction}-v2`,
              currency: "USD",
              contentHash: "h2",
              rows: loadTariffDeck(generatedDeck(), "deck.csv"),
            });
      }
    });

    it("stores CDRs that arrive after their period was committed as late, counted in the next period, never in the committed summary", async () => {
      const db = await node();
      await addAgreement(db, {
        agreementId: AGREEMENT,
        name: "GLOBEX-1",
        partnerId: "GLOBEX",
        side: "A",
        secret: SECRET,
      });
      const october = path.join(dir, "october.csv");
      const lateFile = path.join(dir, "october-late.csv");
      const lines = fs.readFileSync(clean, "utf8").trimEnd().split("\n");
      fs.writeFileSync(october, lines.slice(0, 50_001).join("\n") + "\n");
      fs.writeFileSync(lateFile, [lines[0], ...lines.slice(50_001)].join("\n") + "\n");
      await ingestFile(db, october, "icl-csv", SETTINGS);
      const request = { agreementId: AGREEMENT, period: 202610, partnerId: "GLOBEX", side: "A" as const };
      const frozen = await buildSummary(db, request, periodSalt(SECRET, AGREEMENT, 202610), { freeze: true });
      const result = await ingestFile(db, lateFile, "icl-csv", SETTINGS);
      expect(result.run.late).to.be.greaterThan(1000);
      // Only GLOBEX's summary was committed: INITECH's October CDRs are not late.
      const { rows } = await db.query<{ partner_id: string; n: bigint; periods: number[] }>(
        "SELECT partner_id, count(*)::bigint AS n, array_agg(DISTINCT bill_period) AS periods FROM cdrs WHERE late GROUP BY 1",
      );
      expect(rows).to.deep.equal([{ partner_id: "GLOBEX", n: BigInt(result.run.late), periods: [202611] }]);
      const stored = await loadSummary(db, AGREEMENT, 202610);
      expect(stored!.root).to.equal(frozen.root);
      const stats = await cdrStats(db);
      expect(stats.late).to.have.length(1);
      expect(stats.late[0]).to.deep.include({ partner: "GLOBEX", period: 202610, billPeriod: 202611 });
      // The next period counts them (its own month has no traffic here).
      const november = await buildSummary(
        db,
        { ...request, period: 202611 },
        periodSalt(SECRET, AGREEMENT, 202611),
      );
      const { rows: rated } = await db.query<{ n: bigint }>(
        "SELECT count(*)::bigint AS n FROM cdrs WHERE late AND outcome = 'rated'",
      );
      expect(november.records).to.equal(rated[0]!.n);
      const file = await getFile(db, result.file.id);
      expect(file!.status).to.equal("done");
      await db.close();
    });
  });
}
