import { createHash } from "node:crypto";
import { BaseError, InputError } from "../errors";

/*
 * The one kind of CID the evidence store deals in: CIDv1, multicodec `raw` (0x55), multihash
 * sha2-256 (0x12, 32 bytes), in its canonical string form, multibase base32 lower case (`b…`). That
 * is what Kubo prints for `ipfs block put --cid-codec raw` (`bafkrei…`).
 *
 * Computed here with node:crypto rather than with `multiformats`: multiformats 13 publishes only an
 * `import` export condition, so a CommonJS `require()` cannot resolve it by name on Node 20 (v14 adds
 * `module-sync`). The layout is four fixed bytes and a digest, and the tests check every CID against
 * multiformats itself.
 */

/** CIDv1, raw, sha2-256, 32-byte digest: the bytes every CID here starts with. */
const PREFIX = Uint8Array.of(0x01, 0x55, 0x12, 0x20);
const DIGEST_BYTES = 32;
const CID_BYTES = PREFIX.length + DIGEST_BYTES;
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
/** "b" and 36 bytes in unpadded base32: ceil(36 × 8 / 5) = 58 characters. */
const CID_STRING = /^b[a-z2-7]{58}$/;

/** The same bytes did not hash to the CID they were stored or fetched under. */
export class EvidenceIntegrityError extends BaseError {
  override name = "EvidenceIntegrityError";
  constructor(shortMessage: string, details?: string) {
    super(shortMessage, { code: "EVIDENCE_INTEGRITY", details });
  }
}

/** The CID (CIDv1, raw, sha2-256, base32) of one block of bytes. */
export function rawBlockCid(bytes: Uint8Array): string {
  const digest = createHash("sha256").update(bytes).digest();
  const cid = new Uint8Array(CID_BYTES);
  cid.set(PREFIX, 0);
  cid.set(digest, PREFIX.length);
  return "b" + base32(cid);
}

/**
 * Checks that `text` is a CIDv1 raw sha2-256 in canonical base32 and returns it. Only strings of
 * `[a-z2-7]` come back, so the result is safe as a file name.
 * @throws InputError for anything else: another base or version, another codec or hash, stray characters.
 */
export function parseRawBlockCid(text: string): string {
  if (typeof text !== "string" || !CID_STRING.test(text)) {
    throw new InputError("not a CIDv1 raw sha2-256 block CID in base32", {
      field: "cid",
      details: `expected "bafkrei…" (59 characters), got ${describe(text)}`,
    });
  }
  const bytes = unbase32(text.slice(1));
  const prefixMatches = PREFIX.every((byte, i) => bytes[i] === byte);
  // Re-encoding catches non-zero padding bits: two strings must never name the same block.
  if (bytes.length !== CID_BYTES || !prefixMatches || "b" + base32(bytes) !== text) {
    throw new InputError("not a CIDv1 raw sha2-256 block CID in base32", {
      field: "cid",
      details: `got ${describe(text)}`,
    });
  }
  return text;
}

/**
 * Checks that `bytes` hash to `cid` (already parsed).
 * @throws EvidenceIntegrityError when they do not.
 */
export function verifyBlock(cid: string, bytes: Uint8Array, source: string): void {
  const actual = rawBlockCid(bytes);
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
