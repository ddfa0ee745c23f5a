import { expect } from "chai";
import fc from "fast-check";
import fs from "node:fs";
import path from "node:path";
import { computeCommitment } from "../protocol";
import {
  commitmentSalt,
  decodeLeafKey,
  decodeLeafValue,
  encodeLeaf,
  encodeLeafKey,
  encodeLeafValue,
  periodBounds,
  periodSalt,
  utcDay,
  type LeafDirection,
  type LeafService,
  type UsageLeaf,
} from "./encoding";
import { EMPTY_HASH, fromHex, leafHash, leafPath, nodeHash, toHex } from "./hashing";
import { MerkleTree } from "./merkle-tree";

interface Vectors {
  secret: string;
  agreementId: string;
  period: number;
  periodSalt: string;
  commitmentSaltRound0: string;
  emptyHash: string;
  leaves: {
    direction: LeafDirection;
    service: LeafService;
    destination: string;
    day: number;
    records: string;
    billed: string;
    amount: string;
    key: string;
    value: string;
    path: string;
    hash: string;
  }[];
  trees: { leaves: number[]; root: string }[];
  commitment: {
    chainId: string;
    ledger: string;
    round: number;
    party: string;
    amountAB: string;
    amountBA: string;
    value: string;
  };
}

/** The JSON block after the `test-vectors` marker in docs/PROTOCOL.md: the doc is the source. */
function readVectors(): Vectors {
  const doc = fs.readFileSync(path.join(__dirname, "../../../docs/PROTOCOL.md"), "utf8");
  const match = /<!-- test-vectors -->\s*```json\n([\s\S]*?)\n```/.exec(doc);
  if (match === null) throw new Error("docs/PROTOCOL.md has no test-vectors block");
  return JSON.parse(match[1]!) as Vectors;
}

describe("summaries: canonical encoding", () => {
  const vectors = readVectors();
  const secret = fromHex(vectors.secret);
  const salt = periodSalt(secret, vectors.agreementId, vectors.period);
  const leaves: UsageLeaf[] = vectors.leaves.map((v) => ({
    direction: v.direction,
    service: v.service,
    destination: v.destination,
    day: v.day,
    records: BigInt(v.records),
    billed: BigInt(v.billed),
    amount: BigInt(v.amount),
  }));

  it("derives the salts of docs/PROTOCOL.md", () => {
    expect(toHex(salt)).to.equal(vectors.periodSalt);
    expect(toHex(commitmentSalt(secret, vectors.agreementId, vectors.period, 0))).to.equal(
      vectors.commitmentSaltRound0,
    );
    expect(toHex(commitmentSalt(secret, vectors.agreementId, vectors.period, 1))).to.not.equal(
      vectors.commitmentSaltRound0,
    );
    expect(toHex(EMPTY_HASH)).to.equal(vectors.emptyHash);
  });

  it("encodes and hashes the leaves of docs/PROTOCOL.md", () => {
    vectors.leaves.forEach((v, i) => {
      const leaf = leaves[i]!;
      const key = encodeLeafKey(leaf);
      const value = encodeLeafValue(leaf);
      expect(toHex(key)).to.equal(v.key);
      expect(toHex(value)).to.equal(v.value);
      expect(toHex(leafPath(salt, key))).to.equal(v.path);
      expect(toHex(leafHash(leafPath(salt, key), value))).to.equal(v.hash);
    });
    expect(utcDay(Date.parse("2026-10-01T00:00:00Z"))).to.equal(vectors.leaves[0]!.day);
  });

  it("has the roots and the commitment of docs/PROTOCOL.md, and the worked example's shape", () => {
    for (const tree of vectors.trees) {
      const built = MerkleTree.build(
        tree.leaves.map((i) => encodeLeaf(leaves[i]!)),
        salt,
      );
      expect(built.rootHex, `root of leaves ${tree.leaves.join(",")}`).to.equal(tree.root);
    }
    const hash = vectors.leaves.map((v) => fromHex(v.hash));
    // root = nodeHash(leaf 0, h("1")); h("1") = nodeHash(h("10"), EMPTY); h("10") = nodeHash(leaf 2, leaf 1)
    const worked = nodeHash(hash[0]!, nodeHash(nodeHash(hash[2]!, hash[1]!), EMPTY_HASH));
    expect(toHex(worked)).to.equal(vectors.trees[3]!.root);

    const c = vectors.commitment;
    const root = vectors.trees[3]!.root;
    const commitSalt = toHex(commitmentSalt(secret, vectors.agreementId, vectors.period, 0));
    expect(
      computeCommitment({
        chainId: BigInt(c.chainId),
        ledger: c.ledger,
        agreementId: vectors.agreementId,
        period: vectors.period,
        round: c.round,
        party: c.party,
        root,
        amountAB: BigInt(c.amountAB),
        amountBA: BigInt(c.amountBA),
        salt: commitSalt,
      }),
    ).to.equal(c.value);
  });

  it("decodes what it encodes, and normalises destinations to NFC", () => {
    const leafArb = fc.record({
      direction: fc.constantFrom<LeafDirection>("AB", "BA"),
      service: fc.constantFrom<LeafService>("voice", "sms", "data"),
      destination: fc.string({ unit: "grapheme", maxLength: 20 }),
      day: fc.integer({ min: 0, max: 0xffffffff }),
      records: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      billed: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      amount: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
    });
    fc.assert(
      fc.property(leafArb, (leaf) => {
        const { key, value } = encodeLeaf(leaf);
        expect(decodeLeafKey(key)).to.deep.equal({
          direction: leaf.direction,
          service: leaf.service,
          destination: leaf.destination.normalize("NFC"),
          day: leaf.day,
        });
        expect(decodeLeafValue(value)).to.deep.equal({
          records: leaf.records,
          billed: leaf.billed,
          amount: leaf.amount,
        });
        expect(toHex(encodeLeafKey({ ...leaf, destination: leaf.destination.normalize("NFD") }))).to.equal(
          toHex(key),
        );
      }),
    );
  });

  it("refuses figures out of range, bad periods and short secrets", () => {
    const leaf = leaves[0]!;
    expect(() => encodeLeafValue({ ...leaf, amount: -1n })).to.throw(/amount out of range/);
    expect(() => encodeLeafValue({ ...leaf, records: 1n << 64n })).to.throw(/records out of range/);
    expect(() => encodeLeafKey({ ...leaf, day: -1 })).to.throw(/day out of range/);
    expect(() => encodeLeafKey({ ...leaf, destination: "x".repeat(65_536) })).to.throw(/longer than/);
    expect(() => periodBounds(202613)).to.throw(/not a period/);
    expect(periodBounds(202612)).to.deep.equal({
      startMs: Date.parse("2026-12-01T00:00:00Z"),
      endMs: Date.parse("2027-01-01T00:00:00Z"),
    });
    expect(() => periodSalt(Buffer.alloc(8), vectors.agreementId, 202610)).to.throw(/at least 16 bytes/);
    expect(() => periodSalt(secret, "0x12", 202610)).to.throw(/32-byte hex/);
    expect(() => decodeLeafKey(Buffer.from("0201", "hex"))).to.throw(/not a canonical leaf key/);
  });
});
