/*
 * Evidence over one block (1 MiB) as a UnixFS file DAG, built and read with the libraries made for it:
 * ipfs-unixfs-importer splits the bytes into raw leaves under dag-pb nodes, ipfs-unixfs-exporter reads
 * them back. The parameters are those of Kubo's `ipfs add --cid-version=1` with its default settings,
 * so a bundle gets the same root CID here, on any Kubo node, and with `ipfs add` of the same file:
 *
 *   chunker    fixed size, 262 144 bytes      (Kubo: Import.UnixFSChunker "size-262144")
 *   leaves     raw blocks, no UnixFS wrapper  (implied by --cid-version=1: Import.UnixFSRawLeaves)
 *   layout     balanced, at most 174 links    (Kubo's balanced builder, Import.UnixFSFileMaxLinks 174)
 *   CIDs       version 1, sha2-256            (--cid-version=1, Import.HashFunction "sha2-256")
 *   one chunk  is its own (raw) block         (as Kubo does; never reached here: a DAG has ≥ 5 leaves)
 *   nothing else: no directory wrapper, no mode or mtime, no inlining, no HAMT.
 *
 * All four modules are ES modules whose exports carry the `module-sync` condition, so Node 20.19+
 * loads them with require(); they are loaded on first use (about 0.1 s) since most evidence is one block.
 */
import type { UnixFSEntry } from "ipfs-unixfs-exporter";
import type { ImporterOptions } from "ipfs-unixfs-importer";
import type { CID } from "multiformats/cid";
import { BaseError } from "../errors";
import { codecOf, EvidenceIntegrityError, isBlockCid, rawBlockCid } from "./cid";
import { checkBlock, checkEvidenceSize, MAX_BLOCK_BYTES, MAX_DAG_BLOCKS, MAX_EVIDENCE_BYTES } from "./store";

/** How a file is cut into a DAG: the importer's parameters that decide the root CID. */
export interface UnixfsLayout {
  cidVersion: 0 | 1;
  /** Leaves as raw blocks (true) or as dag-pb nodes wrapping the bytes (false). */
  rawLeaves: boolean;
  /** Bytes per leaf (fixed-size chunker). */
  chunkSize: number;
  /** Links per node of the balanced layout. */
  maxChildrenPerNode: number;
}

/** Kubo's `ipfs add --cid-version=1` with default settings: what evidence DAGs are built with. */
export const KUBO_CID_V1_LAYOUT: UnixfsLayout = Object.freeze({
  cidVersion: 1,
  rawLeaves: true,
  chunkSize: 262_144,
  maxChildrenPerNode: 174,
});

/** One block of a DAG. */
export interface DagBlock {
  cid: CID;
  bytes: Uint8Array;
}

/** Reads the block `cid` (a string {@link isBlockCid} accepts), checked against it. */
export type BlockReader = (cid: string) => Promise<Uint8Array>;

/** How many blocks the exporter fetches at once. */
const READ_CONCURRENCY = 8;
/** How many leaves `holdsUnixfsFile` asks about at once. */
const HAS_CONCURRENCY = 16;

/**
 * Cuts `bytes` into a UnixFS file DAG (`layout`, Kubo's by default) and hands every block to `put`,
 * children before the nodes that link to them, the root last; returns the root's CID. The leaves are
 * views of `bytes`, not copies.
 * @throws whatever `put` throws.
 */
export async function writeUnixfsFile(
  bytes: Uint8Array,
  put: (block: DagBlock) => Promise<void> | void,
  layout: UnixfsLayout = KUBO_CID_V1_LAYOUT,
): Promise<CID> {
  const { importBytes } = loadImporter();
  const result = await importBytes(
    bytes,
    {
      async put(cid, block) {
        if (!(block instanceof Uint8Array)) throw new TypeError("the importer handed over a stream");
        checkBlock(block);
        await put({ cid, bytes: block });
        return cid;
      },
    },
    importerOptions(layout),
  );
  return result.cid;
}

/**
 * The CID every store gives `bytes` (a raw block up to 1 MiB, the UnixFS root above), computed without
 * storing anything: how bytes received from elsewhere are checked against the CID they came for.
 * @throws InputError beyond {@link MAX_EVIDENCE_BYTES}.
 */
export async function evidenceCidOf(bytes: Uint8Array): Promise<string> {
  checkEvidenceSize(bytes);
  if (bytes.byteLength <= MAX_BLOCK_BYTES) return rawBlockCid(bytes);
  return (await writeUnixfsFile(bytes, () => undefined)).toString();
}

/** The importer's options for `layout`: only these decide the CID, everything else is its default. */
export function importerOptions(layout: UnixfsLayout): ImporterOptions {
  const { fixedSize } = loadChunker();
  const { balanced } = loadLayout();
  return {
    cidVersion: layout.cidVersion,
    rawLeaves: layout.rawLeaves,
    chunker: fixedSize({ chunkSize: layout.chunkSize }),
    layout: balanced({ maxChildrenPerNode: layout.maxChildrenPerNode }),
    reduceSingleLeafToSelf: true,
    wrapWithDirectory: false,
  };
}

/**
 * The bytes of the UnixFS file whose dag-pb root is `root`, every block read through `read` (which
 * checks it against its CID). Refuses, before reading the leaves, a root that is not a file or
 * declares more than {@link MAX_EVIDENCE_BYTES}; stops after {@link MAX_DAG_BLOCKS} blocks.
 * @throws EvidenceIntegrityError for a DAG that is not a UnixFS file within those limits or links to
 * a CID of another kind; whatever `read` throws (NotFoundError, UnavailableError, …).
 */
