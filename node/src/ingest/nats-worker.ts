/**
 * The network side of the JetStream source (nats-source.ts), on a worker thread of its own: it
 * fetches batches from the durable consumer, decodes them, keeps the delivered messages alive with
 * in-progress acks while the pipeline holds them, and acknowledges them when told the batch is
 * stored. The main thread mediates, rates and stores. Receiving and acknowledging tens of
 * thousands of messages a second (protocol parsing, message objects, ack publishes and their
 * garbage) otherwise took a quarter of the thread that also mediates, rates and, on PGlite, runs
 * the database; here it runs beside it.
 *
 * The main thread owns everything else (the consumer's creation, lag, the decision to stop) on its
 * own connection, and opens the worker with {@link NatsFetcher.start}.
 */
import { Worker, parentPort, workerData, type MessagePort } from "node:worker_threads";
import { connect } from "@nats-io/transport-node";
import { JetStreamApiError, jetstream, type Consumer, type JsMsg } from "@nats-io/jetstream";

/** What the worker connects with and reads. */
export interface NatsWorkerInit {
  servers: string;
  user?: string | undefined;
  pass?: string | undefined;
  token?: string | undefined;
  stream: string;
  durable: string;
  ackWaitMs: number;
  /** How long one fetch waits for a full batch, ms (the client's minimum is 1000). */
  fetchMs: number;
  connectTimeoutMs: number;
}

/** One fetch: stream sequences in increasing order and the messages' UTF-8 text. */
export interface FetchedBatch {
  seqs: number[];
  texts: string[];
}

/** Why the worker failed: the main thread turns it into the node's error for the place it knows. */
export interface WorkerFailure {
  /** `stream`: the stream is gone; `nats`: anything else about the server or the connection. */
  kind: "stream" | "nats";
  message: string;
}

type RequestBody = { type: "fetch"; max: number } | { type: "ack"; seqs: number[] } | { type: "close" };
type Request = RequestBody & { id: number };

type Reply =
  | { type: "ready" }
  | { type: "fetched"; id: number; batch: FetchedBatch }
  | { type: "done"; id: number }
  | { type: "failed"; id: number; failure: WorkerFailure };

const STREAM_NOT_FOUND = 10059;
/** What `JsMsg.ack()` and `JsMsg.working()` publish to a message's reply subject. */
const ACK = Uint8Array.of(43, 65, 67, 75); // +ACK
const WORKING = Uint8Array.of(43, 87, 80, 73); // +WPI

function failureOf(error: unknown): WorkerFailure {
  const message = error instanceof Error ? error.message : String(error);
  return {
    kind: error instanceof JetStreamApiError && error.code === STREAM_NOT_FOUND ? "stream" : "nats",
    message,
  };
}

/**
 * A message delivered to this run and not acknowledged yet: where its ack goes and when it arrived.
 * The client's message object is not kept (its payload holds the network buffer it was read into);
 * an ack is the `+ACK` `JsMsg.ack()` publishes to the reply subject. Where the client does not
 * show the subject, the message object is kept and acknowledges itself.
 */
interface Held {
  reply: string | null;
  msg: JsMsg | null;
  at: number;
}

async function serve(port: MessagePort, init: NatsWorkerInit): Promise<void> {
  const post = (reply: Reply) => port.postMessage(reply);
  let nc: Awaited<ReturnType<typeof connect>>;
  let consumer: Consumer;
  try {
    nc = await connect({
      servers: init.servers,
      user: init.user,
      pass: init.pass,
      token: init.token,
      timeout: init.connectTimeoutMs,
      name: "icl ingest (fetch)",
    });
    consumer = await jetstream(nc).consumers.get(init.stream, init.durable);
  } catch (error) {
    post({ type: "failed", id: 0, failure: failureOf(error) });
    return;
  }
  const held = new Map<number, Held>();
  // A batch held past a third of the ack wait (a slow store) is kept from being redelivered.
  const keepAlive = setInterval(
    () => {
      const old = Date.now() - init.ackWaitMs / 3;
      for (const h of held.values()) {
        if (h.at >= old) continue;
        if (h.reply !== null) nc.publish(h.reply, WORKING);
        else h.msg?.working();
      }
    },
    Math.max(init.ackWaitMs / 3, 100),
  );
  post({ type: "ready" });

  const fetch = async (max: number): Promise<FetchedBatch> => {
    const fresh: { seq: number; text: string }[] = [];
    const messages = await consumer.fetch({ max_messages: max, expires: init.fetchMs });
    for await (const msg of messages) {
      const seq = msg.seq;
      // Redelivered while this run still holds it (a batch held past the ack wait): taken once.
      if (held.has(seq)) continue;
      const reply = (msg as { reply?: unknown }).reply;
      held.set(
        seq,
        typeof reply === "string" && reply !== ""
          ? { reply, msg: null, at: Date.now() }
          : { reply: null, msg, at: Date.now() },
      );
      fresh.push({ seq, text: msg.string() });
    }
    // In stream order, as a file's lines: a redelivery is stored before what came after it.
    fresh.sort((a, b) => a.seq - b.seq);
    return { seqs: fresh.map((f) => f.seq), texts: fresh.map((f) => f.text) };
  };

  const ack = async (seqs: readonly number[]): Promise<void> => {
    for (const seq of seqs) {
      const h = held.get(seq);
      if (h === undefined) continue;
      held.delete(seq);
      if (h.reply !== null) nc.publish(h.reply, ACK);
      else h.msg?.ack();
    }
    // Once the server has read them: acks are fire-and-forget publishes.
    await nc.flush();
  };

  port.on("message", (request: Request) => {
    const work =
      request.type === "fetch"
        ? fetch(request.max).then((batch) => post({ type: "fetched", id: request.id, batch }))
        : request.type === "ack"
          ? ack(request.seqs).then(() => post({ type: "done", id: request.id }))
          : (async () => {
              clearInterval(keepAlive);
              // Every ack asked for before the close reaches the server first.
              await nc.flush().catch(() => undefined);
              await nc.close().catch(() => undefined);
              post({ type: "done", id: request.id });
              port.close();
            })();
    work.catch((error: unknown) => post({ type: "failed", id: request.id, failure: failureOf(error) }));
  });
}

