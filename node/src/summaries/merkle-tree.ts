import { BaseError, InputError } from "../errors";
import {
  EMPTY_HASH_STRING,
  TREE_DEPTH,
  checkSalt,
  leafHashString,
  leafPathString,
  nodeHashString,
  toHex,
} from "./hashing";

/** One leaf as the tree sees it: canonical key bytes and value bytes. */
export interface TreeEntry {
  key: Uint8Array;
  value: Uint8Array;
}

/**
 * A position in the tree: the bits from the root, `"0"` = left, `"1"` = right (`""` is the root).
 * Positions below a lone leaf or in an empty subtree are valid too; they hold that leaf or nothing.
 */
export type TreePath = string;

/** What a node serves about one position: enough for the peer to hash it and decide where to descend. */
export type NodeView =
  | { kind: "empty" }
  | { kind: "leaf"; key: Uint8Array; value: Uint8Array }
  | { kind: "branch"; left: Uint8Array; right: Uint8Array };

const PATH_PATTERN = /^[01]*$/;

/**
 * A compressed sparse Merkle tree over the salted hash of each leaf key (docs/PROTOCOL.md,
 * "Hashing and the tree"). The hash of the subtree at a position is the empty hash when no leaf lies below, the leaf
 * hash when exactly one does, and `nodeHash(left, right)` otherwise. Its shape depends only on the
 * set of keys, so two trees' subtrees at the same position cover the same key range: equal hashes
 * mean equal leaves there, which is what lets two nodes find their differences by descending only
 * into subtrees whose hashes differ.
 */
export class MerkleTree {
  /** Entries sorted by path. */
  private readonly entries: TreeEntry[];
  /** Hashes are latin1 strings inside (see hashing.ts); the methods hand out Buffers. */
  private readonly paths: string[];
  private readonly leafHashes: string[];
  /** Hashes of positions with two or more leaves below, keyed by (first leaf index, depth). */
  private readonly inner = new Map<number, string>();
  readonly salt: Uint8Array;
  /** The root hash (32 bytes). */
  readonly root: Buffer;

  private constructor(salt: Uint8Array, entries: TreeEntry[], paths: string[]) {
    this.salt = salt;
    this.entries = entries;
    this.paths = paths;
    this.leafHashes = entries.map((entry, i) => leafHashString(paths[i]!, entry.value));
    this.root = Buffer.from(this.build(0, entries.length, 0), "latin1");
  }

  /**
   * Builds the tree of `entries` under `salt` (32 bytes).
   * @throws InputError when the salt is not 32 bytes or two entries have the same key.
   */
  static build(entries: readonly TreeEntry[], salt: Uint8Array): MerkleTree {
    checkSalt(salt);
    const withPaths = entries.map((entry) => ({ entry, path: leafPathString(salt, entry.key) }));
    // latin1 strings order like the bytes they stand for.
    withPaths.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (let i = 1; i < withPaths.length; i++) {
      if (withPaths[i - 1]!.path === withPaths[i]!.path) {
        throw new InputError(`two leaves have the same key ${toHex(withPaths[i]!.entry.key)}`);
      }
    }
    return new MerkleTree(
      salt,
      withPaths.map((item) => item.entry),
      withPaths.map((item) => item.path),
    );
  }

  /** Number of leaves. */
  get size(): number {
    return this.entries.length;
  }

  /** The root as `0x`-prefixed hex: what goes on chain. */
  get rootHex(): string {
    return toHex(this.root);
  }

  /**
   * Hash of the subtree at `path`.
   * @throws InputError when the path is not a string of at most 256 bits.
   */
  node(path: TreePath): Buffer {
    const [lo, hi] = this.range(path);
    return Buffer.from(this.hashOf(lo, hi, path.length), "latin1");
  }

