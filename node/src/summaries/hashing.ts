import crypto from "node:crypto";
import { InputError } from "../errors";

/**
 * The hashing rules of the summary tree (docs/PROTOCOL.md, "Hashing and the tree"). Every hash is
 * SHA-256 over a one-byte domain tag followed by fixed-width or last-position fields, so no input of
 * one kind can be read as another.
 */

/** Domain tags: the first byte of every hashed message. */
export const TAG_PATH = 0x00;
export const TAG_LEAF = 0x01;
export const TAG_NODE = 0x02;
export const TAG_EMPTY = 0x03;

/** Bytes in a hash, a salt and a tree path. */
export const HASH_BYTES = 32;
/** Depth of the tree: one level per bit of the path hash. */
export const TREE_DEPTH = 256;

/*
 * The tree hashes a few hundred thousand short messages per build. Node's per-call cost dominates
 * SHA-256 itself there, and most of it is allocating the input and the output Buffer; so messages
 * are written into one scratch buffer and digests come back as 32-character latin1 strings (one
 * character per byte: they compare, sort and index like the bytes). The Buffer functions below
 * wrap these.
 */
let scratch = Buffer.alloc(1024);

function digest(length: number): string {
  return crypto.hash("sha256", scratch.subarray(0, length), "binary");
}

function ensureScratch(length: number): void {
  if (scratch.length < length) scratch = Buffer.alloc(Math.max(length, 2 * scratch.length));
}

/** {@link leafPath} as a latin1 string. */
export function leafPathString(salt: Uint8Array, key: Uint8Array): string {
  ensureScratch(1 + HASH_BYTES + key.length);
  scratch[0] = TAG_PATH;
  scratch.set(salt, 1);
  scratch.set(key, 1 + HASH_BYTES);
  return digest(1 + HASH_BYTES + key.length);
}

/** {@link leafHash} as a latin1 string; `path` is a latin1 string too. */
export function leafHashString(path: string, value: Uint8Array): string {
  ensureScratch(1 + HASH_BYTES + value.length);
  scratch[0] = TAG_LEAF;
  scratch.write(path, 1, "latin1");
  scratch.set(value, 1 + HASH_BYTES);
  return digest(1 + HASH_BYTES + value.length);
}

/** {@link nodeHash} over latin1 strings. */
export function nodeHashString(left: string, right: string): string {
  scratch[0] = TAG_NODE;
  scratch.write(left, 1, "latin1");
  scratch.write(right, 1 + HASH_BYTES, "latin1");
  return digest(1 + 2 * HASH_BYTES);
}

/** Hash of an empty subtree: SHA-256(0x03). Never zero, so an empty summary's root is not `bytes32(0)`. */
export const EMPTY_HASH: Buffer = crypto.hash("sha256", Uint8Array.of(TAG_EMPTY), "buffer");
/** {@link EMPTY_HASH} as a latin1 string. */
export const EMPTY_HASH_STRING: string = EMPTY_HASH.toString("latin1");

/**
 * Position of a leaf: SHA-256(0x00 ‖ salt ‖ key). Salted so the tree's shape says nothing about the
 * keys to anyone without the salt.
 */
export function leafPath(salt: Uint8Array, key: Uint8Array): Buffer {
  return Buffer.from(leafPathString(salt, key), "latin1");
}

/** Hash of a leaf: SHA-256(0x01 ‖ path ‖ value); the path binds the salt and the key. */
export function leafHash(path: Uint8Array, value: Uint8Array): Buffer {
  return Buffer.from(leafHashString(Buffer.from(path).toString("latin1"), value), "latin1");
}

/** Hash of an inner node with two or more leaves below: SHA-256(0x02 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return Buffer.from(
    nodeHashString(Buffer.from(left).toString("latin1"), Buffer.from(right).toString("latin1")),
    "latin1",
  );
}

/**
 * Checks that `salt` is 32 bytes.
 * @throws InputError when it is not.
 */
export function checkSalt(salt: Uint8Array): void {
  if (salt.length !== HASH_BYTES) {
    throw new InputError(`the salt must be ${HASH_BYTES} bytes, not ${salt.length}`);
  }
}

/** `0x`-prefixed lowercase hex of some bytes. */
export function toHex(bytes: Uint8Array): string {
  return "0x" + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/**
 * Bytes of `0x`-prefixed (or bare) hex.
 * @throws InputError when the text is not hex of the expected length.
 */
export function fromHex(hex: string, bytes?: number): Buffer {
  const digits = hex.startsWith("0x") || hex.startsWith("0X") ? hex.slice(2) : hex;
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits) || (bytes !== undefined && digits.length !== bytes * 2)) {
    throw new InputError(`not ${bytes === undefined ? "" : `${bytes}-byte `}hex: ${hex.slice(0, 80)}`);
  }
  return Buffer.from(digits, "hex");
}
