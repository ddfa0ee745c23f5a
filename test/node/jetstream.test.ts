/**
 * NATS JetStream end to end, through the `icl` command as a person runs it (test/helpers/nats.ts
 * says when a missing server skips and when it fails):
 * - chaos: 30 000 icl-json messages (invalid ones and re-sent duplicates among them) consumed by
 *   `icl ingest --from nats:// --drain`, SIGKILLed several times at random points and run again
 *   until it drains, give exactly the stats of a file ingest of the same CDRs;
 * - the errors of a missing stream (65) and an unreachable server (69);
 * - `icl run` with a `sources` entry consumes what is published while it runs, and stops cleanly.
 */
import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { freePort, scriptLedger, startHardhatNode, type HardhatNode } from "../helpers/hardhat";
import { generatedDeck, prng, writeIclCsv } from "../../scripts/lib/generate-cdrs";
import { icl, iclProcess } from "../helpers/cli";
import { databaseTargets, primaryTarget, tempDir } from "../helpers/databases";
import { KEY_PASSWORD, writeKeystore } from "../helpers/chain-node";
import { connectTestNats, createTestStream, NATS_URL, type NatsConnection } from "../helpers/nats";

/** Kills per database target: a few in `npm test`, ICL_CHAOS_KILLS (50 in `npm run test:chaos`) otherwise. */
const KILLS = Number(process.env.ICL_CHAOS_KILLS ?? 3);
const MESSAGES = 30_000;
const DURABLE = "icl-icl-json";

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

function stats(env: Record<string, string>) {
  const result = icl(["cdrs", "stats", "--json"], env);
  expect(result.code, result.stderr).to.equal(0);
  return JSON.parse(result.stdout) as Record<string, unknown> & {
    files: number;
    records: string;
    rated: string;
    unbilled: string;
    rejected_total: string;
  };
}

/**
 * `count` icl-json messages: the generator's imperfect traffic (duplicate ids with other content,
 * impossible dates, unratable numbers) as JSON objects, with messages that are not JSON, objects
 * missing a required key, and exact re-sends of an earlier message (a publisher's retry) mixed in.
 */
function cdrMessages(dir: string, count: number): string[] {
  const csv = path.join(dir, "generated.csv");
  writeIclCsv(csv, count, { seed: 11, imperfect: true });
  const [header, ...lines] = fs.readFileSync(csv, "utf8").trimEnd().split("\n");
  const columns = header!.split(",");
  const random = prng(5);
  const messages: string[] = [];
  for (const line of lines) {
    if (messages.length >= count) break;
    const values = line.split(",");
    const object = Object.fromEntries(columns.flatMap((c, i) => (values[i] ? [[c, values[i]]] : [])));
    messages.push(JSON.stringify(object));
    const r = random();
    if (messages.length >= count) break;
    if (r < 0.004) messages.push(`{"cdr_id": "broken-${messages.length}", `);
    else if (r < 0.007) messages.push(JSON.stringify({ ...object, b_number: undefined }));
    else if (r < 0.012) messages.push(messages[Math.floor(random() * messages.length)]!);
  }
  return messages;
}