  /**
   * What a peer asks for: the view of the position at `path` (empty, its one leaf, or the hashes of
   * its two children).
   * @throws InputError when the path is not a string of at most 256 bits.
   */
  children(path: TreePath): NodeView {
    const [lo, hi] = this.range(path);
    if (hi === lo) return { kind: "empty" };
    if (hi - lo === 1) {
      const entry = this.entries[lo]!;
      return { kind: "leaf", key: entry.key, value: entry.value };
    }
    const depth = path.length;
    const split = this.split(lo, hi, depth);
    return {
      kind: "branch",
      left: Buffer.from(this.hashOf(lo, split, depth + 1), "latin1"),
      right: Buffer.from(this.hashOf(split, hi, depth + 1), "latin1"),
    };
  }

  /**
   * The leaves below `path`, in path order.
   * @throws InputError when the path is not a string of at most 256 bits.
   */
  leavesUnder(path: TreePath): TreeEntry[] {
    const [lo, hi] = this.range(path);
    return this.entries.slice(lo, hi);
  }

  /** Every leaf, in path order. */
  leaves(): readonly TreeEntry[] {
    return this.entries;
  }

  /**
   * The hash a view stands for, for checking a peer's answer against the hash its parent announced.
   * @throws BaseError (`PEER_INCONSISTENT`) when a leaf does not lie below `path`.
   */
  hashView(path: TreePath, view: NodeView): Buffer {
    if (view.kind === "empty") return Buffer.from(EMPTY_HASH_STRING, "latin1");
    if (view.kind === "branch") {
      const left = Buffer.from(view.left).toString("latin1");
      return Buffer.from(nodeHashString(left, Buffer.from(view.right).toString("latin1")), "latin1");
    }
    const position = leafPathString(this.salt, view.key);
    if (!hasPrefix(position, path)) {
      throw new BaseError("the peer served a leaf outside the subtree asked for", {
        code: "PEER_INCONSISTENT",
        details: `path ${path}, key ${toHex(view.key)}`,
      });
    }
    return Buffer.from(leafHashString(position, view.value), "latin1");
  }

  private build(lo: number, hi: number, depth: number): string {
    if (hi === lo) return EMPTY_HASH_STRING;
    if (hi - lo === 1) return this.leafHashes[lo]!;
    const split = this.split(lo, hi, depth);
    const hash = nodeHashString(this.build(lo, split, depth + 1), this.build(split, hi, depth + 1));
    this.inner.set(lo * (TREE_DEPTH + 1) + depth, hash);
    return hash;
  }

  private hashOf(lo: number, hi: number, depth: number): string {
    if (hi === lo) return EMPTY_HASH_STRING;
    if (hi - lo === 1) return this.leafHashes[lo]!;
    return this.inner.get(lo * (TREE_DEPTH + 1) + depth)!;
  }

  /** First index in [lo, hi) whose path has bit `depth` set (the paths share the bits above). */
  private split(lo: number, hi: number, depth: number): number {
    let low = lo;
    let high = hi;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (bit(this.paths[mid]!, depth) === 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** The index range of the leaves below `path`. */
  private range(path: TreePath): [number, number] {
    if (path.length > TREE_DEPTH || !PATH_PATTERN.test(path)) {
      throw new InputError(`not a tree path (up to ${TREE_DEPTH} bits of 0 and 1): ${path.slice(0, 80)}`);
    }
    let lo = 0;
    let hi = this.entries.length;
    for (let depth = 0; depth < path.length && lo < hi; depth++) {
      const split = this.split(lo, hi, depth);
      if (path[depth] === "0") hi = split;
      else lo = split;
    }
    return [lo, hi];
  }
}

function bit(path: string, depth: number): number {
  return (path.charCodeAt(depth >> 3) >> (7 - (depth & 7))) & 1;
}

function hasPrefix(position: string, path: TreePath): boolean {
  for (let depth = 0; depth < path.length; depth++) {
    if (bit(position, depth) !== (path[depth] === "1" ? 1 : 0)) return false;
  }
  return true;
}
