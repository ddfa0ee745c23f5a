import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { databaseTargets, tempDir } from "../../../test/helpers/databases";
import { openDatabase } from "./open";
import { ConflictError, UnavailableError } from "../errors";
import type { MediatedCdr, RejectReason } from "../mediation/types";
import { loadTariffDeck } from "../rating/tariff-deck";
import { classifyDatabaseError, type Database } from "./database";
import {
  finishFile,
  listFiles,
  listRejects,
  prepareBatch,
  startFile,
  storeBatch,
  type RatedCdrRow,
} from "./ingest-store";
import { MIGRATIONS, migrate } from "./migrate";
import { addPartner, listPartners } from "./partners";
import { cdrStats } from "./stats";
import { importDeck, listDecks, loadActiveDecks } from "./tariffs";
import { openPostgres } from "./pg";
import { intArray, textArray } from "./pg-array";
import fc from "fast-check";
import { mediatedCdr } from "../../../test/helpers/cdrs";

function row(line: number, key: string, overrides: Partial<RatedCdrRow> = {}): RatedCdrRow {
  const cdr: MediatedCdr = mediatedCdr({
    key,
    partner: "GLOBEX",
    direction: "out",
    service: "voice",
    startMs: Date.parse("2026-10-01T10:00:00.123Z"),
    duration: 61,
    volume: 0,
    aNumber: "12125550100",
    bNumber: "442079460000",
    disposition: "ANSWERED",
  });
  return {
    line,
    raw: `raw ${line}`,
    cdr,
    outcome: "rated",
    destination: "UK",
    prefix: "44",
    band: null,
    billed: 120,
    // Past 2^53 micro-units: only exact if stored and read as bigint end to end.
    amount: 9_007_199_254_740_993n,
    deckId: null,
    tariffLine: 2,
    rejectMessage: null,
    ...overrides,
  };
}

