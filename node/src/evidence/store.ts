import { InputError } from "../errors";

/**
 * Content-addressed storage of evidence blocks. A block is at most {@link MAX_BLOCK_BYTES}; its CID is
 * CIDv1, raw, sha2-256 in base32 (`bafkrei…`), the same for the local store and for a Kubo node.
 */
export interface EvidenceStore {
  /**
   * Stores one block and returns its CID; storing the same bytes again returns the same CID.
   * @throws InputError when the block is larger than {@link MAX_BLOCK_BYTES}; UnavailableError
   * (retryable) when the IPFS node cannot be reached; EvidenceIntegrityError when it answers with
   * another CID.
   */
  put(bytes: Uint8Array): Promise<string>;
  /**
   * The bytes of the block `cid`, checked against the CID.
   * @throws InputError for a malformed CID; NotFoundError when the local store lacks it;
   * EvidenceIntegrityError when the bytes do not hash to the CID; UnavailableError (retryable) when
   * the IPFS node cannot be reached or does not answer in time.
   */
  get(cid: string): Promise<Uint8Array>;
  /**
   * Whether this store holds the block `cid` (without fetching it from elsewhere).
   * @throws InputError for a malformed CID; UnavailableError as for {@link EvidenceStore.get}.
   */
  has(cid: string): Promise<boolean>;
}

/**
 * The largest block, 1 MiB: Kubo refuses bigger blocks unless told to, and peers will not exchange
 * them. Larger evidence must be split by the caller (see README).
 */
export const MAX_BLOCK_BYTES = 1024 * 1024;

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
