import { InputError } from "../errors";

/**
 * Content-addressed storage of evidence of any size up to {@link MAX_EVIDENCE_BYTES}, the same CID for
 * the local store and for a Kubo node. At most {@link MAX_BLOCK_BYTES} is one raw block, CIDv1 raw
 * sha2-256 (`bafkrei…`); anything larger is a UnixFS file DAG of blocks of at most that size, named by
 * its dag-pb root (`bafybei…`, what `ipfs add --cid-version=1` prints; see unixfs.ts).
 */
export interface EvidenceStore {
  /**
   * Stores the bytes and returns their CID; storing the same bytes again returns the same CID.
   * @throws InputError when `bytes` is not a Uint8Array or is larger than {@link MAX_EVIDENCE_BYTES};
   * UnavailableError (retryable) when the IPFS node cannot be reached; EvidenceIntegrityError when it
   * answers with another CID.
   */
  put(bytes: Uint8Array): Promise<string>;
  /**
   * The bytes named by `cid`, every block checked against its CID.
   * @throws InputError for a malformed CID; NotFoundError when the local store lacks it or one of its
   * blocks; EvidenceIntegrityError when a block does not hash to its CID or the DAG is not a UnixFS
   * file within the limits ({@link MAX_EVIDENCE_BYTES}, {@link MAX_DAG_BLOCKS}); UnavailableError
   * (retryable) when the IPFS node cannot be reached or does not answer in time.
   */
  get(cid: string): Promise<Uint8Array>;
  /**
   * Whether this store holds `cid` and, for a DAG, every block it links to (without fetching anything
   * from elsewhere). Presence only: {@link EvidenceStore.get} is what checks the bytes.
   * @throws InputError for a malformed CID; EvidenceIntegrityError for a DAG node that does not match
   * its CID or is not UnixFS; UnavailableError as for {@link EvidenceStore.get}.
   */
  has(cid: string): Promise<boolean>;
}

/**
 * The largest block, 1 MiB: Kubo refuses bigger blocks unless told to, and peers will not exchange
 * them. Evidence up to this size is one raw block; larger evidence is split into a DAG of blocks.
 */
export const MAX_BLOCK_BYTES = 1024 * 1024;

/**
 * The largest evidence (a sealed bundle), 256 MiB: four times the gateway's CDR file limit once
 * base64 and JSON have grown it by a third. Bundles are built and opened in memory.
 */
export const MAX_EVIDENCE_BYTES = 256 * 1024 * 1024;

/**
 * The most blocks read for one CID, root included. A bundle of {@link MAX_EVIDENCE_BYTES} in
 * 256 KiB leaves is 1024 leaves and 7 nodes; the bound stops a peer from citing a CID of a huge (or,
 * through repeated links, exponentially large) DAG.
 */
export const MAX_DAG_BLOCKS = 2048;

/** @throws InputError when `bytes` is not a Uint8Array of at most {@link MAX_BLOCK_BYTES}. */
export function checkBlock(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array)) {
    throw new InputError("an evidence block must be a Uint8Array", { field: "bytes" });
  }
  if (bytes.byteLength > MAX_BLOCK_BYTES) {
    throw new InputError("evidence block too large", {
      field: "bytes",
      details: `${bytes.byteLength} bytes; a block holds at most ${MAX_BLOCK_BYTES} (1 MiB)`,
    });
  }
}

/** @throws InputError when `bytes` is not a Uint8Array of at most {@link MAX_EVIDENCE_BYTES}. */
export function checkEvidenceSize(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array)) {
    throw new InputError("evidence must be a Uint8Array", { field: "bytes" });
  }
  if (bytes.byteLength > MAX_EVIDENCE_BYTES) {
    throw new InputError("evidence too large", {
      field: "bytes",
      details: `${bytes.byteLength} bytes; evidence is at most ${MAX_EVIDENCE_BYTES} (256 MiB)`,
    });
  }
}
