/**
 * The `icl` command as separate processes, for scripts that drive carrier nodes from outside as their
 * operators and officers would: one-shot commands (`icl init`, `icl ingest`, `icl officer approve`…) and
 * a long-running `icl run` that can be waited for, stopped, killed (SIGKILL) and started again from the
 * same data directory. bin/icl.js runs the compiled CLI when dist/ is current, else the sources.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const ICL = path.join(ROOT, "bin", "icl.js");

/** What one `icl` command printed. */
export interface IclOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Environment of one node's commands: its data directory and its key's password, and whose key signs. */
export type IclEnv = Record<string, string>;

/**
 * Runs `icl args…` with `env` added to this process's environment and resolves with its output.
 * @throws Error naming the command and quoting its stderr when it exits with a code other than `expect`.
 */
export async function icl(
  args: readonly string[],
  env: IclEnv,
  expect: number | null = 0,
): Promise<IclOutput> {
  const child = spawn(process.execPath, [ICL, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, FORCE_COLOR: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout!.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk));
  const code = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (status) => resolve(status ?? -1));
  });
  const output = { code, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() };
  if (expect !== null && code !== expect) {
    throw new Error(`icl ${args.join(" ")} exited with ${code}:\n${output.stderr.trim()}`);
  }
  return output;
}

/** `icl … --json`, parsed. @throws Error as {@link icl} does, or when stdout is not JSON. */
export async function iclJson<T = Record<string, unknown>>(args: readonly string[], env: IclEnv): Promise<T> {
  const { stdout } = await icl([...args, "--json"], env);
  return JSON.parse(stdout) as T;
}

/** A running `icl run`, its output appended to `<data dir>/icl-run.log`. */
export interface IclRun {
  /** The gateway's base URL (peer protocol, API, console). */
  readonly url: string;
  /** The operating system's process id of the current run. */
  readonly pid: number;
  /** Stops it as Ctrl-C would (SIGTERM) and waits for it to exit; idempotent. */
  stop(): Promise<void>;
  /** Kills it outright (SIGKILL): no clean-up, as a crash or `kill -9` would. */
  kill(): Promise<void>;
  /** Starts it again from the same data directory, on the same address, once stopped or killed. */
  restart(): Promise<void>;
}

/**
 * Starts `icl run --listen 127.0.0.1:<port>` with `env` and waits (up to `timeoutMs`) until its
 * gateway answers `/healthz`.
 * @throws Error with the end of its log when it exits or does not answer in time.
 */
export async function startIclRun(
  env: IclEnv & { ICL_DATA_DIR: string },
  port: number,
  timeoutMs = 60_000,
): Promise<IclRun> {
  const url = `http://127.0.0.1:${port}`;
  const log = path.join(env.ICL_DATA_DIR, "icl-run.log");
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const launch = async () => {
    const out = fs.openSync(log, "a");
    const started = spawn(process.execPath, [ICL, "run", "--listen", `127.0.0.1:${port}`], {
      cwd: ROOT,
      env: { ...process.env, ...env, FORCE_COLOR: "0" },
      stdio: ["ignore", out, out],
    });
    fs.closeSync(out);
    child = started;
    let gone = false;
    exited = new Promise((resolve) =>
      started.once("exit", () => {
        gone = true;
        resolve();
      }),
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (gone) throw new Error(`icl run exited before its gateway answered:\n${tail(log)}`);
      if (await answers(`${url}/healthz`)) return;
      if (Date.now() > deadline) {
        started.kill("SIGKILL");
        throw new Error(`icl run did not answer on ${url} within ${timeoutMs} ms:\n${tail(log)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const signal = async (name: NodeJS.Signals) => {
    const running = child;
    if (running === null) return;
    child = null;
    running.kill(name);
    const late = setTimeout(() => running.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(late);
  };
  await launch();
  return {
    url,
    get pid() {
      return (child as ChildProcess | null)?.pid ?? -1;
    },
    stop: () => signal("SIGTERM"),
    kill: () => signal("SIGKILL"),
    async restart() {
      if (child !== null) throw new Error("icl run is still running: stop or kill it first");
      await launch();
    },
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-20).join("\n");
  } catch {
    return "(no log)";
  }
}
