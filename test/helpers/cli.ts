import { spawn, spawnSync } from "node:child_process";
import path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
const ICL = path.join(REPO_ROOT, "bin", "icl.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `icl` from the TypeScript sources (never a stale dist/) as a separate process. */
export function icl(args: readonly string[], env: Record<string, string> = {}, cwd = REPO_ROOT): CliResult {
  const result = spawnSync(process.execPath, [ICL, ...args], {
    cwd,
    env: { ...process.env, ...env, ICL_FROM_SOURCE: "1", FORCE_COLOR: "0" },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Starts `icl` without waiting; for tests that kill it. */
export function iclProcess(args: readonly string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, [ICL, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, ICL_FROM_SOURCE: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
}
