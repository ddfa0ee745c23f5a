import { expect } from "chai";
import crypto from "node:crypto";
import fc from "fast-check";
import { measureMerkleDiff } from "../../../scripts/lib/bench-merkle-diff";
import { locateDifferences, type RemoteTree } from "./diff";
import { EMPTY_HASH, leafHash, leafPath, nodeHash } from "./hashing";
import { MerkleTree, type TreeEntry } from "./merkle-tree";

const SALT = Buffer.alloc(32, 0x5a);

function entry(key: string, value: string): TreeEntry {
  return { key: Buffer.from(key), value: Buffer.from(value) };
}

function served(tree: MerkleTree): RemoteTree {
  return { children: (path) => Promise.resolve(tree.children(path)) };
}

/** The tree's definition, computed the slow way: by recursion over the key set. */
function referenceHash(entries: TreeEntry[], salt: Buffer, depth = 0): Buffer {
  if (entries.length === 0) return EMPTY_HASH;
  if (entries.length === 1) return leafHash(leafPath(salt, entries[0]!.key), entries[0]!.value);
  const bitOf = (e: TreeEntry) => (leafPath(salt, e.key)[depth >> 3]! >> (7 - (depth & 7))) & 1;
  return nodeHash(
    referenceHash(
      entries.filter((e) => bitOf(e) === 0),
      salt,
      depth + 1,
    ),
    referenceHash(
      entries.filter((e) => bitOf(e) === 1),
      salt,
      depth + 1,
    ),
  );
}

const keyArb = fc.string({ minLength: 1, maxLength: 12 });
const valueArb = fc.string({ maxLength: 6 });
const leafSetArb = fc.uniqueArray(fc.tuple(keyArb, valueArb), {
  selector: ([key]) => key,
  maxLength: 300,
  size: "max",
});

describe("summaries: Merkle tree", () => {
  it("has the root of its recursive definition, whatever the order of the leaves", () => {
    fc.assert(
      fc.property(leafSetArb, fc.integer(), (pairs, seed) => {
        const entries = pairs.map(([k, v]) => entry(k, v));
        const shuffled = [...entries].sort(() => ((seed = (seed * 1103515245 + 12345) | 0) & 1 ? 1 : -1));
        const tree = MerkleTree.build(shuffled, SALT);
        expect(tree.rootHex).to.equal(MerkleTree.build(entries, SALT).rootHex);
        expect(tree.root.equals(referenceHash(entries, SALT))).to.equal(true);
      }),
      { numRuns: 50 },
    );
  });

  it("has a constant, non-zero root when empty and the leaf hash as root with one leaf", () => {
    expect(MerkleTree.build([], SALT).root.equals(EMPTY_HASH)).to.equal(true);
    expect(EMPTY_HASH.equals(Buffer.alloc(32))).to.equal(false);
    const one = entry("k", "v");
    expect(MerkleTree.build([one], SALT).root.equals(leafHash(leafPath(SALT, one.key), one.value))).to.equal(
      true,
    );
  });

  it("changes the root when the salt changes", () => {
    const entries = [entry("a", "1"), entry("b", "2")];
    expect(MerkleTree.build(entries, SALT).rootHex).to.not.equal(
      MerkleTree.build(entries, Buffer.alloc(32, 0x5b)).rootHex,
    );
  });

  it("refuses duplicate keys, a salt that is not 32 bytes and paths that are not bit strings", () => {
    expect(() => MerkleTree.build([entry("a", "1"), entry("a", "2")], SALT)).to.throw(/same key/);
    expect(() => MerkleTree.build([], Buffer.alloc(16))).to.throw(/32 bytes/);
    const tree = MerkleTree.build([entry("a", "1")], SALT);
    expect(() => tree.node("012")).to.throw(/not a tree path/);
    expect(() => tree.node("0".repeat(257))).to.throw(/not a tree path/);
  });

  it("serves views that hash to the node hashes, and leaf ranges that partition the leaves", () => {
    const entries = Array.from({ length: 200 }, (_, i) => entry(`key-${i}`, `v${i}`));
    const tree = MerkleTree.build(entries, SALT);
    const walk = (path: string): number => {
      const view = tree.children(path);
      expect(tree.hashView(path, view).equals(tree.node(path))).to.equal(true);
      if (view.kind !== "branch") return tree.leavesUnder(path).length;
      expect(tree.node(path + "0").equals(view.left)).to.equal(true);
      return walk(path + "0") + walk(path + "1");
    };
    expect(walk("")).to.equal(200);
    expect(tree.leavesUnder("0").length + tree.leavesUnder("1").length).to.equal(200);
  });

  it("builds 100 000 leaves in well under a second", function () {
    const entries = Array.from({ length: 100_000 }, (_, i) => ({
      key: crypto.randomBytes(30),
      value: Buffer.from(i.toString(16).padStart(64, "0"), "hex"),
    }));
    const started = process.hrtime.bigint();
    const tree = MerkleTree.build(entries, SALT);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(tree.size).to.equal(100_000);
    // The aim is well under 1 s; the bound leaves room for a busy shared test machine.
    expect(ms).to.be.below(2_000);
  });
});

