import { expect } from "chai";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { databaseTargets, tempDir } from "../../../test/helpers/databases";
import { mediatedCdr } from "../../../test/helpers/cdrs";
import type { ChainClient } from "../chain/client";
import { ConflictError, NotFoundError } from "../errors";
import { PERIOD_STATES } from "../protocol";
import { archiveSettledMonth, monthBlockers } from "../services/cdr-archive";
import { archiveCdrMonth, listCdrArchives } from "./cdr-archive";
import { listCdrPartitions, monthBounds, partitionName } from "./cdr-partitions";
import type { Database } from "./database";
import { prepareBatch, startFile, storeBatch, type RatedCdrRow } from "./ingest-store";
import { MIGRATIONS, migrate } from "./migrate";
import { addPartner } from "./partners";

const PARTITIONS = MIGRATIONS.find((m) => m.name === "cdr partitions")!.version;

function row(line: number, key: string, start: string): RatedCdrRow {
  return {
    line,
    raw: `raw ${line}`,
    cdr: mediatedCdr({
      key,
      partner: "GLOBEX",
      direction: "out",
      service: "voice",
      startMs: Date.parse(start),
      duration: 61,
      volume: 0,
      aNumber: "12125550100",
      bNumber: "442079460000",
      disposition: "ANSWERED",
    }),
    outcome: "rated",
    destination: "UK",
    prefix: "44",
    band: null,
    billed: 120,
    amount: 1_234_567n,
    deckId: null,
    tariffLine: 2,
    rejectMessage: null,
  };
}

/** Stores `rows` as one file's batch and returns the batch's counts. */
async function store(db: Database, name: string, rows: RatedCdrRow[]) {
  const file = await startFile(db, { fileName: name, contentHash: name, format: "icl-csv", byteSize: 1 });
  return storeBatch(db, prepareBatch(file.id, rows.length, rows, []));
}

/** Rows starting in January 2030 (the last one a millisecond before February) and February 2030. */
const january = (n: number, prefix = "jan") =>
  Array.from({ length: n }, (_, i) =>
    row(i + 1, `icl:${prefix}-${i}`, i === n - 1 ? "2030-01-31T23:59:59.999Z" : "2030-01-15T10:00:00Z"),
  );
const february = (n: number) =>
  Array.from({ length: n }, (_, i) => row(i + 1, `icl:feb-${i}`, "2030-02-01T00:00:00Z"));

/** A chain whose ledger reports every period in `state`. */
const chainIn = (state: string) =>
  ({
    ledger: { state: async () => BigInt(PERIOD_STATES.indexOf(state as never)) },
  }) as unknown as ChainClient;

