/**
 * Anvil as a second chain backend: a chain process that can be SIGKILLed and started again from the
 * state it dumped, which Hardhat 2 cannot do. The binary comes from the npm package
 * `@foundry-rs/anvil-linux-amd64` (an optional dependency: Linux x64 only; nothing is downloaded).
 *
 * Anvil runs with Hardhat's accounts (the same mnemonic, 20 of them) and chain id, on 127.0.0.1, and
 * dumps its whole state to `<stateDir>/state.json` every `stateIntervalSeconds` and on a clean exit
 * (`--state`, `--state-interval`). After a SIGKILL, `restart()` starts it on the same port from that
 * file: what was mined after the last dump is gone, as after any crash of a node that writes
 * periodically, and the nodes must find their way from there.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { JsonRpcProvider, Network } from "ethers";
import { freePort, MNEMONIC, type HardhatNode } from "./hardhat-node";

/**
 * The dump keeps the blocks but not the offset the clock was moved by (`evm_increaseTime`, the
 * demo's and the tests' way to pass windows): restarted, Anvil would stamp the next block with the
 * wall clock, before the last one. Moving the clock to just after the last block keeps chain time
 * monotonic, as it is on a real chain.
 */
async function keepClock(provider: JsonRpcProvider): Promise<void> {
  const latest = await provider.getBlock("latest");
  const now = Math.floor(Date.now() / 1000);
  if (latest !== null && latest.timestamp >= now) {
    await provider.send("evm_increaseTime", [latest.timestamp - now + 1]);
  }
}

/** The Anvil binary the npm package ships, or null where it is not installed (another platform). */
export function anvilBinary(): string | null {
  try {
    const manifest = require.resolve("@foundry-rs/anvil-linux-amd64/package.json");
    const binary = path.join(path.dirname(manifest), "bin", "anvil");
    return fs.existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

export interface AnvilNode extends HardhatNode {
  /** Where Anvil keeps its state between runs. */
  readonly statePath: string;
  /**
   * Resolves once Anvil wrote its state file after this call (within two intervals): what was mined
   * before the call survives a kill from then on, and what is mined in the next interval does not.
   * @throws Error when no dump comes.
   */
  waitForDump(): Promise<void>;
  /** Ends the process with SIGKILL: no last dump. */
  kill(): Promise<void>;
  /** Starts Anvil again on the same port from the state it last dumped. */
  restart(): Promise<void>;
}

/**
 * Starts Anvil on a free port of 127.0.0.1 with its state in `stateDir` and waits until it answers.
 * @throws Error when the binary is not installed or Anvil does not start.
 */
export async function startAnvilNode(options: {
  stateDir: string;
  stateIntervalSeconds?: number;
}): Promise<AnvilNode> {
  const binary = anvilBinary();
  if (binary === null) {
    throw new Error("Anvil is not installed: npm installs @foundry-rs/anvil-linux-amd64 on Linux x64 only");
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const statePath = path.join(options.stateDir, "state.json");
  fs.mkdirSync(options.stateDir, { recursive: true });
  const args = [
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--accounts",
    "20",
    "--mnemonic",
    MNEMONIC,
    "--chain-id",
    "31337",
    "--state",
    statePath,
    "--state-interval",
    String(options.stateIntervalSeconds ?? 1),
  ];
  const provider = new JsonRpcProvider(url, Network.from(31337), { staticNetwork: true });
  let child: ChildProcess | null = null;
  let stderr = "";
  const orphaned = () => child?.kill("SIGKILL");
  process.once("exit", orphaned);

  const exited = (process_: ChildProcess) =>
    process_.exitCode !== null || process_.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => process_.once("exit", () => resolve()));
  const end = async (signal: NodeJS.Signals) => {
    const running = child;
    if (running === null) return;
    child = null;
    const done = exited(running);
    running.kill(signal);
    await done;
  };
  const launch = async () => {
    stderr = "";
    const started = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
    started.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child = started;
    for (let attempt = 0; attempt < 150; attempt++) {
      if (started.exitCode !== null) throw new Error(`anvil exited: ${stderr}`);
      try {
        const answer = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
        });
        if (answer.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await end("SIGKILL");
    throw new Error(`anvil did not start on ${url}: ${stderr}`);
  };

  await launch();
  return {
    url,
    port,
    provider,
    statePath,
    waitForDump: async () => {
      const since = Date.now();
      const intervalMs = 1_000 * (options.stateIntervalSeconds ?? 1);
      // mtime has a coarse grain on some file systems: a dump counts when written clearly after `since`.
      const dumped = () => fs.existsSync(statePath) && fs.statSync(statePath).mtimeMs > since + 20;
      for (const deadline = since + 2 * intervalMs + 1_000; !dumped();) {
        if (Date.now() > deadline) throw new Error(`anvil wrote no state to ${statePath} since ${since}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    kill: () => end("SIGKILL"),
    restart: async () => {
      await end("SIGKILL");
      await launch();
      await keepClock(provider);
    },
    stop: async () => {
      process.removeListener("exit", orphaned);
      provider.destroy();
      await end("SIGTERM");
    },
  };
}
