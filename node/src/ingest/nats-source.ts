/**
 * CDRs from a NATS JetStream subject: one message is one record (an `icl-json` object, or any
 * format whose syntax is ndjson), read through a durable pull consumer with explicit acks and
 * acknowledged only once the pipeline has stored its batch. A message redelivered after a crash
 * (stored, killed before the ack) carries the same stream sequence, which is the record's `line`:
 * the store recognises (ingest, line) and counts it once.
 */
import crypto from "node:crypto";
import { connect } from "@nats-io/transport-node";
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  ReplayPolicy,
  jetstreamManager,
  type ConsumerInfo,
  type JetStreamManager,
} from "@nats-io/jetstream";
import { BaseError, InputError, UnavailableError } from "../errors";
import { RAW_LIMIT } from "../mediation/csv-reader";
import type { FormatDescriptor, SourceRecord } from "../mediation/formats/format";
import type { ParsedRow } from "../mediation/types";
import { liveStats, type LiveStatsRegistry } from "./live-stats";
import { NatsFetcher, type FetchedBatch, type WorkerFailure } from "./nats-worker";
import type { RemoteSourceKind, RemoteSourceSpec } from "./remote-source";
import type { IngestSource, SourceBatch } from "./source";

type NatsConnection = Awaited<ReturnType<typeof connect>>;

/** JetStream durations are nanoseconds. */
const nanos = (ms: number) => ms * 1_000_000;

/** `--drain` stops after this long without a message. */
export const NATS_IDLE_MS = 2_000;
/**
 * How long the server waits for a delivered message's ack before redelivering it. A batch is held
 * from its fetch to its ack for its mediation and rating, the store of the batch before it and its
 * own store: under a second for 16 384 rows (0.3–0.8 s measured on PostgreSQL and PGlite). 10 s
 * is ten times that, and a batch held longer (a database stall) is kept alive with in-progress
 * acks by the fetch worker; it is also how long a restart after a crash waits for the crashed
 * run's messages to come back first.
 */
export const NATS_ACK_WAIT_MS = 10_000;
/** A fetch returns a full batch at once when the stream has it, or what came within this (the client's minimum). */
const FETCH_MS = 1_000;
/** Consumer info (lag) is asked for at most this often. */
const LAG_POLL_MS = 5_000;
const CONNECT_TIMEOUT_MS = 5_000;
/** JetStream's rule for stream and consumer names: no whitespace, `.`, `*`, `>`, path separators. */
const NAME = /^[^\s.*>/\\]{1,255}$/;
/** A subject: dot-separated tokens without whitespace; `*` and `>` wildcards allowed. */
const SUBJECT = /^[^\s.]+(\.[^\s.]+)*$/;

/** The durable consumer a node uses when none is given: `icl-<format id>`. */
export function defaultDurable(format: FormatDescriptor): string {
  return `icl-${format.id}`;
}

/** Settings tests shorten; a node uses the defaults. */
export interface NatsSourceOptions {
  ackWaitMs?: number;
  idleMs?: number;
  /** Where lag, messages and batch times are reported (default: the process's registry). */
  stats?: LiveStatsRegistry;
}

interface Target {
  /** `nats://host:port`, without credentials. */
  address: string;
  servers: string;
  user?: string;
  pass?: string;
  token?: string;
}

/** One message as the format's handler reads it: `fields[0]` is its text, `line` its stream sequence. */
class MessageRecord implements SourceRecord {
  readonly fields: string[] = [""];
  readonly count = 1;
  line = 0;

  set(seq: number, text: string): void {
    this.line = seq;
    this.fields[0] = text;
  }

  raw(): string {
    const text = this.fields[0]!;
    return text.length > RAW_LIMIT ? text.slice(0, RAW_LIMIT) : text;
  }

  text(): string {
    return this.fields[0]!;
  }
}

