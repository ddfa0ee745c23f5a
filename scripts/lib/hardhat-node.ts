/**
 * A Hardhat JSON-RPC node as the demo and the tests run it: `hardhat node` on a free port of
 * 127.0.0.1, Hardhat's default accounts as wallets (public test keys: never use them elsewhere), the
 * demo's first period and the chain clock moved to a period's commit window.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { HDNodeWallet, JsonRpcProvider, Network, Wallet } from "ethers";
import { periodEnd } from "../../node/src/protocol";

/** The first period of the demo and of the chain tests' scripted ledger: January 2030. */
export const PERIOD = 203001;

const ROOT = path.resolve(__dirname, "../..");
/** Hardhat's default mnemonic: public test keys, never for anything of value. */
export const MNEMONIC = "test test test test test test test test test test test junk";

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

export interface HardhatNode {
  url: string;
  port: number;
  /** A provider straight to the node (no proxy), for setup and assertions. */
  provider: JsonRpcProvider;
  stop(): Promise<void>;
}

/** Starts `hardhat node` on a free port and waits until it answers. */
export async function startHardhatNode(): Promise<HardhatNode> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      path.join(ROOT, "node_modules/hardhat/internal/cli/cli.js"),
      "node",
      "--hostname",
      "127.0.0.1",
      "--port",
      String(port),
    ],
    { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const provider = new JsonRpcProvider(url, Network.from(31337), { staticNetwork: true });
  // Whatever ends this process (an error, Ctrl-C, a closed pipe), the chain goes with it.
  const orphaned = () => child.kill("SIGTERM");
  process.once("exit", orphaned);
  const stop = async () => {
    process.removeListener("exit", orphaned);
    provider.destroy();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
  };
  for (let attempt = 0; attempt < 150; attempt++) {
    if (child.exitCode !== null) throw new Error(`hardhat node exited: ${stderr}`);
    try {
      await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      return { url, port, provider, stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  await stop();
  throw new Error(`hardhat node did not start on ${url}: ${stderr}`);
}

/** Hardhat's default account `index` as a wallet, connected to `provider` when given. */
export function hardhatWallet(index: number, provider?: JsonRpcProvider): Wallet {
  const hd = HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`);
  return new Wallet(hd.privateKey, provider);
}

/** Mines a block a minute after `period` ended: its commit window is open. */
export async function openCommitWindow(provider: JsonRpcProvider, period: number): Promise<void> {
  await setNextTimestamp(provider, periodEnd(period) + 60);
  await provider.send("evm_mine", []);
}

export async function setNextTimestamp(provider: JsonRpcProvider, seconds: number): Promise<void> {
  const latest = await provider.getBlock("latest");
  if (latest !== null && latest.timestamp < seconds)
    await provider.send("evm_setNextBlockTimestamp", [seconds]);
}
