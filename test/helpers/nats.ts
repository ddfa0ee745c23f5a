/**
 * The NATS JetStream server the JetStream suites use (127.0.0.1:4222, or ICL_NATS_URL): a stream
 * per test with a unique name, deleted after; publishing; a consumer's state. Without a server the
 * suites skip with a loud notice, except where ICL_REQUIRE_NATS=1 (set by .ci/run, which starts
 * the server) or CI is set: there a missing server fails them.
 */
import crypto from "node:crypto";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type ConsumerInfo } from "@nats-io/jetstream";

export type NatsConnection = Awaited<ReturnType<typeof connect>>;

export const NATS_URL = process.env.ICL_NATS_URL ?? "nats://127.0.0.1:4222";

/** Whether a missing server fails the suites instead of skipping them. */
function natsRequired(): boolean {
  return process.env.ICL_REQUIRE_NATS === "1" || (process.env.CI ?? "") !== "";
}

/**
 * A connection to the test server, or null after printing a loud notice when there is none and it
 * is not required (the caller skips).
 * @throws when there is no server and ICL_REQUIRE_NATS=1 or CI is set.
 */
export async function connectTestNats(): Promise<NatsConnection | null> {
  try {
    return await connect({ servers: NATS_URL.replace(/^nats:\/\//, ""), timeout: 3_000 });
  } catch (error) {
    const why = `no NATS server answers at ${NATS_URL} (${(error as Error).message})`;
    if (natsRequired()) throw new Error(`${why}; ICL_REQUIRE_NATS/CI requires one (.ci/run starts it)`);
    const line = "!".repeat(100);
    process.stderr.write(
      `\n${line}\n!!! JETSTREAM TESTS SKIPPED: ${why}. Start one: start-stop-daemon --start --oknodo ` +
        `--background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server\n${line}\n`,
    );
    return null;
  }
}

/** A stream of its own for one test: `<prefix>_<random>` capturing `<name>.>`. */
export interface TestStream {
  name: string;
  /** The subject CDRs are published on: `<name>.cdrs`. */
  subject: string;
  /** Publishes each text as one message, in order; resolves to their stream sequences. */
  publish(messages: readonly string[]): Promise<number[]>;
  /** The durable consumer's state, null when it does not exist. */
  consumer(durable: string): Promise<ConsumerInfo | null>;
  delete(): Promise<void>;
}

export async function createTestStream(nc: NatsConnection, prefix = "ICL_TEST"): Promise<TestStream> {
  const jsm = await jetstreamManager(nc);
  const name = `${prefix}_${process.pid}_${crypto.randomBytes(4).toString("hex")}`;
  await jsm.streams.add({ name, subjects: [`${name}.>`] });
  const js = jetstream(nc);
  const subject = `${name}.cdrs`;
  return {
    name,
    subject,
    async publish(messages) {
      const seqs: number[] = [];
      // A window of unacknowledged publishes: fast, and the stream keeps their order.
      for (let i = 0; i < messages.length; i += 2_000) {
        const acks = await Promise.all(messages.slice(i, i + 2_000).map((text) => js.publish(subject, text)));
        seqs.push(...acks.map((ack) => ack.seq));
      }
      return seqs;
    },
    async consumer(durable) {
      try {
        return await jsm.consumers.info(name, durable);
      } catch {
        return null;
      }
    },
    async delete() {
      await jsm.streams.delete(name).catch(() => undefined);
    },
  };
}