if (parentPort && workerData && (workerData as { role?: string }).role === "icl-nats-worker") {
  void serve(parentPort, (workerData as { init: NatsWorkerInit }).init);
}

const BOOTSTRAP = `
const { workerData } = require("node:worker_threads");
if (workerData.loader) require(workerData.loader);
require(workerData.entry);
`;

/** The worker as the main thread sees it: fetch, ack, close, each answered in turn. */
export class NatsFetcher {
  private next = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (reply: Reply) => void; reject: (failure: WorkerFailure) => void }
  >();
  private ended: WorkerFailure | null = null;
  private readonly acks = new Set<Promise<void>>();

  private constructor(private readonly worker: Worker) {
    worker.on("message", (reply: Reply) => {
      if (reply.type === "ready") return;
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (reply.type === "failed") waiter?.reject(reply.failure);
      else waiter?.resolve(reply);
    });
    const end = (failure: WorkerFailure) => {
      this.ended = failure;
      for (const waiter of this.waiting.values()) waiter.reject(failure);
      this.waiting.clear();
    };
    worker.on("error", (error) =>
      end({ kind: "nats", message: `the fetch worker failed: ${error.message}` }),
    );
    worker.on("exit", () => end({ kind: "nats", message: "the fetch worker stopped" }));
  }

  /**
   * Starts the worker and resolves once it is connected and has the consumer.
   * @throws WorkerFailure (a plain object) when it cannot.
   */
  static start(init: NatsWorkerInit): Promise<NatsFetcher> {
    const entry = require.resolve("./nats-worker");
    const loader = entry.endsWith(".ts") ? require.resolve("sucrase/register/ts") : null;
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { role: "icl-nats-worker", entry, loader, init },
    });
    return new Promise((resolve, reject) => {
      const first = (reply: Reply) => {
        worker.off("message", first);
        worker.off("error", failed);
        if (reply.type === "ready") resolve(new NatsFetcher(worker));
        else {
          void worker.terminate();
          reject(reply.type === "failed" ? reply.failure : { kind: "nats", message: "unexpected reply" });
        }
      };
      const failed = (error: Error) => {
        worker.off("message", first);
        reject({
          kind: "nats",
          message: `the fetch worker failed: ${error.message}`,
        } satisfies WorkerFailure);
      };
      worker.on("message", first);
      worker.once("error", failed);
    });
  }

  private ask(request: RequestBody): Promise<Reply> {
    if (this.ended !== null) return Promise.reject(this.ended);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  /** Up to `max` messages not held yet: as many as the stream has at once, or what came within the fetch wait. */
  async fetch(max: number): Promise<FetchedBatch> {
    const reply = await this.ask({ type: "fetch", max });
    return reply.type === "fetched" ? reply.batch : { seqs: [], texts: [] };
  }

  /**
   * Acknowledges these messages without waiting for the server's receipt: an ack is a
   * fire-and-forget publish anyway, and one lost is a redelivery the store recognises. Waiting
   * would hold the store of the next batch behind a round trip through a busy worker. A failure is
   * reported by the next call, and {@link close} sends every ack asked for before closing.
   * @throws WorkerFailure when the worker has already failed.
   */
  ack(seqs: number[]): void {
    if (this.ended !== null) throw this.ended;
    const acking = this.ask({ type: "ack", seqs }).then(
      () => undefined,
      (failure: WorkerFailure) => {
        this.ended ??= failure;
      },
    );
    this.acks.add(acking);
    void acking.finally(() => this.acks.delete(acking));
  }

  /** Sends the acks asked for, closes the worker's connection and ends the thread (at once when it no longer answers). */
  async close(): Promise<void> {
    if (this.ended === null) {
      const closing = this.ask({ type: "close" }).catch(() => undefined);
      const timeout = new Promise((resolve) => setTimeout(resolve, 5_000).unref());
      await Promise.race([closing, timeout]);
    }
    await this.worker.terminate();
  }
}