describe("CDRs partitioned by month", function () {
  this.timeout(120_000);

  it("names each month's partition and bounds it by UTC month", () => {
    expect(partitionName(203001)).to.equal("cdrs_p203001");
    expect(partitionName(50012)).to.equal("cdrs_p050012");
    expect(monthBounds(203012)).to.deep.equal({ from: "2030-12-01T00:00:00Z", to: "2031-01-01T00:00:00Z" });
    expect(() => partitionName(203013)).to.throw(/not a period/);
  });

  for (const target of databaseTargets()) {
    describe(`on ${target.name}`, () => {
      let db: Database;
      afterEach(async () => {
        await db?.close();
      });
      after(() => target.cleanup());

      it("moves the CDRs an older schema stored into their months' partitions, keys and all", async () => {
        db = await target.open({ migrateUpTo: PARTITIONS - 1 });
        // As the unpartitioned table held them: three January CDRs (one in its last millisecond), two of February.
        const starts = ["2030-01-01T00:00:00Z", "2030-01-15T10:00:00Z", "2030-01-31T23:59:59.999Z"];
        starts.push("2030-02-01T00:00:00Z", "2030-02-28T12:00:00Z");
        for (const [i, start] of starts.entries()) {
          await db.query(
            `INSERT INTO cdrs (source_key, file_id, line, partner_id, direction, service, start_time, duration, volume,
                               a_number, b_number, disposition, outcome)
             VALUES ($1, 999, $2, 'GLOBEX', 'out', 'voice', $3, 61, 0, '12125550100', '442079460000', 'ANSWERED', 'rated')`,
            [`icl:jan-${i}`, i + 1, start],
          );
        }
        expect(await migrate(db)).to.deep.equal(
          MIGRATIONS.filter((m) => m.version >= PARTITIONS).map((m) => m.version),
        );
        expect(await listCdrPartitions(db)).to.deep.equal([
          { period: 203001, records: 3n },
          { period: 203002, records: 2n },
        ]);
        // The keys moved too: the same CDRs again are duplicates.
        const again = await store(db, "again.csv", january(3));
        expect([again.rated, again.rejected]).to.deep.equal([0, 3]);
      });

      it("creates a month's partition with its first CDR; a key stays unique across months", async () => {
        db = await target.open();
        expect(await listCdrPartitions(db)).to.deep.equal([]);
        expect((await store(db, "a.csv", january(4))).rated).to.equal(4);
        expect((await store(db, "b.csv", february(3))).rated).to.equal(3);
        expect(await listCdrPartitions(db)).to.deep.equal([
          { period: 203001, records: 4n },
          { period: 203002, records: 3n },
        ]);
        // A January key sent again with a February start is the same CDR id: a DUPLICATE, not a new call.
        const moved = await store(db, "c.csv", [row(1, "icl:jan-0", "2030-02-10T00:00:00Z")]);
        expect([moved.rated, moved.rejected]).to.deep.equal([0, 1]);
      });

      it("archives a month to a gzipped CSV with its count and SHA-256, drops it, and still knows its keys", async () => {
        db = await target.open();
        await store(db, "a.csv", january(1200, "jan"));
        await store(db, "b.csv", february(3));
        const dir = tempDir("icl-archive-");
        try {
          const archive = await archiveCdrMonth(db, 203001, dir);
          expect(archive.records).to.equal(1200n);
          expect(archive.file).to.equal(path.join(dir, "cdrs-203001.csv.gz"));
          const bytes = fs.readFileSync(archive.file);
          expect(crypto.createHash("sha256").update(bytes).digest("hex")).to.equal(archive.sha256);
          const lines = zlib.gunzipSync(bytes).toString("utf8").trimEnd().split("\n");
          expect(lines[0]!.split(",").slice(0, 3)).to.deep.equal(["source_key", "file_id", "line"]);
          expect(lines).to.have.length(1201);
          expect(lines.slice(1).every((l) => l.startsWith('"icl:jan-'))).to.equal(true);
          // Parsed by an independent reader (Python's csv module): every row has every column.
          const widths = execFileSync(
            "python3",
            [
              "-c",
              "import csv,gzip,sys; print(sorted({len(r) for r in csv.reader(gzip.open(sys.argv[1], 'rt'))}))",
              archive.file,
            ],
            { encoding: "utf8" },
          ).trim();
          expect(widths).to.equal(`[${lines[0]!.split(",").length}]`);

          expect(await listCdrPartitions(db)).to.deep.equal([{ period: 203002, records: 3n }]);
          expect((await listCdrArchives(db)).map((a) => [a.period, a.records, a.sha256])).to.deep.equal([
            [203001, 1200n, archive.sha256],
          ]);
          const { rows } = await db.query<{ n: string }>("SELECT count(*)::text AS n FROM cdrs");
          expect(rows[0]!.n).to.equal("3");
          // A re-sent CDR of the archived month is still a duplicate.
          const resent = await store(db, "resent.csv", january(2, "jan"));
          expect([resent.rated, resent.rejected]).to.deep.equal([0, 2]);

          let error: unknown;
          await archiveCdrMonth(db, 203001, dir).catch((e: unknown) => (error = e));
          expect(error).to.be.instanceOf(ConflictError);
          await archiveCdrMonth(db, 202912, dir).catch((e: unknown) => (error = e));
          expect(error).to.be.instanceOf(NotFoundError);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });

      it("leaves a month in place when its archive cannot be written", async () => {
        db = await target.open();
        await store(db, "a.csv", january(5));
        const dir = tempDir("icl-archive-");
        try {
          // The archive's place is taken by a directory: the write fails after the detach.
          fs.mkdirSync(path.join(dir, "cdrs-203001.csv.gz.partial"));
          let error: unknown;
          await archiveCdrMonth(db, 203001, dir).catch((e: unknown) => (error = e));
          expect(error).to.be.instanceOf(Error);
          expect(await listCdrPartitions(db)).to.deep.equal([{ period: 203001, records: 5n }]);
          expect(await listCdrArchives(db)).to.deep.equal([]);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });

      it("archives a month only once every partner's period is closed and settled on the ledger", async () => {
        db = await target.open();
        await store(db, "a.csv", january(2));
        const dir = tempDir("icl-archive-");
        try {
          expect(await monthBlockers(db, chainIn("Settled"), 203001)).to.deep.equal([
            "GLOBEX: no agreement, so no summary settles its CDRs",
          ]);
          let error: unknown;
          await archiveSettledMonth(db, chainIn("Settled"), 203001, dir).catch((e: unknown) => (error = e));
          expect(error).to.be.instanceOf(ConflictError);
          expect((error as ConflictError).details).to.contain("GLOBEX: no agreement");
          expect(await listCdrPartitions(db)).to.have.length(1);

          const agreementId = "0x" + "ab".repeat(32);
          await addPartner(db, { id: "GLOBEX", name: "Globex", matchRules: [] });
          await db.query(
            "INSERT INTO agreements (agreement_id, name, partner_id, side, secret_hex) VALUES ($1, 'ACME-GLOBEX', 'GLOBEX', 'A', $2)",
            [agreementId, "11".repeat(32)],
          );
          expect(await monthBlockers(db, chainIn("Settled"), 203001)).to.deep.equal([
            "GLOBEX: the period is not closed (icl period close)",
          ]);
          await db.query(
            `INSERT INTO summaries (agreement_id, period, partner_id, side, root, leaf_count, records, amount_ab, amount_ba, encoding)
             VALUES ($1, 203001, 'GLOBEX', 'A', $2, 1, 2, 10, 0, 1)`,
            [agreementId, "0x" + "cd".repeat(32)],
          );
          expect(await monthBlockers(db, chainIn("Mismatched"), 203001)).to.deep.equal([
            "GLOBEX: the period is Mismatched",
          ]);
          expect(await monthBlockers(db, chainIn("Settled"), 203001)).to.deep.equal([]);
          const archive = await archiveSettledMonth(db, chainIn("Settled"), 203001, dir);
          expect(archive.records).to.equal(2n);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });
    });
  }
});
