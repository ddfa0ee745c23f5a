import {
  createCipheriv,
  createDecipheriv,
  hkdfSync,
  randomBytes,
  type Cipher,
  type Decipher,
} from "node:crypto";
import { BaseError, InputError } from "../errors";
import type { EvidenceStore } from "./store";

/*
 * An evidence bundle (format in README.md):
 *
 *   offset  bytes  field
 *   0       4      magic "ICLE"
 *   4       1      format version, 1
 *   5       1      payload kind: 1 = bytes, 2 = JSON (UTF-8)
 *   6       12     nonce, random per bundle
 *   18      n      AES-256-GCM ciphertext of the payload
 *   18+n    16     GCM tag
 *
 * The additional authenticated data is the 6 header bytes followed by the encoded context, so a bundle
 * opens only under the agreement, period and purpose it was sealed for.
 */

const MAGIC = Uint8Array.of(0x49, 0x43, 0x4c, 0x45); // "ICLE"
const VERSION = 1;
const KIND_BYTES = 1;
const KIND_JSON = 2;
const HEADER_BYTES = MAGIC.length + 2;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/** The shortest shared secret accepted for key derivation. */
export const MIN_AGREEMENT_SECRET_BYTES = 32;
/** HKDF `info` prefix; the agreement and period follow it (see {@link deriveEvidenceKey}). */
export const EVIDENCE_KEY_INFO = "interconnect-ledger/evidence-key/v1";
const MAX_LABEL_BYTES = 1024;
/** How much is encrypted or decrypted per cipher call. */
const CRYPTO_SLICE_BYTES = 1024 * 1024;

/** What a bundle is bound to: it opens only with the same three values. */
export interface EvidenceContext {
  /** The agreement's id as both parties name it (e.g. the on-chain agreement id). */
  agreementId: string;
  /** The settlement period (a non-negative integer). */
  period: number;
  /** What the bundle holds, e.g. `discrepancy-report` or `disputed-cdrs`. */
  purpose: string;
}

/** A bundle that cannot be opened: not a bundle, another version, altered, or the wrong key or context. */
export class EvidenceBundleError extends BaseError {
  override name = "EvidenceBundleError";
  constructor(shortMessage: string, details?: string, cause?: unknown) {
    super(shortMessage, { code: "EVIDENCE_BUNDLE_REJECTED", details, cause });
  }
}

/**
 * The key of one agreement's evidence for one period: HKDF-SHA256 of the agreement's shared secret,
 * no salt, `info` = UTF-8 {@link EVIDENCE_KEY_INFO}, a zero byte, then the agreement and period encoded
 * as in the context (u16 length + UTF-8 agreement id, u64 period, big-endian), 32 bytes out. Both
 * parties derive the same key; handing it to an arbiter discloses that period and no other.
 * @throws InputError for a secret shorter than {@link MIN_AGREEMENT_SECRET_BYTES}, an empty or overlong
 * agreement id, or a period that is not a non-negative safe integer.
 */
export function deriveEvidenceKey(
  agreementSecret: Uint8Array,
  agreementId: string,
  period: number,
): Uint8Array {
  if (!(agreementSecret instanceof Uint8Array) || agreementSecret.byteLength < MIN_AGREEMENT_SECRET_BYTES) {
    throw new InputError(`the agreement secret must be at least ${MIN_AGREEMENT_SECRET_BYTES} bytes`, {
      field: "agreementSecret",
    });
  }
  const info = concat(
    new TextEncoder().encode(EVIDENCE_KEY_INFO),
    Uint8Array.of(0),
    encodeLabel(agreementId, "agreementId"),
    encodePeriod(period),
  );
  return new Uint8Array(hkdfSync("sha256", agreementSecret, new Uint8Array(), info, KEY_BYTES));
}

/**
 * Encrypts a payload into a bundle for `context` with a fresh random nonce. An object is stored as
 * JSON (encode bigints as decimal strings first); bytes are stored as they are.
 * @throws InputError for a key that is not 32 bytes, a bad context, or an object JSON cannot encode.
 */
export function sealEvidence(
  payload: object | Uint8Array,
  key: Uint8Array,
  context: EvidenceContext,
): Uint8Array {
  checkKey(key);
  const aadContext = encodeContext(context);
  const [kind, plaintext] = encodePayload(payload);
  const header = concat(MAGIC, Uint8Array.of(VERSION, kind));
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(concat(header, aadContext));
  const bundle = new Uint8Array(HEADER_BYTES + NONCE_BYTES + plaintext.byteLength + TAG_BYTES);
  bundle.set(header, 0);
  bundle.set(nonce, HEADER_BYTES);
  const end = transform(cipher, plaintext, bundle, HEADER_BYTES + NONCE_BYTES);
  bundle.set(cipher.getAuthTag(), end);
  return bundle;
}

/**
 * Decrypts a bundle sealed by {@link sealEvidence} for the same context and returns the payload: a
 * Uint8Array for bytes, the parsed object for JSON.
 * @throws EvidenceBundleError when the bytes are not a version-1 bundle or fail authentication
 * (altered bytes, wrong key or wrong context: GCM cannot tell these apart); InputError for a key that is
 * not 32 bytes or a bad context.
 */
