/*
 * The arbiter's copy of a period's evidence (README.md "The arbiter's copy"): a bundle sealed to the
 * arbiter's own Ethereum key, so that the arbiter opens it with that key alone, in the console or
 * anywhere else, without being handed the agreement's secret or any period key.
 *
 *   offset  bytes  field
 *   0       4      magic "ICLA"
 *   4       1      format version, 1
 *   5       33     ephemeral secp256k1 public key, compressed
 *   38      n      AES-256-GCM ciphertext of the payload (JSON, UTF-8)
 *   38+n    16     GCM tag
 *
 * ECIES on secp256k1 (the curve of the arbiter's address) with ethers' SigningKey for the ECDH:
 *   shared = x coordinate of ECDH(ephemeral private key, arbiter public key)      (32 bytes)
 *   key    = HKDF-SHA256(ikm = shared, salt = the 33-byte ephemeral public key,
 *                        info = "interconnect-ledger/arbiter-seal/v1", L = 32)
 *   AES-256-GCM with that key, a zero 96-bit nonce and the 38 header bytes as additional data.
 *
 * The nonce may be fixed because every key seals exactly one payload: the ephemeral key is derived from
 * the period's evidence key, the source CID and the arbiter's public key, so re-sealing the same bundle
 * for the same arbiter gives the same bytes (and the same CID: the store keeps one copy), while any
 * other bundle or arbiter gets another ephemeral key and so another AES key.
 */
import { createCipheriv, createDecipheriv, hkdfSync } from "node:crypto";
import { SigningKey, getBytes, hexlify } from "ethers";
import { InputError } from "../errors";
import { EvidenceBundleError } from "./bundle";

const MAGIC = Uint8Array.of(0x49, 0x43, 0x4c, 0x41); // "ICLA"
const VERSION = 1;
const PUBLIC_KEY_BYTES = 33;
const HEADER_BYTES = MAGIC.length + 1 + PUBLIC_KEY_BYTES;
const TAG_BYTES = 16;
const NONCE = new Uint8Array(12);
/** HKDF `info` of the AES key (the browser's console derives it too: gateway/console/js/arbiter-copy.js). */
export const ARBITER_SEAL_INFO = "interconnect-ledger/arbiter-seal/v1";
/** HKDF `info` prefix of the ephemeral key; the source CID and the arbiter's public key follow it. */
const EPHEMERAL_INFO = "interconnect-ledger/arbiter-ephemeral/v1";
/** The order of secp256k1: a private key lies in [1, N). */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * `publicKey` (0x, 33 compressed or 65 uncompressed bytes) as a compressed secp256k1 key.
 * @throws InputError when it is not a point of the curve.
 */
export function compressedPublicKey(publicKey: string): string {
  try {
    return SigningKey.computePublicKey(publicKey, true);
  } catch (error) {
    throw new InputError("not a secp256k1 public key (0x and 33 or 65 bytes as hex)", {
      field: "publicKey",
      cause: error,
    });
  }
}

/**
 * Seals `payload` (JSON) to the holder of `arbiterPublicKey`. `evidenceKey` (the period's key) and
 * `sourceCid` make the ephemeral key, so the same bundle re-sealed for the same arbiter is the same bytes.
 * @throws InputError for a public key not on the curve, a key that is not 32 bytes, or a payload JSON
 * cannot encode.
 */
export function sealForArbiter(
  payload: object,
  arbiterPublicKey: string,
  evidenceKey: Uint8Array,
  sourceCid: string,
): Uint8Array {
  if (!(evidenceKey instanceof Uint8Array) || evidenceKey.byteLength !== 32) {
    throw new InputError("an evidence key must be 32 bytes", { field: "key" });
  }
  const arbiter = compressedPublicKey(arbiterPublicKey);
  const ephemeral = new SigningKey(ephemeralKey(evidenceKey, sourceCid, arbiter));
  const header = concat(MAGIC, Uint8Array.of(VERSION), getBytes(ephemeral.compressedPublicKey));
  const key = aesKey(ephemeral.computeSharedSecret(arbiter), header);
  let plaintext: Uint8Array;
  try {
    plaintext = new TextEncoder().encode(JSON.stringify(payload));
  } catch (error) {
    throw new InputError("the arbiter's copy cannot be encoded as JSON", { field: "payload", cause: error });
  }
  const cipher = createCipheriv("aes-256-gcm", key, NONCE, { authTagLength: TAG_BYTES });
  cipher.setAAD(header);
  return concat(header, cipher.update(plaintext), cipher.final(), cipher.getAuthTag());
}

/**
 * Opens an arbiter's copy with the arbiter's private key (the console does the same in the browser).
 * @throws EvidenceBundleError for bytes that are not an arbiter's copy, or that fail authentication
 * (altered, or sealed to another key).
 */
export function openForArbiter(bundle: Uint8Array, privateKey: string): object {
  if (bundle.byteLength < HEADER_BYTES + TAG_BYTES || !MAGIC.every((byte, i) => bundle[i] === byte)) {
    throw new EvidenceBundleError("not an arbiter's copy of evidence", "the magic bytes are not ICLA");
  }
  if (bundle[MAGIC.length] !== VERSION) {
    throw new EvidenceBundleError(`unsupported arbiter's copy version ${String(bundle[MAGIC.length])}`);
  }
  const header = bundle.subarray(0, HEADER_BYTES);
  const ephemeral = hexlify(header.subarray(MAGIC.length + 1));
  try {
    const key = aesKey(new SigningKey(privateKey).computeSharedSecret(ephemeral), header);
    const decipher = createDecipheriv("aes-256-gcm", key, NONCE, { authTagLength: TAG_BYTES });
    decipher.setAAD(header);
    decipher.setAuthTag(bundle.subarray(bundle.byteLength - TAG_BYTES));
    const plaintext = concat(
      decipher.update(bundle.subarray(HEADER_BYTES, bundle.byteLength - TAG_BYTES)),
      decipher.final(),
    );
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plaintext)) as object;
  } catch (error) {
    throw new EvidenceBundleError(
      "the arbiter's copy failed authentication",
      "the bytes were altered, or it was sealed to another key",
      error,
    );
  }
}

/** HKDF-SHA256 of the ECDH point's x coordinate, salted with the ephemeral public key. */
function aesKey(sharedPoint: string, header: Uint8Array): Uint8Array {
  const x = getBytes(sharedPoint).subarray(1, 33);
  const salt = header.subarray(MAGIC.length + 1);
  return new Uint8Array(hkdfSync("sha256", x, salt, new TextEncoder().encode(ARBITER_SEAL_INFO), 32));
}

/** A private key in [1, N) derived from the period's key, the source CID and the arbiter's key. */
function ephemeralKey(evidenceKey: Uint8Array, sourceCid: string, arbiter: string): string {
  for (let counter = 0; ; counter++) {
    const info = concat(
      new TextEncoder().encode(`${EPHEMERAL_INFO}\0${sourceCid}\0`),
      getBytes(arbiter),
      Uint8Array.of(counter),
    );
    const candidate = hexlify(new Uint8Array(hkdfSync("sha256", evidenceKey, new Uint8Array(), info, 32)));
    const value = BigInt(candidate);
    // Out of range with probability about 2^-128: derive again with the next counter.
    if (value > 0n && value < N) return candidate;
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
