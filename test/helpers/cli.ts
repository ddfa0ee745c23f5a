import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
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

/**
 * Lets a node's ingest take CDRs dated ahead of the machine's clock: the suites that settle on a
 * chain live in January 2030 (the chain's clock is moved past it), so the plausibility rule that
 * rejects calls starting in the future is turned off in the node's config.json.
 */
export function acceptFutureCdrs(dataDir: string): void {
  const file = path.join(dataDir, "config.json");
  const config = JSON.parse(fs.readFileSync(file, "utf8")) as {
    mediation?: { plausibility?: { rules?: Record<string, string> } };
  };
  config.mediation ??= {};
  config.mediation.plausibility ??= {};
  config.mediation.plausibility.rules = { ...config.mediation.plausibility.rules, start_in_future: "off" };
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
}
