import { expect } from "chai";
import { NotFoundError } from "../errors";
import { blockCid, EvidenceIntegrityError, rawBlockCid } from "./cid";
import { MAX_BLOCK_BYTES, MAX_DAG_BLOCKS } from "./store";
import {
  CID,
  DAG_PB,
  kuboDeterministicBytes,
  pbNode,
  referenceUnixfsCid,
  sha256,
  unixfsFile,
  type ReferenceLayout,
} from "../../../test/helpers/evidence";
import {
  holdsUnixfsFile,
  KUBO_CID_V1_LAYOUT,
  readUnixfsFile,
  writeUnixfsFile,
  type DagBlock,
  type UnixfsLayout,
} from "./unixfs";

const MiB = 1024 * 1024;
const CHUNK = 262_144;
const OURS: ReferenceLayout = { cidVersion: 1, rawLeaves: true, chunkSize: CHUNK, maxLinks: 174 };

/*
 * Kubo's own test vectors (ipfs/kubo, test/cli/cid_profiles_test.go): `ipfs add` of the ChaCha20
 * stream of `kuboDeterministicBytes`, under its two IPIP-499 profiles. Between them they pin every
 * parameter evidence DAGs use: the 256 KiB chunker and the balanced layout of 174 links, at and just
 * over one full level (unixfs-v0-2015, Kubo's default without --cid-version=1), and CIDv1 with raw
 * leaves under a dag-pb root (unixfs-v1-2025, which differs only in 1 MiB chunks and 1024 links).
 */
const V0_2015: UnixfsLayout = { cidVersion: 0, rawLeaves: false, chunkSize: CHUNK, maxChildrenPerNode: 174 };
const V1_2025: UnixfsLayout = { cidVersion: 1, rawLeaves: true, chunkSize: MiB, maxChildrenPerNode: 1024 };
const KUBO_VECTORS: { size: number; seed: string; layout: UnixfsLayout; cid: string }[] = [
  {
    size: CHUNK,
    seed: "chunk-v0-seed",
    layout: V0_2015,
    cid: "QmWmRj3dFDZdb6ABvbmKhEL6TmPbAfBZ1t5BxsEyJrcZhE",
  },
  {
    size: CHUNK + 1,
    seed: "chunk-v0-seed",
    layout: V0_2015,
    cid: "QmYyLxtzZyW22zpoVAtKANLRHpDjZtNeDjQdJrcQNWoRkJ",
  },
  {
    size: 174 * CHUNK,
    seed: "v0-seed",
    layout: V0_2015,
    cid: "QmUbBALi174SnogsUzLpYbD4xPiBSFANF4iztWCsHbMKh2",
  },
  {
    size: 174 * CHUNK + 1,
    seed: "v0-seed",
    layout: V0_2015,
    cid: "QmV81WL765sC8DXsRhE5fJv2rwhS4icHRaf3J9Zk5FdRnW",
  },
  {
    size: MiB,
    seed: "chunk-v1-seed",
    layout: V1_2025,
    cid: "bafkreiacndfy443ter6qr2tmbbdhadvxxheowwf75s6zehscklu6ezxmta",
  },
  {
    size: MiB + 1,
    seed: "chunk-v1-seed",
    layout: V1_2025,
    cid: "bafybeigmix7t42i6jacydtquhet7srwvgpizfg7gjbq7627d35mjomtu64",
  },
];

async function dagOf(bytes: Uint8Array): Promise<{ root: string; blocks: Map<string, Uint8Array> }> {
  const blocks = new Map<string, Uint8Array>();
  const root = await writeUnixfsFile(
    bytes,
    (block: DagBlock) => void blocks.set(block.cid.toString(), block.bytes),
  );
  return { root: root.toString(), blocks };
}

/** A reader over `blocks` that counts its reads and reports a missing block as NotFoundError. */
function readerOf(blocks: Map<string, Uint8Array>) {
  const read = async (cid: string) => {
    read.count++;
    const bytes = blocks.get(cid);
    if (bytes === undefined) throw new NotFoundError("evidence block not found", cid);
    return bytes;
  };
  read.count = 0;
  return read;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail("expected a rejection"),
    (e: unknown) => e,
  );
}

