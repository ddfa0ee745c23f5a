/**
 * `/readyz`: whether this node can do its work now. The database answers (`node.ping()`); the chain node
 * answers `eth_blockNumber` (when the gateway has a chain client); the evidence store answers (when
 * it is a Kubo node: the local store is the data directory, already covered by the process being up).
 * Each check has a time limit, so a hung dependency makes the probe fail rather than hang.
 */
import type { ChainClient } from "../../../node/src/chain/client";
import { rawBlockCid } from "../../../node/src/evidence/cid";
import type { CarrierNode } from "../../../node/src/node";

export const CHECK_TIMEOUT_MS = 3_000;
/** The CID of the empty block: asking whether the store has it is a harmless round trip. */
const PROBE_CID = rawBlockCid(new Uint8Array(0));

export type CheckStatus = "ok" | "failed" | "skipped";
export interface Readiness {
  status: "ready" | "unavailable";
  checks: Record<string, { status: CheckStatus; ms?: number }>;
}

async function timed(
  work: () => Promise<unknown>,
  timeoutMs: number,
): Promise<{ status: CheckStatus; ms: number }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("timed out")), timeoutMs);
      }),
    ]);
    return { status: "ok", ms: Math.round(performance.now() - started) };
  } catch {
    return { status: "failed", ms: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the checks in parallel; ready when none failed. Failures are named, never explained (no URLs or errors). */
export async function checkReadiness(
  node: CarrierNode | null,
  chain: ChainClient | null,
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<Readiness> {
  const skipped = async () => ({ status: "skipped" as const });
  const [database, chainCheck, evidence] = await Promise.all([
    node === null ? skipped() : timed(() => node.ping(), timeoutMs),
    chain === null ? skipped() : timed(() => chain.provider.send("eth_blockNumber", []), timeoutMs),
    node === null || node.config.config.ipfs.apiUrl === undefined
      ? skipped()
      : timed(() => node.evidence.has(PROBE_CID), timeoutMs),
  ]);
  // Without a node there is nothing to serve: not ready.
  const checks = {
    database: node === null ? { status: "failed" as const } : database,
    chain: chainCheck,
    evidence,
  };
  const ready = Object.values(checks).every((c) => c.status !== "failed");
  return { status: ready ? "ready" : "unavailable", checks };
}