function parseTarget(url: string): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(`'${url}' is not a URL`, { field: "from" });
  }
  if (parsed.protocol !== "nats:" || parsed.hostname === "")
    throw new InputError(`'${url}' is not a NATS address (nats://HOST:PORT)`, { field: "from" });
  const host =
    parsed.hostname.includes(":") && !parsed.hostname.startsWith("[")
      ? `[${parsed.hostname}]`
      : parsed.hostname;
  const hostPort = `${host}:${parsed.port || "4222"}`;
  const target: Target = { address: `nats://${hostPort}`, servers: hostPort };
  const user = decodeURIComponent(parsed.username);
  const pass = decodeURIComponent(parsed.password);
  if (user !== "" && pass !== "") Object.assign(target, { user, pass });
  else if (user !== "") target.token = user;
  return target;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A failure to talk to the server: retryable, naming the address. */
function unavailable(target: Target, doing: string, error: unknown): BaseError {
  if (error instanceof BaseError) return error;
  return new UnavailableError(`NATS at ${target.address}: ${doing} failed`, {
    code: "NATS_UNAVAILABLE",
    details: describe(error),
    cause: error,
  });
}

/** JetStream's error code for a missing stream. */
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

async function openConnection(target: Target): Promise<NatsConnection> {
  try {
    return await connect({
      servers: target.servers,
      user: target.user,
      pass: target.pass,
      token: target.token,
      timeout: CONNECT_TIMEOUT_MS,
      name: "icl ingest",
    });
  } catch (error) {
    throw new UnavailableError(`cannot reach NATS at ${target.address}`, {
      code: "NATS_UNAVAILABLE",
      details: describe(error),
      cause: error,
    });
  }
}

async function manager(nc: NatsConnection, target: Target): Promise<JetStreamManager> {
  try {
    return await jetstreamManager(nc);
  } catch (error) {
    throw new UnavailableError(`NATS at ${target.address} has no JetStream (nats-server -js)`, {
      code: "NATS_UNAVAILABLE",
      details: describe(error),
      cause: error,
    });
  }
}

/**
 * A JetStream subject as an ingest source. `spec.durable` defaults to {@link defaultDurable}: one
 * durable consumer per node and format. Several nodes reading one stream on one server must each
 * name their own.
 * @throws InputError for an address that is not nats://, a missing or bad stream, subject or
 * durable name, or a format whose records are not one per line (ndjson).
 */