export function openEvidence(
  bytes: Uint8Array,
  key: Uint8Array,
  context: EvidenceContext,
): object | Uint8Array {
  checkKey(key);
  const aadContext = encodeContext(context);
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < HEADER_BYTES + NONCE_BYTES + TAG_BYTES) {
    throw new EvidenceBundleError("not an evidence bundle", "too short");
  }
  if (!MAGIC.every((byte, i) => bytes[i] === byte)) {
    throw new EvidenceBundleError("not an evidence bundle", "the magic bytes are not ICLE");
  }
  const version = bytes[MAGIC.length];
  if (version !== VERSION) {
    throw new EvidenceBundleError(
      `unsupported evidence bundle version ${String(version)}`,
      `this node reads version ${VERSION}`,
    );
  }
  const kind = bytes[MAGIC.length + 1];
  if (kind !== KIND_BYTES && kind !== KIND_JSON) {
    throw new EvidenceBundleError(`unknown evidence payload kind ${String(kind)}`);
  }
  const header = bytes.subarray(0, HEADER_BYTES);
  const nonce = bytes.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES);
  const ciphertext = bytes.subarray(HEADER_BYTES + NONCE_BYTES, bytes.byteLength - TAG_BYTES);
  const tag = bytes.subarray(bytes.byteLength - TAG_BYTES);
  const plaintext = new Uint8Array(ciphertext.byteLength);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(concat(header, aadContext));
    decipher.setAuthTag(tag);
    transform(decipher, ciphertext, plaintext, 0);
  } catch (error) {
    throw new EvidenceBundleError(
      "the evidence bundle failed authentication",
      "the bytes were altered, or the key or the context (agreement, period, purpose) differ from sealing",
      error,
    );
  }
  return kind === KIND_BYTES ? plaintext : decodeJson(plaintext);
}

/**
 * Seals `payload` for `context` and stores the bundle, whatever its size (one block up to 1 MiB, a
 * UnixFS DAG above); returns its CID.
 * @throws as {@link sealEvidence} and {@link EvidenceStore.put} (InputError beyond 256 MiB).
 */
export async function putEvidence(
  store: EvidenceStore,
  payload: object | Uint8Array,
  key: Uint8Array,
  context: EvidenceContext,
): Promise<string> {
  return store.put(sealEvidence(payload, key, context));
}

/**
 * Fetches the bundle `cid` (a block or a DAG, every block checked) and opens it for `context`.
 * @throws as {@link EvidenceStore.get} and {@link openEvidence}.
 */
export async function getEvidence(
  store: EvidenceStore,
  cid: string,
  key: Uint8Array,
  context: EvidenceContext,
): Promise<object | Uint8Array> {
  return openEvidence(await store.get(cid), key, context);
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.byteLength !== KEY_BYTES) {
    throw new InputError(`an evidence key must be ${KEY_BYTES} bytes`, { field: "key" });
  }
}

function encodePayload(payload: object | Uint8Array): [number, Uint8Array] {
  if (payload instanceof Uint8Array) return [KIND_BYTES, payload];
  if (typeof payload !== "object" || payload === null) {
    throw new InputError("evidence must be an object or bytes", { field: "payload" });
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (error) {
    throw new InputError("evidence cannot be encoded as JSON", {
      field: "payload",
      details: `${(error as Error).message} (encode bigints as decimal strings)`,
      cause: error,
    });
  }
  if (json === undefined) throw new InputError("evidence cannot be encoded as JSON", { field: "payload" });
  return [KIND_JSON, new TextEncoder().encode(json)];
}

function decodeJson(plaintext: Uint8Array): object {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plaintext));
  } catch (error) {
    throw new EvidenceBundleError("the evidence bundle holds invalid JSON", (error as Error).message, error);
  }
  if (typeof value !== "object" || value === null) {
    throw new EvidenceBundleError("the evidence bundle holds JSON that is not an object or array");
  }
  return value;
}

/** u16 length + UTF-8 agreement id, u64 period, u16 length + UTF-8 purpose; all big-endian. */
function encodeContext(context: EvidenceContext): Uint8Array {
  if (typeof context !== "object" || context === null) {
    throw new InputError("an evidence context is required", { field: "context" });
  }
  return concat(
    encodeLabel(context.agreementId, "agreementId"),
    encodePeriod(context.period),
    encodeLabel(context.purpose, "purpose"),
  );
}

function encodeLabel(value: string, field: string): Uint8Array {
  const bytes = typeof value === "string" ? new TextEncoder().encode(value) : new Uint8Array();
  if (bytes.byteLength === 0 || bytes.byteLength > MAX_LABEL_BYTES) {
    throw new InputError(`${field} must be a non-empty string of at most ${MAX_LABEL_BYTES} bytes`, {
      field,
    });
  }
  const out = new Uint8Array(2 + bytes.byteLength);
  new DataView(out.buffer).setUint16(0, bytes.byteLength);
  out.set(bytes, 2);
  return out;
}

function encodePeriod(period: number): Uint8Array {
  if (!Number.isSafeInteger(period) || period < 0) {
    throw new InputError("period must be a non-negative integer", {
      field: "period",
      details: `got ${String(period)}`,
    });
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(period));
  return out;
}

/**
 * Runs `input` through the cipher into `output` from `at`, a slice at a time, so that a large bundle
 * exists once (plus a slice) rather than once per concatenation; returns where the output ended.
 * GCM is a stream mode: every slice comes out as long as it went in, and `final` adds nothing.
 */
function transform(cipher: Cipher | Decipher, input: Uint8Array, output: Uint8Array, at: number): number {
  for (let i = 0; i < input.byteLength; i += CRYPTO_SLICE_BYTES) {
    const out = cipher.update(input.subarray(i, i + CRYPTO_SLICE_BYTES));
    output.set(out, at);
    at += out.byteLength;
  }
  const last = cipher.final();
  output.set(last, at);
  return at + last.byteLength;
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