for (const target of databaseTargets()) {
  describe(`storage on ${target.name}`, function () {
    this.timeout(60_000);
    let db: Database;
    beforeEach(async () => {
      db = await target.open();
    });
    afterEach(async () => {
      await db.close();
    });
    after(() => target.cleanup());

    it("applies every migration once; running again applies none", async () => {
      expect(await migrate(db)).to.deep.equal([]);
      const { rows } = await db.query<{ version: number }>(
        "SELECT version FROM schema_migrations ORDER BY version",
      );
      expect(rows.map((r) => r.version)).to.deep.equal(MIGRATIONS.map((m) => m.version));
    });

    it("stores partners with ordered match rules and refuses a taken id", async () => {
      await addPartner(db, {
        id: "GLOBEX",
        name: "Globex",
        matchRules: [
          { partner: "GLOBEX", direction: "out", field: "trunk", pattern: "^globex$" },
          { partner: "GLOBEX", direction: "in", field: "channel", pattern: "^SIP/globex-" },
        ],
      });
      const partners = await listPartners(db);
      expect(partners).to.have.length(1);
      expect(partners[0]!.matchRules.map((r) => r.direction)).to.deep.equal(["out", "in"]);
      let error: unknown;
      try {
        await addPartner(db, { id: "GLOBEX", name: "again", matchRules: [] });
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(ConflictError);
      expect(await listPartners(db)).to.have.length(1);
    });

    it("keeps one active deck per partner and direction, with rates exact to 12 decimals", async () => {
      await addPartner(db, { id: "GLOBEX", name: "Globex", matchRules: [] });
      const rows = loadTariffDeck(
        [
          "service,prefix,destination,rate,connect_fee,first_increment,next_increment,effective_from,effective_to,time_band,days,time_from,time_to,timezone",
          "voice,44,UK,0.123456789012,0.000000000001,30,6,2026-10-01T00:00:00+02:00,,,,,,",
          "voice,49,DE,0.01,0,1,1,,,peak,mon-fri,08:00,18:00,Europe/Berlin",
          "voice,49,DE,0.02,0,1,1,,,,,,,",
        ].join("\n"),
        "deck.csv",
      );
      const first = await importDeck(db, {
        partner: "GLOBEX",
        direction: "out",
        name: "v1",
        currency: "EUR",
        contentHash: "a",
        rows,
      });
      const second = await importDeck(db, {
        partner: "GLOBEX",
        direction: "out",
        name: "v2",
        currency: "EUR",
        contentHash: "b",
        rows,
      });
      const decks = await listDecks(db);
      expect(decks.map((d) => [d.id, d.active, d.rows])).to.deep.equal([
        [second, true, 3],
        [first, false, 3],
      ]);
      const active = (await loadActiveDecks(db)).get("GLOBEX|out")!;
      expect(active.deckId).to.equal(second);
      expect(active.rows[0]).to.deep.include({
        rate: 123_456_789_012n,
        connectFee: 1n,
        effectiveFrom: Date.parse("2026-09-30T22:00:00Z"),
        effectiveTo: null,
      });
      expect(active.rows[1]!.band).to.deep.equal(rows[1]!.band);
    });

    it("stores a batch atomically; a repeated key becomes a DUPLICATE reject, in the batch and across batches", async () => {
      const file = await startFile(db, {
        fileName: "a.csv",
        contentHash: "h1",
        format: "icl-csv",
        byteSize: 100,
      });
      const counts = await storeBatch(
        db,
        prepareBatch(
          file.id,
          4,
          [row(1, "icl:A"), row(2, "icl:B", { outcome: "unbilled", amount: 0n, billed: 0 }), row(3, "icl:A")],
          [
            {
              line: 4,
              raw: "x,\u0000y",
              reason: "INVALID",
              field: "start_time",
              message: "bad",
              sourceKey: null,
            },
          ],
        ),
      );
      expect(counts).to.deep.equal({
        records: 4,
        rated: 1,
        unbilled: 1,
        rejected: 2,
        redelivered: 0,
        late: 0,
      });
      const again = await storeBatch(
        db,
        prepareBatch(
          file.id,
          6,
          [
            row(5, "icl:B"),
            row(6, "icl:C", { outcome: "rejected", rejectMessage: "no rate for 81", amount: 0n }),
          ],
          [],
        ),
      );
      expect(again).to.deep.equal({
        records: 2,
        rated: 0,
        unbilled: 0,
        rejected: 2,
        redelivered: 0,
        late: 0,
      });
      const done = await finishFile(db, file.id);
      expect([
        done.status,
        done.records,
        done.rated,
        done.unbilled,
        done.rejected,
        done.checkpointLine,
      ]).to.deep.equal(["done", 6n, 1n, 1n, 4n, 6n]);
      const rejects = await listRejects(db, { limit: 10 });
      expect(rejects.map((r) => [Number(r.line), r.reason])).to.deep.equal([
        [3, "DUPLICATE"],
        [4, "INVALID"],
        [5, "DUPLICATE"],
        [6, "NO_RATE"],
      ]);
      expect(rejects[1]!.raw).to.equal("x,\uFFFDy");
      const stats = await cdrStats(db);
      expect(stats.records).to.equal(stats.rated + stats.unbilled + stats.rejected);
      expect(stats.rejectedByReason).to.deep.equal({ DUPLICATE: 2n, INVALID: 1n, NO_RATE: 1n });
      expect(stats.byPartner).to.deep.equal([
        {
          partner: "GLOBEX",
          direction: "out",
          destination: "UK",
          records: 1n,
          billedSeconds: 120n,
          amount: 9_007_199_254_740_993n,
        },
      ]);
      const { rows } = await db.query<{ start_ms: bigint }>(
        "SELECT (extract(epoch FROM start_time) * 1000)::bigint AS start_ms FROM cdrs WHERE source_key = 'icl:A'",
      );
      expect(Number(rows[0]!.start_ms)).to.equal(Date.parse("2026-10-01T10:00:00.123Z"));
    });

    it("rolls a failed batch back entirely", async () => {
      const file = await startFile(db, {
        fileName: "a.csv",
        contentHash: "h2",
        format: "icl-csv",
        byteSize: 1,
      });
      let failed = false;
      try {
        // A reason the rejects table does not know violates its CHECK after the CDRs went in.
        await storeBatch(
          db,
          prepareBatch(
            file.id,
            2,
            [row(1, "icl:Z")],
            [
              {
                line: 2,
                raw: "",
                reason: "BOGUS" as RejectReason,
                field: "x",
                message: "m",
                sourceKey: null,
              },
            ],
          ),
        );
      } catch {
        failed = true;
      }
      expect(failed).to.equal(true);
      const files = await listFiles(db);
      expect(files[0]).to.deep.include({ records: 0n, checkpointLine: 0n });
      const { rows } = await db.query("SELECT 1 FROM cdrs");
      expect(rows).to.have.length(0);
    });

    it("registers a file once per content and format", async () => {
      const a = await startFile(db, {
        fileName: "a.csv",
        contentHash: "same",
        format: "icl-csv",
        byteSize: 1,
      });
      const b = await startFile(db, {
        fileName: "renamed.csv",
        contentHash: "same",
        format: "icl-csv",
        byteSize: 1,
      });
      expect(b.id).to.equal(a.id);
      expect(b.fileName).to.equal("a.csv");
    });

    it("reads back any text and integer array built as a literal (property)", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.option(fc.string({ unit: "binary" }), { nil: null }), { maxLength: 20 }),
          fc.array(fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { nil: null }), {
            maxLength: 20,
          }),
          async (texts, ints) => {
            const { rows } = await db.query<{ t: (string | null)[]; i: (bigint | null)[] }>(
              "SELECT $1::text[] AS t, $2::bigint[] AS i",
              [textArray(texts), intArray(ints)],
            );
            expect(rows[0]!.t).to.deep.equal(
              texts.map((t) => (t === null ? null : t.replaceAll("\u0000", "\uFFFD"))),
            );
            expect(rows[0]!.i).to.deep.equal(ints);
          },
        ),
        { numRuns: 40 },
      );
    });

    it("treats SQL-looking text as data", async () => {
      const evil = "x'); DROP TABLE partners; --";
      await addPartner(db, { id: "EVIL", name: evil, matchRules: [] });
      expect((await listPartners(db))[0]!.name).to.equal(evil);
    });
  });
}

