/**
 * The live-source runner of `icl run`: config.json's `sources`, restarts with a growing delay after
 * retryable failures, a source that cannot work left stopped while the others go on, and a stop
 * that waits for each source to finish. (The JetStream source itself: nats-source.test.ts and
 * test/node/jetstream.test.ts.)
 */
import { expect } from "chai";
import { parseConfig, type LiveSourceConfig } from "../config/config";
import { InputError, UnavailableError } from "../errors";
import type { Logger } from "../logger";
import { formatById } from "../mediation/formats/registry";
import { LiveStatsRegistry } from "./live-stats";
import { liveSourceSpec, runLiveSources, type LiveSourcesDeps } from "./live";
import type { IngestResult } from "./pipeline";
import type { RemoteSourceSpec } from "./remote-source";
import type { IngestSource } from "./source";

const NATS: LiveSourceConfig = {
  kind: "nats",
  url: "nats://127.0.0.1:4222",
  stream: "CDRS",
  subject: "cdrs.switch1",
  format: "icl-json",
};
const TABLE: LiveSourceConfig = {
  kind: "table",
  url: "postgres://switch@127.0.0.1:5432/kamailio",
  table: "acc",
  format: "icl-csv",
};

function fakeSource(spec: RemoteSourceSpec): IngestSource {
  return {
    kind: spec.stream ? "stream" : "table",
    name: spec.subject ?? spec.table ?? "",
    location: `${spec.url} ${spec.stream ?? spec.table}`,
    format: spec.format,
    live: true,
    identify: async () => ({ identity: spec.url, byteSize: 0 }),
    // eslint-disable-next-line require-yield
    async *batches() {
      return;
    },
  };
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  return { lines, info: log("info"), warn: log("warn"), error: log("error") };
}

/** Resolves once `signal` aborts. */
const untilAborted = (signal: AbortSignal) =>
  new Promise<IngestResult>((resolve) =>
    signal.addEventListener("abort", () => resolve({} as IngestResult), { once: true }),
  );

describe("live sources (icl run)", function () {
  it("accepts nats and table entries in config.json's sources and refuses unknown formats and keys", () => {
    const config = parseConfig({ sources: [NATS, { ...TABLE, idColumn: "id", pollMs: 500 }] }, "config.json");
    expect(config.sources).to.deep.equal([NATS, { ...TABLE, idColumn: "id", pollMs: 500 }]);
    expect(parseConfig({}, "config.json").sources).to.equal(undefined);
    expect(() => parseConfig({ sources: [{ ...NATS, format: "cdr-xml" }] }, "config.json")).to.throw(
      InputError,
      /sources\.0\.format.*not a CDR format/,
    );
    expect(() => parseConfig({ sources: [{ ...NATS, stream: undefined }] }, "config.json")).to.throw(
      InputError,
      /sources\.0\.stream/,
    );
    expect(() => parseConfig({ sources: [{ ...NATS, table: "acc" }] }, "config.json")).to.throw(InputError);
    expect(() => parseConfig({ sources: [{ ...NATS, kind: "kafka" }] }, "config.json")).to.throw(
      InputError,
      /sources\.0\.kind/,
    );
    expect(() => parseConfig({ sources: [{ ...NATS, url: "127.0.0.1:4222" }] }, "config.json")).to.throw(
      InputError,
      /sources\.0\.url/,
    );
  });

  it("opens each configured source as read continuously (never drained)", () => {
    expect(liveSourceSpec({ ...NATS, durable: "node-a" })).to.deep.equal({
      url: NATS.url,
      format: formatById("icl-json"),
      stream: "CDRS",
      subject: "cdrs.switch1",
      durable: "node-a",
      drain: false,
    });
    expect(liveSourceSpec(TABLE)).to.deep.include({
      table: "acc",
      drain: false,
      format: formatById("icl-csv"),
    });
  });

  it("restarts a source after retryable failures with a growing delay, and stops when asked", async () => {
    const controller = new AbortController();
    const stats = new LiveStatsRegistry();
    const logger = recordingLogger();
    const attempts: number[] = [];
    const deps: LiveSourcesDeps = {
      sources: [NATS],
      logger,
      stats,
      open: fakeSource,
      restartMs: { initial: 20, max: 60 },
      async ingest(_source, options) {
        attempts.push(Date.now());
        if (attempts.length <= 4) throw new UnavailableError("cannot reach NATS at nats://127.0.0.1:4222");
        options.onProgress({ bytesRead: 0, byteSize: 0, records: 17 });
        setTimeout(() => controller.abort(), 50);
        return untilAborted(options.signal);
      },
    };
    await runLiveSources(deps, controller.signal);
    expect(attempts).to.have.length(5);
    const gaps = attempts.slice(1).map((at, i) => at - attempts[i]!);
    // 20, 40, 60, 60 ms (timers are at least that late, never early).
    [20, 40, 60, 60].forEach((least, i) => expect(gaps[i]).to.be.at.least(least - 2));
    expect(gaps[3]).to.be.below(200);
    const [live] = stats.list();
    expect(live).to.deep.include({
      source: "nats://127.0.0.1:4222 CDRS",
      kind: "stream",
      state: "stopped",
      restarts: 4,
      records: 17,
      lastError: "cannot reach NATS at nats://127.0.0.1:4222",
    });
    expect(logger.lines.filter((l) => l.startsWith("warn live source failed; restarting"))).to.have.length(4);
  });

  it("leaves a source that cannot work as configured stopped, while the others go on", async () => {
    const controller = new AbortController();
    const stats = new LiveStatsRegistry();
    const logger = recordingLogger();
    const opened: string[] = [];
    let ingests = 0;
    await runLiveSources(
      {
        sources: [NATS, TABLE],
        logger,
        stats,
        restartMs: { initial: 5, max: 5 },
        open(spec) {
          opened.push(spec.url);
          if (spec.table) throw new InputError("no source reads postgres:// addresses", { field: "from" });
          return fakeSource(spec);
        },
        async ingest(_source, options) {
          ingests++;
          setTimeout(() => controller.abort(), 30);
          return untilAborted(options.signal);
        },
      },
      controller.signal,
    );
    expect(opened).to.deep.equal([NATS.url, TABLE.url]);
    expect(ingests).to.equal(1);
    const byKind = Object.fromEntries(stats.list().map((s) => [s.kind, s]));
    expect(byKind.table).to.deep.include({
      source: "postgres://switch@127.0.0.1:5432/kamailio table acc",
      state: "failed",
      lastError: "field from: no source reads postgres:// addresses",
    });
    expect(byKind.stream!.state).to.equal("stopped");
    expect(
      logger.lines.some((l) => l.startsWith("error live source stopped: it cannot work as configured")),
    ).to.equal(true);
  });
});
