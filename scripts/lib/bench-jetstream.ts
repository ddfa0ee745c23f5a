/**
 * The JetStream part of `npm run bench`: the benchmark's CDRs as icl-json messages on a stream of
 * their own, and `icl ingest --from nats://… --drain` timed until the consumer has every message
 * acknowledged (stored), so the drain's closing idle wait is not counted.
 */
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import readline from "node:readline";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";

type NatsConnection = Awaited<ReturnType<typeof connect>>;

/** Writes the icl-csv file `csv` as icl-json (one object per line, empty columns left out). */
export async function writeIclJsonFromCsv(csv: string, json: string): Promise<void> {
  const out = fs.createWriteStream(json);
  let columns: string[] | null = null;
  let buffer = "";
  for await (const line of readline.createInterface({
    input: fs.createReadStream(csv),
    crlfDelay: Infinity,
  })) {
    if (line === "") continue;
    const values = line.split(",");
    if (columns === null) {
      columns = values;
      continue;
    }
    const object: Record<string, string> = {};
    for (let i = 0; i < columns.length; i++) if (values[i]) object[columns[i]!] = values[i]!;
    buffer += JSON.stringify(object) + "\n";
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
      buffer = "";
    }
  }
  out.end(buffer);
  await new Promise<void>((resolve, reject) => out.on("finish", () => resolve()).on("error", reject));
}

/** The NATS server of the benchmark, or null when none answers (the part is skipped). */
export async function connectBenchNats(url: string): Promise<NatsConnection | null> {
  try {
    return await connect({ servers: url.replace(/^nats:\/\//, ""), timeout: 2_000 });
  } catch {
    return null;
  }
}

export interface BenchStream {
  name: string;
  subject: string;
  /** Stream sequence of the last message. */
  last: number;
  /** Seconds the publishing took, until the stream held every message. */
  publishSeconds: number;
  delete(): Promise<void>;
}

/** A stream of its own holding every line of `file` as one message, in order. */
export async function publishFile(nc: NatsConnection, file: string, count: number): Promise<BenchStream> {
  const jsm = await jetstreamManager(nc);
  const name = `ICL_BENCH_${crypto.randomBytes(4).toString("hex")}`;
  const subject = `${name}.cdrs`;
  await jsm.streams.add({ name, subjects: [`${name}.>`] });
  const started = process.hrtime.bigint();
  let sent = 0;
  // Plain publishes with a flush every few thousand: the server keeps up, and the stream's
  // message count below proves that none was lost.
  for await (const line of readline.createInterface({
    input: fs.createReadStream(file),
    crlfDelay: Infinity,
  })) {
    if (line === "") continue;
    nc.publish(subject, line);
    if (++sent % 5_000 === 0) await nc.flush();
  }
  await nc.flush();
  const last = await settle(jsm, name, count);
  return {
    name,
    subject,
    last,
    publishSeconds: Number(process.hrtime.bigint() - started) / 1e9,
    delete: async () => {
      await jsm.streams.delete(name).catch(() => undefined);
    },
  };
}

async function settle(jsm: JetStreamManager, stream: string, count: number): Promise<number> {
  let seen = -1;
  let since = Date.now();
  for (;;) {
    const { state } = await jsm.streams.info(stream);
    if (state.messages >= count) return state.last_seq;
    if (state.messages !== seen) [seen, since] = [state.messages, Date.now()];
    else if (Date.now() - since > 10_000)
      throw new Error(`stream ${stream} holds ${state.messages} of ${count} messages published`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface ConsumedRun {
  /** From the start of the command until the consumer had every message acknowledged. */
  seconds: number;
  maxRssMb: number;
  stdout: string;
}

/**
 * Runs `command args` (an `icl ingest --from nats://… --drain`) and times it until `durable` of
 * `stream` has acknowledged sequence `last`; then waits for it to drain and exit.
 * @throws when it fails or exits before everything was acknowledged.
 */
export async function runUntilConsumed(
  nc: NatsConnection,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  target: { stream: string; durable: string; last: number },
): Promise<ConsumedRun> {
  const jsm = await jetstreamManager(nc);
  const started = process.hrtime.bigint();
  const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (c) => {
      code = c;
      resolve(c);
    }),
  );
  let seconds = NaN;
  while (code === undefined) {
    const info = await jsm.consumers.info(target.stream, target.durable).catch(() => null);
    if (info !== null && info.ack_floor.stream_seq >= target.last) {
      seconds = Number(process.hrtime.bigint() - started) / 1e9;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const exitCode = await exited;
  if (exitCode !== 0 || Number.isNaN(seconds))
    throw new Error(`${command} ${args.join(" ")} failed (${exitCode}):\n${stderr}`);
  const rss = /icl-max-rss-kb=(\d+)/.exec(stderr);
  return { seconds, maxRssMb: rss ? Number(rss[1]) / 1024 : NaN, stdout };
}
