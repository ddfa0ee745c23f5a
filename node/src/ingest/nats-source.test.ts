/**
 * The JetStream source against the real nats-server (127.0.0.1:4222; see test/helpers/nats.ts for
 * when a missing server skips and when it fails): one message one record with its stream sequence
 * as line, acks only after the batch is stored, redeliveries recognised by the store, the errors a
 * person gets for a missing stream or an unreachable server, and a clean stop on abort.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { freePort } from "../../../test/helpers/hardhat";
import type { Database } from "../db/database";
import { listRejects } from "../db/ingest-store";
import { addPartner } from "../db/partners";
import { cdrStats } from "../db/stats";
import { importDeck } from "../db/tariffs";
import { InputError, UnavailableError } from "../errors";
import { formatById } from "../mediation/formats/registry";
import { loadTariffDeck } from "../rating/tariff-deck";
import { databaseTargets } from "../../../test/helpers/databases";
import {
  connectTestNats,
  createTestStream,
  type NatsConnection,
  type TestStream,
} from "../../../test/helpers/nats";
import { LiveStatsRegistry } from "./live-stats";
import { defaultDurable, natsSource, type NatsSourceOptions } from "./nats-source";
import { runIngest, type IngestSettings } from "./pipeline";
import type { IngestSource } from "./source";

const SETTINGS: IngestSettings = {
  mediation: {
    timeZone: "UTC",
    useGmtTime: false,
    numbering: { countryCode: "1", nationalPrefix: "0", internationalPrefix: "00" },
    freeswitch: { legs: "a" },
    billLeg: {},
  },
  now: () => Date.parse("2026-11-15T00:00:00Z"),
};
const ICL_JSON = formatById("icl-json");
/** Short waits: a test's redeliveries come back within a few seconds. */
const FAST: NatsSourceOptions = { ackWaitMs: 3_000, idleMs: 400 };

/** An icl-json CDR of GLOBEX's: a London call by default. */
function cdr(id: string, overrides: Record<string, string | number> = {}): string {
  return JSON.stringify({
    cdr_id: id,
    partner: "GLOBEX",
    direction: "out",
    service: "voice",
    start_time: "2026-10-07T12:00:00Z",
    duration: 60,
    a_number: "+12125550100",
    b_number: "+442079460000",
    disposition: "ANSWERED",
    ...overrides,
  });
}

async function prepare(db: Database): Promise<void> {
  await addPartner(db, { id: "GLOBEX", name: "Globex", matchRules: [] });
  const deck = fs.readFileSync(path.join(__dirname, "..", "..", "samples", "tariff-globex.csv"), "utf8");
  await importDeck(db, {
    partner: "GLOBEX",
    direction: "out",
    name: "globex-out",
    currency: "EUR",
    contentHash: "out",
    rows: loadTariffDeck(deck, "tariff-globex.csv"),
  });
}

/** The database, except that its first `failures` transactions fail as an outage would. */
function failingTransactions(db: Database, failures: number): Database {
  let left = failures;
  return {
    kind: db.kind,
    query: (sql, params) => db.query(sql, params),
    copyFrom: (table, columns, csv) => db.copyFrom(table, columns, csv),
    transaction: (work) => {
      if (left-- > 0) return Promise.reject(new UnavailableError("the database is unavailable (test)"));
      return db.transaction(work);
    },
    close: () => db.close(),
  };
}

/** The source with its batches' acks dropped: stored, then "killed" before acknowledging. */
function withoutAcks(source: IngestSource): IngestSource {
  return {
    ...source,
    async *batches(handler, ingest, batchRows, signal) {
      for await (const batch of source.batches(handler, ingest, batchRows, signal))
        yield { ...batch, ack: batch.ack ? async () => undefined : undefined };
    },
  };
}