/** Runs `icl ingest --from nats://…` and SIGKILLs it once `killWhen` says so; resolves to its exit code (null: killed). */
function ingestAndKill(
  env: Record<string, string>,
  args: string[],
  killWhen: () => Promise<boolean>,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = iclProcess(args, env);
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    let done = false;
    const watch = async () => {
      while (!done) {
        if (await killWhen()) {
          child.kill("SIGKILL");
          return;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    void watch();
    child.on("exit", (code) => {
      done = true;
      resolve({ code, stderr });
    });
  });
}

describe("JetStream through the icl command", function () {
  let nc: NatsConnection | null;
  let dir: string;
  let deck: string;

  before(async function () {
    nc = await connectTestNats();
    if (nc === null) return this.skip();
    dir = tempDir();
    deck = path.join(dir, "deck.csv");
    fs.writeFileSync(deck, generatedDeck());
  });
  after(async () => {
    await nc?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const target of databaseTargets()) {
    describe(`chaos: icl ingest --from nats:// killed with SIGKILL on ${target.name}`, function () {
      this.timeout(180_000 + KILLS * 40_000);
      after(() => target.cleanup());

      it(`stores ${MESSAGES} messages exactly once after ${KILLS} kill(s) and re-runs: the stats of a file ingest`, async () => {
        const messages = cdrMessages(dir, MESSAGES);
        expect(messages).to.have.length(MESSAGES);
        const file = path.join(dir, "same-cdrs.ndjson");
        fs.writeFileSync(file, messages.join("\n") + "\n");

        const fileNode = target.cliEnv().env;
        setUpNode(fileNode, deck);
        const fileRun = icl(["ingest", "--format", "icl-json", file], fileNode);
        expect(fileRun.code, fileRun.stderr).to.equal(0);
        const expected = stats(fileNode);
        expect(Number(expected.records)).to.equal(MESSAGES);

        const stream = await createTestStream(nc!);
        try {
          const seqs = await stream.publish(messages);
          const last = seqs.at(-1)!;
          const streamNode = target.cliEnv().env;
          setUpNode(streamNode, deck);
          const args = [
            "ingest",
            "--from",
            NATS_URL,
            "--stream",
            stream.name,
            "--subject",
            stream.subject,
            "--format",
            "icl-json",
            "--drain",
          ];
          const random = prng(Number(process.env.ICL_CHAOS_SEED ?? Date.now() % 100_000));
          const acked = async () => (await stream.consumer(DURABLE))?.ack_floor.stream_seq ?? 0;
          const midRun: number[] = [];
          for (let kill = 0; kill < KILLS; kill++) {
            const before = await acked();
            if (before >= last) break;
            // Every other kill lands as a batch is being acknowledged (stored, acks in flight);
            // the others at any moment of a run: the start, the wait for a killed run's messages
            // to come back (10 s), mediation, a store.
            const started = Date.now();
            const after = random() * 14_000;
            const outcome = await ingestAndKill(streamNode, args, async () =>
              kill % 2 === 0 ? (await acked()) > before : Date.now() - started > after,
            );
            if (outcome.code !== null) {
              expect(outcome.code, outcome.stderr).to.equal(0);
              break;
            }
            const stored = Number(stats(streamNode).records);
            if (stored > 0 && stored < MESSAGES) midRun.push(stored);
          }
          const finalRun = icl(args, streamNode);
          expect(finalRun.code, finalRun.stderr).to.equal(0);

          const got = stats(streamNode);
          expect(Number(got.records)).to.equal(MESSAGES);
          expect(Number(got.rated) + Number(got.unbilled) + Number(got.rejected_total)).to.equal(MESSAGES);
          const { files: _f1, ...gotRest } = got;
          const { files: _f2, ...expectedRest } = expected;
          expect(gotRest).to.deep.equal(expectedRest);
          expect(
            (expected.rejected as Record<string, string>).DUPLICATE,
            "duplicates in the mix",
          ).to.not.equal(undefined);
          expect(Number((expected.rejected as Record<string, string>).INVALID)).to.be.greaterThan(100);
          // At least one kill must have landed with part of the stream stored for the test to mean anything.
          expect(midRun.length, "kills that landed mid-run").to.be.greaterThan(0);
          const consumer = await stream.consumer(DURABLE);
          expect(consumer).to.deep.include({ num_pending: 0, num_ack_pending: 0 });
          expect(consumer!.ack_floor.stream_seq).to.equal(last);
        } finally {
          await stream.delete();
        }
      });
    });
  }

  describe(`icl ingest --from nats:// errors and icl run on ${primaryTarget().name}`, function () {
    this.timeout(180_000);
    const target = primaryTarget();
    after(() => target.cleanup());

    it("exits 65 naming a missing stream and 69 naming an unreachable server", async () => {
      const env = target.cliEnv().env;
      expect(icl(["init"], env).code).to.equal(0);
      const missing = icl(
        [
          "ingest",
          "--from",
          NATS_URL,
          "--stream",
          "ICL_NO_SUCH_STREAM",
          "--subject",
          "x.y",
          "--format",
          "icl-json",
        ],
        env,
      );
      expect(missing.code, missing.stderr).to.equal(65);
      expect(missing.stderr).to.contain(`stream ICL_NO_SUCH_STREAM does not exist on ${NATS_URL}`);
      const port = await freePort();
      const unreachable = icl(
        [
          "ingest",
          "--from",
          `nats://icl:secret@127.0.0.1:${port}`,
          "--stream",
          "S",
          "--subject",
          "x.y",
          "--format",
          "icl-json",
        ],
        env,
      );
      expect(unreachable.code, unreachable.stderr).to.equal(69);
      expect(unreachable.stderr).to.contain(`cannot reach NATS at nats://127.0.0.1:${port}`);
      expect(unreachable.stderr).to.not.contain("secret");
      const csv = icl(
        ["ingest", "--from", NATS_URL, "--stream", "S", "--subject", "x.y", "--format", "icl-csv"],
        env,
      );
      expect(csv.code, csv.stderr).to.equal(65);
      expect(csv.stderr).to.contain("needs an ndjson format");
    });

    describe("icl run", function () {
      let chain: HardhatNode;
      before(async () => {
        chain = await startHardhatNode();
      });
      after(async () => {
        await chain?.stop();
      });

      it("consumes a configured JetStream source while it runs and stops cleanly on SIGTERM", async () => {
        const fx = await scriptLedger(chain.provider);
        const cli = target.cliEnv();
        const env = { ...cli.env, ICL_KEY_PASSWORD: KEY_PASSWORD };
        fs.writeFileSync(
          path.join(cli.dataDir, "deployment.json"),
          JSON.stringify({
            network: "hardhat",
            chainId: 31337,
            deployBlock: fx.addresses.deployBlock,
            deployer: fx.admin.address,
            contracts: {
              CarrierRegistry: fx.addresses.registry,
              AgreementBook: fx.addresses.book,
              SettlementLedger: fx.addresses.ledger,
            },
            token: { address: fx.deployment.tokenAddress, symbol: "ICUSD", decimals: 6, demo: true },
          }),
        );
        await writeKeystore(path.join(cli.dataDir, "node-key.json"), fx.nodeA);
        setUpNode(env, deck);
        const stream = await createTestStream(nc!);
        try {
          const configFile = path.join(cli.dataDir, "config.json");
          const config = JSON.parse(fs.readFileSync(configFile, "utf8"));
          config.chain = { rpcUrl: chain.url, deployment: "deployment.json", keystore: "node-key.json" };
          config.peer = { pollMs: 500 };
          config.sources = [
            { kind: "nats", url: NATS_URL, stream: stream.name, subject: stream.subject, format: "icl-json" },
          ];
          fs.writeFileSync(configFile, JSON.stringify(config));

          const node = iclProcess(["run", "--listen", `127.0.0.1:${await freePort()}`], env);
          let log = "";
          node.stderr.on("data", (chunk: Buffer) => (log += chunk.toString()));
          const exited = new Promise<number | null>((resolve) => node.on("exit", resolve));
          try {
            for (let i = 0; i < 300 && !log.includes("icl node running"); i++)
              await new Promise((r) => setTimeout(r, 100));
            expect(log).to.contain("consuming 1 source");
            const messages = cdrMessages(dir, 500);
            const seqs = await stream.publish(messages.slice(0, 300));
            await new Promise((r) => setTimeout(r, 500));
            seqs.push(...(await stream.publish(messages.slice(300))));
            let floor = 0;
            for (let i = 0; i < 300 && floor < seqs.at(-1)!; i++) {
              floor = (await stream.consumer(DURABLE))?.ack_floor.stream_seq ?? 0;
              if (floor < seqs.at(-1)!) await new Promise((r) => setTimeout(r, 100));
            }
            expect(floor, log).to.equal(seqs.at(-1));
          } finally {
            node.kill("SIGTERM");
          }
          expect(await exited, log).to.equal(0);
          const got = stats(env);
          expect(Number(got.records)).to.equal(500);
          expect(got.files).to.equal(1);
          const files = icl(["files", "list", "--json"], env);
          expect(files.code, files.stderr).to.equal(0);
          expect(files.stdout).to.contain(`stream ${stream.name} subject ${stream.subject}`);
        } finally {
          await stream.delete();
        }
      });
    });
  });
});