export async function readUnixfsFile(root: string, read: BlockReader): Promise<Uint8Array> {
  const entry = await fileEntry(root, countedBlocks(root, read));
  if (entry.size > BigInt(MAX_EVIDENCE_BYTES)) {
    throw new EvidenceIntegrityError(
      "the evidence DAG is larger than evidence may be",
      `${root} declares ${entry.size} bytes; evidence is at most ${MAX_EVIDENCE_BYTES}`,
    );
  }
  const out = new Uint8Array(Number(entry.size));
  let at = 0;
  try {
    for await (const chunk of entry.content({ blockReadConcurrency: READ_CONCURRENCY })) {
      // The exporter stops at the declared size too; this keeps `out` from ever being overrun.
      if (chunk.byteLength > out.byteLength - at) throw notAFile(root, "more bytes than the root declares");
      out.set(chunk, at);
      at += chunk.byteLength;
    }
  } catch (error) {
    throw dagError(error, root);
  }
  if (at !== out.byteLength) throw notAFile(root, `${at} bytes of the ${out.byteLength} the root declares`);
  return out;
}

/**
 * Whether every block of the DAG `root` is present: `has` answers for each block, `read` gives the
 * dag-pb nodes (checked against their CIDs) so that their links can be followed. Leaves are not read.
 * @throws EvidenceIntegrityError as {@link readUnixfsFile}; whatever `has` and `read` throw.
 */
export async function holdsUnixfsFile(
  root: string,
  read: BlockReader,
  has: (cid: string) => Promise<boolean>,
): Promise<boolean> {
  const blocks = countedBlocks(root, read);
  const nodes = [root];
  let seen = 1;
  while (nodes.length > 0) {
    const cid = nodes.pop()!;
    if (!(await has(cid))) return false;
    const leaves: string[] = [];
    for (const link of (await fileEntry(cid, blocks, root)).node.Links) {
      const child = linkedCid(root, link.Hash);
      if (++seen > MAX_DAG_BLOCKS) throw tooManyBlocks(root);
      (codecOf(child) === "raw" ? leaves : nodes).push(child);
    }
    for (let i = 0; i < leaves.length; i += HAS_CONCURRENCY) {
      const present = await Promise.all(leaves.slice(i, i + HAS_CONCURRENCY).map(has));
      if (present.includes(false)) return false;
    }
  }
  return true;
}

/** The exporter's entry for the dag-pb node `cid` of the DAG `root`, which must be a UnixFS file. */
async function fileEntry(
  cid: string,
  blocks: ReturnType<typeof countedBlocks>,
  root = cid,
): Promise<Extract<UnixFSEntry, { type: "file" }>> {
  const { exporter } = loadExporter();
  const { CID } = loadCid();
  let entry: UnixFSEntry;
  try {
    entry = await exporter(CID.parse(cid), blocks);
  } catch (error) {
    throw dagError(error, root);
  }
  if (entry.type !== "file" || entry.unixfs.type !== "file") {
    const kind = entry.type === "file" ? entry.unixfs.type : entry.type;
    throw notAFile(root, `${cid} is a UnixFS ${kind}`);
  }
  return entry;
}

/** A read-only blockstore for the exporter: only CIDs this node accepts, at most MAX_DAG_BLOCKS reads. */
function countedBlocks(root: string, read: BlockReader) {
  let reads = 0;
  return {
    async *get(cid: CID): AsyncGenerator<Uint8Array> {
      const text = linkedCid(root, cid);
      if (++reads > MAX_DAG_BLOCKS) throw tooManyBlocks(root);
      yield await read(text);
    },
  };
}

function linkedCid(root: string, cid: CID): string {
  const text = cid.toString();
  if (!isBlockCid(text)) {
    throw new EvidenceIntegrityError(
      "the evidence DAG links to a CID of a kind this node does not accept",
      `${root} links to ${text.slice(0, 80)} (only CIDv1 raw or dag-pb, sha2-256)`,
    );
  }
  return text;
}

function tooManyBlocks(root: string): EvidenceIntegrityError {
  return new EvidenceIntegrityError(
    "the evidence DAG has more blocks than evidence may have",
    `${root}: more than ${MAX_DAG_BLOCKS} blocks`,
  );
}

function notAFile(root: string, why: string): EvidenceIntegrityError {
  return new EvidenceIntegrityError("the evidence DAG is not a well-formed UnixFS file", `${root}: ${why}`);
}

/** Our own errors (from `read`, or the checks above) pass; the exporter's become integrity errors. */
function dagError(error: unknown, root: string): BaseError {
  if (error instanceof BaseError) return error;
  return notAFile(root, error instanceof Error ? error.message : String(error));
}

/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, see the top. */
const loadImporter = () => require("ipfs-unixfs-importer") as typeof import("ipfs-unixfs-importer");
const loadChunker = () =>
  require("ipfs-unixfs-importer/chunker") as typeof import("ipfs-unixfs-importer/chunker");
const loadLayout = () =>
  require("ipfs-unixfs-importer/layout") as typeof import("ipfs-unixfs-importer/layout");
const loadExporter = () => require("ipfs-unixfs-exporter") as typeof import("ipfs-unixfs-exporter");
const loadCid = () => require("multiformats/cid") as typeof import("multiformats/cid");
/* eslint-enable @typescript-eslint/no-require-imports */