for (const target of databaseTargets()) {
  describe(`JetStream source on ${target.name}`, function () {
    this.timeout(60_000);
    let nc: NatsConnection | null;
    let stream: TestStream;
    let db: Database;
    let stats: LiveStatsRegistry;

    before(async function () {
      nc = await connectTestNats();
      if (nc === null) this.skip();
    });
    after(async () => {
      await nc?.close();
      await target.cleanup();
    });
    beforeEach(async () => {
      stream = await createTestStream(nc!);
      db = await target.open();
      await prepare(db);
      stats = new LiveStatsRegistry();
    });
    afterEach(async () => {
      await stream?.delete();
      await db?.close();
    });

    const open = (options: NatsSourceOptions = {}, drain = true) =>
      natsSource(
        {
          url: "nats://127.0.0.1:4222",
          format: ICL_JSON,
          stream: stream.name,
          subject: stream.subject,
          drain,
        },
        { ...FAST, stats, ...options },
      );

    it("stores one record per message, its stream sequence as line, and acknowledges them all", async () => {
      await stream.publish([cdr("A1")]);
      // Another subject of the same stream takes a sequence number in between: lines are the stream's.
      await jetstream(nc!).publish(`${stream.name}.other`, cdr("X1"));
      const messages = [
        cdr("A2"),
        "not json {",
        cdr("A3", { duration: 125 }),
        JSON.stringify({ cdr_id: "A4", partner: "GLOBEX", direction: "out" }),
        cdr("A2"),
        cdr("A5", { partner: "NOBODY" }),
      ];
      const seqs = await stream.publish(messages);
      const source = open();
      const result = await runIngest(db, source, SETTINGS);

      expect(result.file.kind).to.equal("stream");
      expect(result.file.status).to.equal("live");
      expect(result.file.source).to.equal(
        `nats://127.0.0.1:4222 stream ${stream.name} subject ${stream.subject} durable icl-icl-json`,
      );
      expect(result.run).to.deep.include({ records: 7, rated: 3, unbilled: 0, rejected: 4, redelivered: 0 });
      const rejects = await listRejects(db, { fileId: result.file.id, limit: 10 });
      expect(rejects.map((r) => [Number(r.line), r.reason, r.field])).to.deep.equal([
        [seqs[1], "INVALID", null],
        [seqs[3], "INVALID", "start_time"],
        [seqs[4], "DUPLICATE", null],
        [seqs[5], "UNKNOWN_PARTNER", "partner"],
      ]);
      expect(rejects[0]!.raw).to.equal("not json {");
      const { rows } = await db.query<{ line: bigint; source_key: string }>(
        "SELECT line, source_key FROM cdrs WHERE file_id = $1 ORDER BY line",
        [result.file.id],
      );
      expect(rows.map((r) => [Number(r.line), r.source_key])).to.deep.equal([
        [1, "icl:A1"],
        [seqs[0], "icl:A2"],
        [seqs[2], "icl:A3"],
      ]);

      const consumer = await stream.consumer(defaultDurable(ICL_JSON));
      expect(consumer).to.deep.include({ num_pending: 0, num_ack_pending: 0 });
      expect(consumer!.ack_floor.stream_seq).to.equal(seqs.at(-1));
      expect(consumer!.config).to.deep.include({ ack_policy: "explicit", filter_subject: stream.subject });
      expect(consumer!.config.max_ack_pending).to.be.at.least(16_384);

      const [live] = stats.list();
      expect(live).to.deep.include({ source: source.location, kind: "stream", messages: 7 });
      expect(live!.lastBatchAt).to.be.a("number");

      // Messages published later are read by the same durable consumer from where it stopped.
      const later = await stream.publish([cdr("A6"), cdr("A1")]);
      const again = await runIngest(db, open(), SETTINGS);
      expect(again.file.id).to.equal(result.file.id);
      expect(again.run).to.deep.include({ records: 2, rated: 1, rejected: 1, redelivered: 0 });
      expect(again.file.records).to.equal(9n);
      const duplicate = await listRejects(db, { fileId: result.file.id, reason: "DUPLICATE", limit: 10 });
      expect(duplicate.map((r) => Number(r.line))).to.deep.equal([seqs[4], later[1]]);
    });

    it("leaves a batch whose store failed unacknowledged, and stores it once when redelivered", async () => {
      const seqs = await stream.publish([cdr("B1"), cdr("B2"), "{]", cdr("B3")]);
      let failure: unknown;
      try {
        await runIngest(failingTransactions(db, 1), open(), SETTINGS);
      } catch (error) {
        failure = error;
      }
      expect(failure).to.be.instanceOf(UnavailableError);
      const held = await stream.consumer(defaultDurable(ICL_JSON));
      expect(held!.num_ack_pending, "delivered, never acknowledged").to.equal(4);
      expect(held!.ack_floor.stream_seq).to.equal(0);
      expect((await cdrStats(db)).records).to.equal(0n);

      const result = await runIngest(db, open(), SETTINGS);
      expect(result.run).to.deep.include({ records: 4, rated: 3, rejected: 1, redelivered: 0 });
      const consumer = await stream.consumer(defaultDurable(ICL_JSON));
      expect(consumer).to.deep.include({ num_pending: 0, num_ack_pending: 0 });
      expect(consumer!.ack_floor.stream_seq).to.equal(seqs.at(-1));
    });

    it("recognises messages stored but never acknowledged (killed before the ack): not counted twice", async () => {
      await stream.publish([cdr("C1"), cdr("C2", { duration: 0, disposition: "NO_ANSWER" }), "x", cdr("C1")]);
      const first = await runIngest(db, withoutAcks(open()), SETTINGS);
      expect(first.run).to.deep.include({ records: 4, rated: 1, unbilled: 1, rejected: 2 });
      expect((await stream.consumer(defaultDurable(ICL_JSON)))!.num_ack_pending).to.equal(4);

      const second = await runIngest(db, open(), SETTINGS);
      expect(second.run).to.deep.include({ records: 0, rated: 0, unbilled: 0, rejected: 0, redelivered: 4 });
      const stored = await cdrStats(db);
      expect(stored).to.deep.include({ records: 4n, rated: 1n, unbilled: 1n, rejected: 2n });
      expect(stored.rejectedByReason).to.deep.equal({ DUPLICATE: 1n, INVALID: 1n });
      expect((await stream.consumer(defaultDurable(ICL_JSON)))!.num_ack_pending).to.equal(0);
    });

    it("without --drain reads until aborted, then stores and acknowledges the batch in hand", async () => {
      const controller = new AbortController();
      const running = runIngest(db, open({}, false), SETTINGS, { signal: controller.signal });
      const seqs = await stream.publish([cdr("D1"), cdr("D2")]);
      const durable = defaultDurable(ICL_JSON);
      for (let i = 0; i < 100; i++) {
        const consumer = await stream.consumer(durable);
        if (consumer !== null && consumer.ack_floor.stream_seq === seqs.at(-1)) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // Published just before the stop: the fetch in flight has it in hand, and it is stored before the end.
      const last = await stream.publish([cdr("D3")]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      controller.abort();
      const result = await running;
      expect(result.file.status).to.equal("live");
      expect(Number(result.file.records)).to.equal(3);
      const consumer = await stream.consumer(durable);
      expect(consumer).to.deep.include({ num_pending: 0, num_ack_pending: 0 });
      expect(consumer!.ack_floor.stream_seq).to.equal(last[0]);
    });

    it("reports a missing stream as bad input naming it, before registering an ingest", async () => {
      const source = natsSource({
        url: "nats://127.0.0.1:4222",
        format: ICL_JSON,
        stream: `${stream.name}_MISSING`,
        subject: "nowhere.cdrs",
        drain: true,
      });
      let error: unknown;
      try {
        await runIngest(db, source, SETTINGS);
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(InputError);
      expect((error as InputError).message).to.equal(
        `field stream: stream ${stream.name}_MISSING does not exist on nats://127.0.0.1:4222`,
      );
      expect((await cdrStats(db)).files).to.equal(0);
    });

    it("reports an unreachable server as retryable, naming the address without credentials", async () => {
      const port = await freePort();
      const source = natsSource({
        url: `nats://icl:secret@127.0.0.1:${port}`,
        format: ICL_JSON,
        stream: stream.name,
        subject: stream.subject,
        drain: true,
      });
      expect(source.location).to.not.contain("secret");
      let error: unknown;
      try {
        await source.identify();
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(UnavailableError);
      expect((error as UnavailableError).retryable).to.equal(true);
      expect((error as UnavailableError).shortMessage).to.equal(
        `cannot reach NATS at nats://127.0.0.1:${port}`,
      );
      expect((error as Error).message).to.not.contain("secret");
    });

    it("refuses a durable consumer that reads something else, and specs it cannot use", async () => {
      await stream.publish([cdr("E1")]);
      const other = natsSource(
        {
          url: "nats://127.0.0.1:4222",
          format: ICL_JSON,
          stream: stream.name,
          subject: `${stream.name}.other`,
          durable: defaultDurable(ICL_JSON),
          drain: true,
        },
        FAST,
      );
      await runIngest(db, open(), SETTINGS);
      let error: unknown;
      try {
        await runIngest(db, other, SETTINGS);
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(InputError);
      expect((error as Error).message).to.contain(`is not a pull consumer of ${stream.name}.other`);

      const spec = { url: "nats://127.0.0.1:4222", format: ICL_JSON, drain: true };
      expect(() => natsSource({ ...spec, subject: "x" })).to.throw(InputError, /needs a stream/);
      expect(() => natsSource({ ...spec, stream: "S" })).to.throw(InputError, /needs a subject/);
      expect(() => natsSource({ ...spec, stream: "a.b", subject: "x" })).to.throw(InputError, /stream name/);
      expect(() =>
        natsSource({ ...spec, stream: "S", subject: "x", format: formatById("icl-csv") }),
      ).to.throw(InputError, /needs an ndjson format/);
      expect(() => natsSource({ ...spec, url: "http://127.0.0.1:4222", stream: "S", subject: "x" })).to.throw(
        InputError,
        /not a NATS address/,
      );
    });

    it("is another ingest when the stream is deleted and made again (its sequences start over)", async () => {
      await stream.publish([cdr("F1"), cdr("F2")]);
      const first = await runIngest(db, open(), SETTINGS);
      expect(first.run.records).to.equal(2);
      const jsm = await jetstreamManager(nc!);
      await jsm.streams.delete(stream.name);
      // A stream created again within the same second would still differ in its creation time.
      await jsm.streams.add({ name: stream.name, subjects: [`${stream.name}.>`] });
      await stream.publish([cdr("F3"), cdr("F4")]);
      const second = await runIngest(db, open(), SETTINGS);
      expect(second.file.id).to.not.equal(first.file.id);
      expect(second.run).to.deep.include({ records: 2, rated: 2, redelivered: 0 });
    });
  });
}
