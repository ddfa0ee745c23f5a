import { BaseError } from "../errors";
import { HASH_BYTES, TREE_DEPTH, toHex } from "./hashing";
import type { MerkleTree, NodeView, TreePath } from "./merkle-tree";

/** The other node's tree as the diff sees it: one call per position (a transport batches a level). */
export interface RemoteTree {
  children(path: TreePath): Promise<NodeView>;
}

/** A key whose value differs; `null` on the side that has no such leaf. */
export interface LeafDifference {
  key: Uint8Array;
  local: Uint8Array | null;
  remote: Uint8Array | null;
}

export interface DiffStats {
  /** Positions asked for. */
  requests: number;
  /** Levels of requests: each is one message each way when a transport batches a level. */
  roundTrips: number;
  /** Child hashes received. */
  hashes: number;
  /** Leaves received. */
  leaves: number;
  /** Bytes received: 32 per hash plus key and value bytes per leaf. */
  bytes: number;
}

/**
 * Finds the leaves on which `local` and `remote` differ by walking both trees from the root and
 * descending only where the hashes differ: about k·log2(n) hashes for k differences among n leaves,
 * in about log2(n) round trips (the positions of one level are asked for concurrently). Every answer
 * is checked against the hash its parent announced (the root against `remoteRoot` when given).
 * Differences come out in key order.
 * @throws BaseError (`PEER_INCONSISTENT`) when the remote's answers do not hash to what it announced;
 * (`DIFF_TOO_LARGE`) when the walk would ask for more than `maxRequests` positions (default 10^6).
 */
export async function locateDifferences(
  local: MerkleTree,
  remote: RemoteTree,
  options: { remoteRoot?: Uint8Array; maxRequests?: number } = {},
): Promise<{ differences: LeafDifference[]; stats: DiffStats }> {
  const maxRequests = options.maxRequests ?? 1_000_000;
  const stats: DiffStats = { requests: 0, roundTrips: 0, hashes: 0, leaves: 0, bytes: 0 };
  const differences: LeafDifference[] = [];
  if (options.remoteRoot !== undefined && local.root.equals(options.remoteRoot)) {
    return { differences, stats };
  }
  let frontier: { path: TreePath; expected: Uint8Array | undefined }[] = [
    { path: "", expected: options.remoteRoot },
  ];
  while (frontier.length > 0) {
    stats.roundTrips++;
    stats.requests += frontier.length;
    if (stats.requests > maxRequests) {
      // A peer can announce any tree; this bounds what it can make us ask for.
      throw new BaseError(`the summaries differ in more than ${maxRequests} positions`, {
        code: "DIFF_TOO_LARGE",
        details: "Compare the leaves in bulk instead, or raise maxRequests.",
      });
    }
    const views = await Promise.all(frontier.map((item) => remote.children(item.path)));
    const next: typeof frontier = [];
    frontier.forEach(({ path, expected }, i) => {
      const view = views[i]!;
      const hash = local.hashView(path, view);
      if (expected !== undefined && !hash.equals(expected)) {
        throw new BaseError("the peer's tree does not hash to the value it announced", {
          code: "PEER_INCONSISTENT",
          details: `path "${path}": announced ${toHex(expected)}, served ${toHex(hash)}`,
        });
      }
      if (view.kind === "branch") {
        if (path.length >= TREE_DEPTH) {
          throw new BaseError("the peer served a branch below the last level of the tree", {
            code: "PEER_INCONSISTENT",
          });
        }
        stats.hashes += 2;
        stats.bytes += 2 * HASH_BYTES;
        if (path === "" && local.root.equals(hash)) return;
        for (const [bit, childHash] of [
          ["0", view.left],
          ["1", view.right],
        ] as const) {
          if (!local.node(path + bit).equals(childHash)) next.push({ path: path + bit, expected: childHash });
        }
        return;
      }
      const remoteLeaves = view.kind === "leaf" ? [{ key: view.key, value: view.value }] : [];
      if (view.kind === "leaf") {
        stats.leaves++;
        stats.bytes += view.key.length + view.value.length;
      }
      for (const entry of local.leavesUnder(path)) {
        const index = remoteLeaves.findIndex((other) => Buffer.compare(other.key, entry.key) === 0);
        const other = index < 0 ? undefined : remoteLeaves.splice(index, 1)[0];
        if (other === undefined) differences.push({ key: entry.key, local: entry.value, remote: null });
        else if (Buffer.compare(other.value, entry.value) !== 0) {
          differences.push({ key: entry.key, local: entry.value, remote: other.value });
        }
      }
      for (const other of remoteLeaves)
        differences.push({ key: other.key, local: null, remote: other.value });
    });
    frontier = next;
  }
  differences.sort((a, b) => Buffer.compare(a.key, b.key));
  return { differences, stats };
}