describe("evidence/unixfs", function () {
  this.timeout(60_000);

  it("uses Kubo's `ipfs add --cid-version=1` defaults: 256 KiB chunks, raw leaves, 174 links, CIDv1", () => {
    expect(KUBO_CID_V1_LAYOUT).to.deep.equal({
      cidVersion: 1,
      rawLeaves: true,
      chunkSize: 262_144,
      maxChildrenPerNode: 174,
    });
  });

  it("gives the root CIDs Kubo published for its profiles, and so does the independent reference", async () => {
    for (const vector of KUBO_VECTORS) {
      const bytes = kuboDeterministicBytes(vector.size, vector.seed);
      const root = await writeUnixfsFile(bytes, () => undefined, vector.layout);
      expect(root.toString(), `${vector.size} bytes, ${vector.seed}`).to.equal(vector.cid);
      const reference = referenceUnixfsCid(bytes, {
        ...vector.layout,
        maxLinks: vector.layout.maxChildrenPerNode,
      });
      expect(reference, `reference, ${vector.size} bytes`).to.equal(vector.cid);
    }
  });

  it("builds the same DAG as the reference, in blocks of at most 1 MiB, leaves as views of the input", async () => {
    // 1 MiB + 1 (5 leaves), 5 MiB (20), 40 MiB + 3 (161: one level), 175 and 176 leaves (two levels).
    for (const size of [MiB + 1, 5 * MiB, 40 * MiB + 3, 174 * CHUNK + 1, 44 * MiB]) {
      const bytes = kuboDeterministicBytes(size, `evidence ${size}`);
      const blocks: DagBlock[] = [];
      const root = (await writeUnixfsFile(bytes, (block) => void blocks.push(block))).toString();
      expect(root, `${size} bytes`).to.equal(referenceUnixfsCid(bytes, OURS));
      expect(root).to.match(/^bafybei[a-z2-7]{52}$/);
      const leaves = blocks.filter((block) => block.cid.code === 0x55);
      expect(leaves).to.have.length(Math.ceil(size / CHUNK));
      expect(blocks.at(-1)?.cid.toString(), "the root comes last").to.equal(root);
      for (const block of blocks) {
        expect(block.bytes.byteLength).to.be.at.most(MAX_BLOCK_BYTES);
        const codec = block.cid.code === 0x55 ? "raw" : "dag-pb";
        expect(blockCid(codec, block.bytes)).to.equal(block.cid.toString());
      }
      expect(leaves.every((leaf) => leaf.bytes.buffer === bytes.buffer)).to.equal(true);
      const read = readerOf(new Map(blocks.map((block) => [block.cid.toString(), block.bytes])));
      expect(Buffer.from(await readUnixfsFile(root, read)).equals(bytes)).to.equal(true);
      expect(read.count).to.equal(blocks.length);
    }
  });

  it("tells a whole DAG from one missing a block, reading only its nodes", async () => {
    const { root, blocks } = await dagOf(kuboDeterministicBytes(174 * CHUNK + 1, "holds"));
    const read = readerOf(blocks);
    const has = async (cid: string) => blocks.has(cid);
    expect(await holdsUnixfsFile(root, read, has)).to.equal(true);
    expect(read.count, "the root and its two inner nodes").to.equal(3);
    const leaf = [...blocks.keys()].find((cid) => cid.startsWith("bafkrei"))!;
    blocks.delete(leaf);
    expect(await holdsUnixfsFile(root, read, has)).to.equal(false);
    expect(await failure(readUnixfsFile(root, read))).to.be.instanceOf(NotFoundError);
  });

  it("refuses a damaged block, a DAG that is not a file, and links it does not accept", async () => {
    const { root, blocks } = await dagOf(kuboDeterministicBytes(2 * MiB, "damaged"));
    // A reader that checks nothing: the exporter itself must then notice inconsistent nodes.
    const damagedRoot = new Map(blocks);
    damagedRoot.set(root, damagedRoot.get(root)!.slice(0, -3));
    expect(await failure(readUnixfsFile(root, readerOf(damagedRoot)))).to.be.instanceOf(
      EvidenceIntegrityError,
    );

    const link = async (cid: CID, bytes: Uint8Array) => ({ cid, tsize: bytes.byteLength });
    const leaf = new TextEncoder().encode("leaf");
    const cases: [string, Uint8Array, RegExp][] = [
      ["directory", pbNode([], unixfsFile(undefined, 0, [], 1)), /UnixFS directory/],
      [
        "CIDv0 link",
        pbNode([await link(CID.createV0(await sha256.digest(leaf)), leaf)], unixfsFile(undefined, 4, [4])),
        /does not accept/,
      ],
      ["not dag-pb", new TextEncoder().encode("not protobuf at all"), /not a well-formed UnixFS file/],
    ];
    for (const [what, node, message] of cases) {
      const cid = blockCid("dag-pb", node);
      const error = await failure(readUnixfsFile(cid, readerOf(new Map([[cid, node]]))));
      expect(error, what).to.be.instanceOf(EvidenceIntegrityError);
      expect((error as EvidenceIntegrityError).message, what).to.match(message);
    }
  });

  it("stops at MAX_DAG_BLOCKS reads and refuses a root declaring more than 256 MiB", async () => {
    // 174 links to one node of 174 links to one leaf: three blocks, 30 276 leaf reads.
    const leaf = new Uint8Array(8);
    const leafCid = CID.parse(rawBlockCid(leaf));
    const inner = pbNode(
      Array.from({ length: 174 }, () => ({ cid: leafCid, tsize: 8 })),
      unixfsFile(undefined, 174 * 8, Array<number>(174).fill(8)),
    );
    const innerCid = CID.create(1, DAG_PB, await sha256.digest(inner));
    const top = pbNode(
      Array.from({ length: 174 }, () => ({ cid: innerCid, tsize: inner.byteLength })),
      unixfsFile(undefined, 174 * 174 * 8, Array<number>(174).fill(174 * 8)),
    );
    const topCid = blockCid("dag-pb", top);
    const blocks = new Map([
      [topCid, top],
      [innerCid.toString(), inner],
      [leafCid.toString(), leaf],
    ]);
    const read = readerOf(blocks);
    const error = await failure(readUnixfsFile(topCid, read));
    expect(error).to.be.instanceOf(EvidenceIntegrityError);
    expect((error as Error).message).to.match(/more blocks/);
    expect(read.count).to.be.at.most(MAX_DAG_BLOCKS + 8);
    const has = async () => true;
    expect(await failure(holdsUnixfsFile(topCid, read, has))).to.be.instanceOf(EvidenceIntegrityError);

    const huge = pbNode([{ cid: leafCid, tsize: 8 }], unixfsFile(undefined, 257 * MiB, [257 * MiB]));
    const hugeCid = blockCid("dag-pb", huge);
    const hugeRead = readerOf(new Map([[hugeCid, huge]]));
    const tooLarge = await failure(readUnixfsFile(hugeCid, hugeRead));
    expect((tooLarge as Error).message).to.match(/larger than evidence may be/);
    expect(hugeRead.count, "nothing read past the root").to.equal(1);
  });
});
