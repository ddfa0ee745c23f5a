import { createHash } from "node:crypto";
import { BaseError, InputError } from "../errors";

/*
 * The two kinds of CID the evidence store deals in, both CIDv1 with multihash sha2-256 (0x12, 32
 * bytes) in their canonical string form, multibase base32 lower case (`b…`):
 *
 * - codec `raw` (0x55), `bafkrei…`: a block of bytes as it is. Every bundle of at most 1 MiB is one
 *   such block, as Kubo prints for `ipfs block put --cid-codec raw`; so is every leaf of a larger one.
 * - codec `dag-pb` (0x70), `bafybei…`: a UnixFS node linking to other blocks, the root (and inner
 *   nodes) of a bundle over 1 MiB (unixfs.ts), as Kubo prints for `ipfs add --cid-version=1`.
 *
 * The strings are computed and parsed here with node:crypto: the layout is four fixed bytes and a
 * digest, and keeping it here keeps file names and on-chain CIDs independent of any library. Where CID
 * objects are needed (the UnixFS importer and exporter, CAR files) they come from `multiformats`, which
 * v14 lets CommonJS `require()` by name (its exports add the `module-sync` condition). The tests check
 * every CID against multiformats and against CIDs Kubo printed.
 */

/** The multicodecs a block may have, by name. */
export const BLOCK_CODECS = { raw: 0x55, "dag-pb": 0x70 } as const;
export type BlockCodec = keyof typeof BLOCK_CODECS;

/** CIDv1, then the codec byte, then sha2-256 with a 32-byte digest. */
const VERSION = 0x01;
const MULTIHASH = Uint8Array.of(0x12, 0x20);
const DIGEST_BYTES = 32;
const CID_BYTES = 2 + MULTIHASH.length + DIGEST_BYTES;
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
/** "b" and 36 bytes in unpadded base32: ceil(36 × 8 / 5) = 58 characters. */
const CID_STRING = /^b[a-z2-7]{58}$/;

/** The same bytes did not hash to the CID they were stored or fetched under, or a DAG is not evidence. */
export class EvidenceIntegrityError extends BaseError {
  override name = "EvidenceIntegrityError";
  constructor(shortMessage: string, details?: string) {
    super(shortMessage, { code: "EVIDENCE_INTEGRITY", details });
  }
}

/** The CID (CIDv1, `codec`, sha2-256, base32) of one block of bytes. */
export function blockCid(codec: BlockCodec, bytes: Uint8Array): string {
  const digest = createHash("sha256").update(bytes).digest();
  const cid = new Uint8Array(CID_BYTES);
  cid.set([VERSION, BLOCK_CODECS[codec], ...MULTIHASH], 0);
  cid.set(digest, CID_BYTES - DIGEST_BYTES);
  return "b" + base32(cid);
}

/** The CID (CIDv1, raw, sha2-256, base32, `bafkrei…`) of one block of bytes. */
export function rawBlockCid(bytes: Uint8Array): string {
  return blockCid("raw", bytes);
}

/**
 * Checks that `text` is a CIDv1, raw or dag-pb, sha2-256, in canonical base32, and returns it. Only
 * strings of `[a-z2-7]` come back, so the result is safe as a file name.
 * @throws InputError for anything else: another base or version (CIDv0 `Qm…`), another codec or
 * hash, upper case, non-zero padding bits, stray characters.
 */
export function parseBlockCid(text: string): string {
  if (typeof text !== "string" || !CID_STRING.test(text)) {
    throw new InputError("not an evidence CID (CIDv1 raw or dag-pb, sha2-256, base32)", {
      field: "cid",
      details: `expected "bafkrei…" or "bafybei…" (59 characters), got ${describe(text)}`,
    });
  }
  const bytes = unbase32(text.slice(1));
  const codec = bytes[1];
  const prefixMatches =
    bytes[0] === VERSION &&
    (codec === BLOCK_CODECS.raw || codec === BLOCK_CODECS["dag-pb"]) &&
    MULTIHASH.every((byte, i) => bytes[2 + i] === byte);
  // Re-encoding catches non-zero padding bits: two strings must never name the same block.
  if (bytes.length !== CID_BYTES || !prefixMatches || "b" + base32(bytes) !== text) {
    throw new InputError("not an evidence CID (CIDv1 raw or dag-pb, sha2-256, base32)", {
      field: "cid",
      details: `got ${describe(text)}`,
    });
  }
  return text;
}

/** Whether `text` is a CID {@link parseBlockCid} accepts. */
export function isBlockCid(text: string): boolean {
  try {
    parseBlockCid(text);
    return true;
  } catch {
    return false;
  }
}

/** The codec of a CID that {@link parseBlockCid} accepted. */
export function codecOf(cid: string): BlockCodec {
  // With the same version and multihash, the codec byte alone decides the prefix: 01 55 12 20 encodes
  // as "bafkrei", 01 70 12 20 as "bafybei".
  return cid.startsWith("bafy") ? "dag-pb" : "raw";
}

/**
 * Checks that `bytes` hash to `cid` (already parsed), with the codec the CID names.
 * @throws EvidenceIntegrityError when they do not.
 */
export function verifyBlock(cid: string, bytes: Uint8Array, source: string): void {
  const actual = blockCid(codecOf(cid), bytes);
  if (actual !== cid) {
    throw new EvidenceIntegrityError(
      `evidence block does not match its CID (${source})`,
      `expected ${cid}, the bytes hash to ${actual}`,
    );
  }
}

function describe(value: unknown): string {
  if (typeof value !== "string") return typeof value;
  return JSON.stringify(value.length > 80 ? value.slice(0, 80) + "…" : value);
}

/** RFC 4648 base32, lower case, no padding (multibase `b`). */
function base32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(buffer >> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** The inverse of {@link base32}; the caller has checked the alphabet. */
function unbase32(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let at = 0;
  for (const char of text) {
    buffer = (buffer << 5) | BASE32.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (buffer >> bits) & 0xff;
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}