export function natsSource(spec: RemoteSourceSpec, options: NatsSourceOptions = {}): IngestSource {
  const target = parseTarget(spec.url);
  const { format } = spec;
  if (spec.stream === undefined || spec.stream === "")
    throw new InputError("a nats:// source needs a stream (--stream)", { field: "stream" });
  if (!NAME.test(spec.stream))
    throw new InputError(`'${spec.stream}' is not a JetStream stream name`, { field: "stream" });
  if (spec.subject === undefined || spec.subject === "")
    throw new InputError("a nats:// source needs a subject (--subject)", { field: "subject" });
  if (!SUBJECT.test(spec.subject))
    throw new InputError(`'${spec.subject}' is not a NATS subject`, { field: "subject" });
  const durable = spec.durable ?? defaultDurable(format);
  if (!NAME.test(durable))
    throw new InputError(`'${durable}' is not a JetStream consumer name`, { field: "durable" });
  if (format.syntax !== "ndjson")
    throw new InputError(
      `${format.id} reads ${format.syntax} files; a stream's messages are one record each, which needs an ndjson format such as icl-json`,
      { field: "format" },
    );
  const stream = spec.stream;
  const subject = spec.subject;
  const ackWaitMs = options.ackWaitMs ?? NATS_ACK_WAIT_MS;
  const idleMs = spec.idleMs ?? options.idleMs ?? NATS_IDLE_MS;
  const stats = options.stats ?? liveStats;
  const location = `${target.address} stream ${stream} subject ${subject} durable ${durable}`;

  /** The stream's info; @throws InputError when it does not exist. */
  async function streamCreated(jsm: JetStreamManager): Promise<string> {
    try {
      return (await jsm.streams.info(stream)).created;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === STREAM_NOT_FOUND)
        throw new InputError(`stream ${stream} does not exist on ${target.address}`, { field: "stream" });
      throw unavailable(target, `reading stream ${stream}`, error);
    }
  }

  /**
   * The durable pull consumer, created when missing: explicit acks, every message of the subject
   * from the stream's start, the ack wait above, and room for the batches in flight.
   */
  async function ensureConsumer(jsm: JetStreamManager, batchRows: number): Promise<ConsumerInfo> {
    const maxAckPending = 4 * batchRows;
    let info: ConsumerInfo | null = null;
    try {
      info = await jsm.consumers.info(stream, durable);
    } catch (error) {
      if (!(error instanceof JetStreamApiError))
        throw unavailable(target, `reading consumer ${durable}`, error);
      if (error.code === STREAM_NOT_FOUND)
        throw new InputError(`stream ${stream} does not exist on ${target.address}`, { field: "stream" });
      if (error.code !== CONSUMER_NOT_FOUND) throw unavailable(target, `reading consumer ${durable}`, error);
    }
    if (info === null) {
      try {
        return await jsm.consumers.add(stream, {
          durable_name: durable,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          replay_policy: ReplayPolicy.Instant,
          filter_subject: subject,
          ack_wait: nanos(ackWaitMs),
          max_ack_pending: maxAckPending,
          max_deliver: -1,
        });
      } catch (error) {
        if (error instanceof JetStreamApiError)
          throw new InputError(`cannot create consumer ${durable} for ${subject} on stream ${stream}`, {
            field: "subject",
            details: error.message,
          });
        throw unavailable(target, `creating consumer ${durable}`, error);
      }
    }
    const config = info.config;
    const filters = config.filter_subjects ?? (config.filter_subject ? [config.filter_subject] : []);
    if (filters.length !== 1 || filters[0] !== subject || config.deliver_subject)
      throw new InputError(
        `consumer ${durable} of stream ${stream} is not a pull consumer of ${subject} (it filters ${filters.join(", ") || "everything"}); give another --durable`,
        { field: "durable" },
      );
    if (config.ack_policy !== AckPolicy.Explicit)
      throw new InputError(
        `consumer ${durable} of stream ${stream} does not use explicit acks; give another --durable`,
        {
          field: "durable",
        },
      );
    if (config.ack_wait !== nanos(ackWaitMs) || (config.max_ack_pending ?? 0) < maxAckPending) {
      try {
        info = await jsm.consumers.update(stream, durable, {
          ack_wait: nanos(ackWaitMs),
          max_ack_pending: Math.max(maxAckPending, config.max_ack_pending ?? 0),
        });
      } catch (error) {
        throw unavailable(target, `updating consumer ${durable}`, error);
      }
    }
    return info;
  }

  return {
    kind: "stream",
    name: subject,
    location,
    format,
    live: true,

    async identify() {
      const nc = await openConnection(target);
      try {
        const created = await streamCreated(await manager(nc, target));
        // The stream's creation time tells a stream deleted and made again (sequences restarting
        // at 1) from the one stored before: otherwise its new messages would look redelivered.
        const identity = crypto
          .createHash("sha256")
          .update(["nats", target.address, stream, subject, durable, created].join("\n"))
          .digest("hex");
        return { identity, byteSize: 0 };
      } finally {
        await nc.close().catch(() => undefined);
      }
    },

    async *batches(handler, _ingest, batchRows, signal) {
      const nc = await openConnection(target);
      let fetcher: NatsFetcher | null = null;
      const record = new MessageRecord();
      /** Stream sequences delivered to this run and not acknowledged yet. */
      const unacked = new Set<number>();
      /** Messages of yielded batches the handler still holds (a pairing format): acknowledged later. */
      let deferred: number[] = [];
      try {
        const jsm = await manager(nc, target);
        const info = await ensureConsumer(jsm, batchRows);
        stats.update(location, "stream", { lag: info.num_pending + info.num_ack_pending });
        // Messages a crashed run held come back once their ack wait ends; waiting for that first
        // stores them before newer ones, in stream order, as a file's lines would be.
        if (info.num_ack_pending > 0) await sleep(ackWaitMs, signal);
        try {
          fetcher = await NatsFetcher.start({
            servers: target.servers,
            user: target.user,
            pass: target.pass,
            token: target.token,
            stream,
            durable,
            ackWaitMs,
            fetchMs: FETCH_MS,
            connectTimeoutMs: CONNECT_TIMEOUT_MS,
          });
        } catch (failure) {
          throw failed(failure, "fetching");
        }
        const worker = fetcher;

        let lastPoll = Date.now();
        const poll = async (): Promise<ConsumerInfo> => {
          lastPoll = Date.now();
          try {
            const latest = await jsm.consumers.info(stream, durable);
            stats.update(location, "stream", { lag: latest.num_pending + latest.num_ack_pending });
            return latest;
          } catch (error) {
            throw unavailable(target, `reading consumer ${durable}`, error);
          }
        };
        const take = (rows: ParsedRow[], seqs: readonly number[]): SourceBatch => {
          const held = handler.lowestHeldLine?.() ?? null;
          const all = deferred.concat(seqs);
          const now = held === null ? all : all.filter((seq) => seq < held);
          deferred = held === null ? [] : all.filter((seq) => seq >= held);
          return {
            rows,
            // Streams never replay by line: a redelivery is recognised by the store, (ingest, line).
            consumedLine: 0,
            ack: async () => {
              try {
                worker.ack(now);
              } catch (failure) {
                throw failed(failure, "acknowledging a stored batch");
              }
              for (const seq of now) unacked.delete(seq);
              stats.update(location, "stream", { lastBatchAt: Date.now() });
            },
          };
        };
        const fetchNext = (): Promise<FetchedBatch> => {
          const fetching = worker.fetch(batchRows).then(
            (batch) => {
              for (const seq of batch.seqs) unacked.add(seq);
              return batch;
            },
            (failure: unknown) => {
              throw failed(failure, `fetching from consumer ${durable}`);
            },
          );
          fetching.catch(() => undefined); // awaited below; this only keeps an early return from leaving it unhandled
          return fetching;
        };

        let lastMessageAt = Date.now();
        let fetching: Promise<FetchedBatch> | null = signal?.aborted ? null : fetchNext();
        while (fetching !== null) {
          const { seqs, texts } = await fetching;
          fetching = null;
          if (Date.now() - lastPoll >= LAG_POLL_MS) await poll();
          const now = Date.now();
          if (seqs.length === 0) {
            if (signal?.aborted) break;
            if (spec.drain && now - lastMessageAt >= idleMs) {
              // Stop unless messages are out with another consumer of this durable (or a crashed
              // one, until their ack wait has surely ended).
              const latest = await poll();
              const elsewhere = latest.num_pending + latest.num_ack_pending - unacked.size;
              if (elsewhere <= 0 || now - lastMessageAt >= idleMs + ackWaitMs) break;
            }
            fetching = fetchNext();
            continue;
          }
          lastMessageAt = now;
          // The next batch comes over the network while this one is mediated and stored. Once
          // stopping, the fetch in flight is still taken in and stored: nothing is left delivered
          // and unacknowledged.
          if (!signal?.aborted) fetching = fetchNext();
          const rows: ParsedRow[] = [];
          for (let i = 0; i < seqs.length; i++) {
            record.set(seqs[i]!, texts[i]!);
            handler.record(record, rows);
          }
          stats.addMessages(location, "stream", seqs.length);
          yield take(rows, seqs);
        }
        const rows: ParsedRow[] = [];
        handler.flush(rows);
        if (rows.length > 0 || deferred.length > 0) yield take(rows, []);
        // The pipeline asks for the batch after this one only once every batch before it is stored
        // and acknowledged: then the connections can close.
        yield { rows: [], consumedLine: 0 };
      } finally {
        await fetcher?.close();
        await nc.close().catch(() => undefined);
      }
    },
  };

  /** The node's error for what went wrong in the fetch worker. */
  function failed(failure: unknown, doing: string): BaseError {
    const { kind, message } = failure as Partial<WorkerFailure>;
    if (kind === "stream")
      return new InputError(`the stream of consumer ${durable} no longer exists on ${target.address}`, {
        field: "stream",
      });
    return unavailable(target, doing, new Error(message ?? String(failure)));
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** `nats://` addresses: a JetStream stream's subject through a durable consumer. */
export const natsSourceKind: RemoteSourceKind = {
  schemes: ["nats"],
  describe:
    "nats://HOST:PORT --stream S --subject X [--durable D]: a NATS JetStream subject, one CDR per message",
  open: (spec) => natsSource(spec),
};
