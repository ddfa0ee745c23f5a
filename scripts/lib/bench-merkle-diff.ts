/**
 * What finding the differences between two usage summaries costs on the wire: two trees of
 * `leaves` realistic leaves that differ in `differing` of them (changed, deleted and inserted in
 * turn), diffed against an in-memory "remote" that serves `children(path)`, next to the size of
 * sending every leaf instead. Deterministic: the same arguments give the same figures.
 */
import { locateDifferences } from "../../node/src/summaries/diff";
import { encodeLeaf, periodSalt, type UsageLeaf } from "../../node/src/summaries/encoding";
import { MerkleTree } from "../../node/src/summaries/merkle-tree";

export interface MerkleDiffFigures {
  leaves: number;
  differing: number;
  /** Hashes the remote sent. */
  diff_hashes: number;
  /** Hash bytes plus leaf bytes the remote sent. */
  diff_bytes: number;
  /** Levels of requests (one message each way when a level is batched). */
  diff_round_trips: number;
  /** Key and value bytes of every remote leaf: the cost of sending the whole summary. */
  all_leaves_bytes: number;
}

const FIRST_DAY = 20_727; // 2026-10-01
const SERVICES = ["voice", "sms", "data"] as const;

function leaf(i: number): UsageLeaf {
  // 31 days × 2 directions × 3 services per destination, as a month of a large agreement looks.
  return {
    direction: i % 2 === 0 ? "AB" : "BA",
    service: SERVICES[Math.floor(i / 2) % 3]!,
    destination: `Destination ${Math.floor(i / 186)} Mobile`,
    day: FIRST_DAY + (Math.floor(i / 6) % 31),
    records: BigInt(1 + (i % 97)),
    billed: BigInt(60 * (1 + (i % 97))),
    amount: BigInt(1_000 + i * 7),
  };
}

/**
 * Builds both trees and diffs them.
 * @throws Error when the diff does not find exactly the `differing` leaves (a bug, not a figure).
 */
export async function measureMerkleDiff(leaves = 100_000, differing = 10): Promise<MerkleDiffFigures> {
  if (differing > leaves) throw new Error("cannot differ in more leaves than there are");
  const salt = periodSalt(Buffer.alloc(32, 7), "0x" + "11".repeat(32), 202610);
  const local = Array.from({ length: leaves }, (_, i) => leaf(i));
  const remote: (UsageLeaf | null)[] = [...local];
  const step = Math.max(1, Math.floor(leaves / Math.max(1, differing)));
  for (let d = 0; d < differing; d++) {
    const i = d * step;
    if (d % 3 === 0) remote[i] = { ...local[i]!, amount: local[i]!.amount + 1n };
    else if (d % 3 === 1) remote[i] = null;
    else remote.push(leaf(leaves + d));
  }
  const remoteLeaves = remote.filter((x): x is UsageLeaf => x !== null);
  const localTree = MerkleTree.build(local.map(encodeLeaf), salt);
  const remoteTree = MerkleTree.build(remoteLeaves.map(encodeLeaf), salt);
  const { differences, stats } = await locateDifferences(
    localTree,
    { children: (path) => Promise.resolve(remoteTree.children(path)) },
    { remoteRoot: remoteTree.root },
  );
  if (differences.length !== differing) {
    throw new Error(`the diff found ${differences.length} differences, not ${differing}`);
  }
  let allLeavesBytes = 0;
  for (const entry of remoteTree.leaves()) allLeavesBytes += entry.key.length + entry.value.length;
  return {
    leaves,
    differing,
    diff_hashes: stats.hashes,
    diff_bytes: stats.bytes,
    diff_round_trips: stats.roundTrips,
    all_leaves_bytes: allLeavesBytes,
  };
}