type Modification =
  | { kind: "insert"; key: string; value: string }
  | { kind: "delete"; index: number }
  | { kind: "change"; index: number; value: string };

const modificationArb: fc.Arbitrary<Modification> = fc.oneof(
  fc.record({ kind: fc.constant("insert" as const), key: keyArb, value: valueArb }),
  fc.record({ kind: fc.constant("delete" as const), index: fc.nat() }),
  fc.record({ kind: fc.constant("change" as const), index: fc.nat(), value: valueArb }),
);

describe("summaries: Merkle diff", () => {
  it("reports exactly the inserted, deleted and changed keys, with O(k log n) hashes", async () => {
    await fc.assert(
      fc.asyncProperty(
        leafSetArb,
        fc.array(modificationArb, { maxLength: 20 }),
        fc.boolean(),
        async (pairs, modifications, localIsModified) => {
          const original = new Map(pairs);
          const modified = new Map(pairs);
          for (const change of modifications) {
            const keys = [...modified.keys()];
            if (change.kind === "insert") modified.set(change.key, change.value);
            else if (keys.length > 0) {
              const key = keys[change.index % keys.length]!;
              if (change.kind === "delete") modified.delete(key);
              else modified.set(key, change.value);
            }
          }
          const expected = [...new Set([...original.keys(), ...modified.keys()])]
            .filter((key) => original.get(key) !== modified.get(key))
            .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
          const build = (map: Map<string, string>) =>
            MerkleTree.build(
              [...map].map(([k, v]) => entry(k, v)),
              SALT,
            );
          const [local, remote] = localIsModified
            ? [build(modified), build(original)]
            : [build(original), build(modified)];
          const { differences, stats } = await locateDifferences(local, served(remote), {
            remoteRoot: remote.root,
          });
          expect(differences.map((d) => Buffer.from(d.key).toString())).to.deep.equal(expected);
          for (const d of differences) {
            const key = Buffer.from(d.key).toString();
            const [mine, theirs] = localIsModified
              ? [modified.get(key), original.get(key)]
              : [original.get(key), modified.get(key)];
            expect(d.local === null ? undefined : Buffer.from(d.local).toString()).to.equal(mine);
            expect(d.remote === null ? undefined : Buffer.from(d.remote).toString()).to.equal(theirs);
          }
          const k = expected.length;
          const n = Math.max(2, original.size, modified.size);
          // Each differing leaf costs one branch (2 hashes) per level down to where it is alone,
          // about log2(n) levels; the slack covers keys whose salted paths happen to share bits.
          expect(stats.hashes).to.be.at.most(2 * k * (Math.log2(n) + 24));
          if (k === 0) expect(stats.requests).to.equal(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("finds 10 differences among 100 000 leaves with a few hundred hashes", async () => {
    const entries = Array.from({ length: 100_000 }, (_, i) => entry(`k${i}`, `v${i}`));
    const local = MerkleTree.build(entries, SALT);
    const changed = entries.map((e, i) => (i % 10_000 === 7 ? entry(`k${i}`, "changed") : e));
    const remote = MerkleTree.build(changed, SALT);
    const { differences, stats } = await locateDifferences(local, served(remote));
    expect(differences).to.have.length(10);
    expect(stats.hashes).to.be.at.most(2 * 10 * (Math.log2(100_000) + 8));
    expect(stats.roundTrips).to.be.at.most(40);
  });

  it("measures the diff for the benchmark: far fewer bytes than sending every leaf", async () => {
    const figures = await measureMerkleDiff(2_000, 10);
    expect(figures).to.include({ leaves: 2_000, differing: 10 });
    expect(figures.diff_hashes).to.be.within(20, 2 * 10 * (Math.log2(2_000) + 8));
    expect(figures.diff_bytes).to.be.at.least(32 * figures.diff_hashes);
    expect(figures.diff_bytes * 5).to.be.below(figures.all_leaves_bytes);
    expect(figures.diff_round_trips).to.be.within(Math.floor(Math.log2(2_000)), 40);
  });

  it("stops when the walk would ask for more positions than allowed", async () => {
    const local = MerkleTree.build([], SALT);
    const remote = MerkleTree.build(
      Array.from({ length: 100 }, (_, i) => entry(`k${i}`, "v")),
      SALT,
    );
    let caught: unknown;
    try {
      await locateDifferences(local, served(remote), { maxRequests: 50 });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.have.property("code", "DIFF_TOO_LARGE");
    const { differences } = await locateDifferences(local, served(remote));
    expect(differences).to.have.length(100);
  });

  it("refuses a peer whose answers do not hash to what it announced", async () => {
    const local = MerkleTree.build([entry("a", "1"), entry("b", "2")], SALT);
    const remote = MerkleTree.build([entry("a", "1"), entry("b", "3")], SALT);
    const liar: RemoteTree = {
      children: (path) =>
        Promise.resolve(
          path === ""
            ? remote.children(path)
            : { kind: "leaf", key: Buffer.from("b"), value: Buffer.from("4") },
        ),
    };
    let caught: unknown;
    try {
      await locateDifferences(local, liar);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.have.property("code", "PEER_INCONSISTENT");
  });
});