describe("PGlite data directory lock", () => {
  it("refuses a second open while the first is live, and takes over a dead owner's lock", async () => {
    const dir = tempDir();
    const first = await openDatabase({ dataDir: dir });
    let error: unknown;
    try {
      await openDatabase({ dataDir: dir });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ConflictError);
    expect((error as ConflictError).shortMessage).to.contain(`is in use by process ${process.pid}`);
    await first.close();
    // A lock left by a process that no longer exists (a kill -9) is stale.
    fs.writeFileSync(path.join(dir, "db", "icl.lock"), "999999999");
    const again = await openDatabase({ dataDir: dir });
    await again.close();
    expect(fs.existsSync(path.join(dir, "db", "icl.lock"))).to.equal(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("database errors", () => {
  it("are told apart by SQLSTATE, not message text", () => {
    expect(classifyDatabaseError({ code: "08006", message: "anything" })).to.be.instanceOf(UnavailableError);
    expect(classifyDatabaseError({ code: "57P01", message: "terminating" }).retryable).to.equal(true);
    expect(classifyDatabaseError({ code: "40001", message: "" }).retryable).to.equal(true);
    expect(classifyDatabaseError({ code: "23505", message: "connection refused" })).to.be.instanceOf(
      ConflictError,
    );
    expect(classifyDatabaseError({ code: "42P01", message: "connection lost" }).retryable).to.equal(false);
    expect(classifyDatabaseError(Object.assign(new Error("x"), { code: "ECONNREFUSED" })).retryable).to.equal(
      true,
    );
  });
  it("an unreachable PostgreSQL is a retryable UnavailableError", async () => {
    let error: unknown;
    try {
      await openPostgres("postgres://nobody@127.0.0.1:1/none");
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(UnavailableError);
  });
});
