import crypto from "node:crypto";
import { InputError } from "../errors";
import { fromHex } from "./hashing";
import type { TreeEntry } from "./merkle-tree";

/**
 * The canonical bytes of a usage leaf (docs/PROTOCOL.md, "Leaves: canonical bytes"): what two
 * independent implementations must agree on byte for byte to reach the same root from the same
 * traffic.
 */

/** Agreement-relative direction: `AB` is traffic A hands to B (A owes B), `BA` the reverse. */
export type LeafDirection = "AB" | "BA";
export type LeafService = "voice" | "sms" | "data";

/** Which day, service, direction and destination a leaf counts. */
export interface LeafKey {
  direction: LeafDirection;
  service: LeafService;
  /** Destination name from the tariff deck, compared after Unicode NFC normalisation. */
  destination: string;
  /** UTC day as days since 1970-01-01. */
  day: number;
}

/** What a leaf counts: rated records, billed seconds (voice), messages (sms) or bytes (data), money. */
export interface LeafValue {
  records: bigint;
  billed: bigint;
  /** Micro-units (10^-6 of the settlement token). */
  amount: bigint;
}

export interface UsageLeaf extends LeafKey, LeafValue {}

const DIRECTION_CODES: Record<LeafDirection, number> = { AB: 0x01, BA: 0x02 };
const SERVICE_CODES: Record<LeafService, number> = { voice: 0x01, sms: 0x02, data: 0x03 };
const DIRECTIONS = new Map(
  Object.entries(DIRECTION_CODES).map(([name, code]) => [code, name as LeafDirection]),
);
const SERVICES = new Map(Object.entries(SERVICE_CODES).map(([name, code]) => [code, name as LeafService]));

/** Bytes of an encoded leaf value: records u64, billed u64, amount u128, all big-endian. */
export const LEAF_VALUE_BYTES = 32;
const U64_MAX = (1n << 64n) - 1n;
const U128_MAX = (1n << 128n) - 1n;
const MAX_DESTINATION_BYTES = 0xffff;

/**
 * Key bytes: version 0x01 ‖ direction u8 ‖ service u8 ‖ day u32 ‖ destination length u16 ‖
 * destination UTF-8 (NFC); integers big-endian.
 * @throws InputError when a field is out of range.
 */
export function encodeLeafKey(key: LeafKey): Buffer {
  const direction = DIRECTION_CODES[key.direction];
  const service = SERVICE_CODES[key.service];
  if (direction === undefined) throw new InputError(`unknown leaf direction ${String(key.direction)}`);
  if (service === undefined) throw new InputError(`unknown leaf service ${String(key.service)}`);
  if (!Number.isInteger(key.day) || key.day < 0 || key.day > 0xffffffff) {
    throw new InputError(`leaf day out of range: ${key.day}`);
  }
  const destination = Buffer.from(key.destination.normalize("NFC"), "utf8");
  if (destination.length > MAX_DESTINATION_BYTES) {
    throw new InputError(
      `destination longer than ${MAX_DESTINATION_BYTES} bytes: ${key.destination.slice(0, 40)}…`,
    );
  }
  const out = Buffer.alloc(9 + destination.length);
  out[0] = 0x01;
  out[1] = direction;
  out[2] = service;
  out.writeUInt32BE(key.day, 3);
  out.writeUInt16BE(destination.length, 7);
  destination.copy(out, 9);
  return out;
}

/**
 * Inverse of {@link encodeLeafKey}.
 * @throws InputError when the bytes are not a canonical key.
 */
export function decodeLeafKey(bytes: Uint8Array): LeafKey {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const direction = DIRECTIONS.get(buffer[1] ?? -1);
  const service = SERVICES.get(buffer[2] ?? -1);
  if (buffer.length < 9 || buffer[0] !== 0x01 || direction === undefined || service === undefined) {
    throw new InputError("not a canonical leaf key");
  }
  const length = buffer.readUInt16BE(7);
  if (buffer.length !== 9 + length) throw new InputError("not a canonical leaf key (length)");
  const destination = buffer.subarray(9).toString("utf8");
  if (
    destination.normalize("NFC") !== destination ||
    !Buffer.from(destination, "utf8").equals(buffer.subarray(9))
  ) {
    throw new InputError("not a canonical leaf key (destination is not NFC UTF-8)");
  }
  return { direction, service, day: buffer.readUInt32BE(3), destination };
}

/**
 * Value bytes: records u64 ‖ billed u64 ‖ amount u128, big-endian (32 bytes).
 * @throws InputError when a figure is negative or too large for its width.
 */
export function encodeLeafValue(value: LeafValue): Buffer {
  const out = Buffer.alloc(LEAF_VALUE_BYTES);
  writeUnsigned(out, 0, 8, value.records, U64_MAX, "records");
  writeUnsigned(out, 8, 8, value.billed, U64_MAX, "billed");
  writeUnsigned(out, 16, 16, value.amount, U128_MAX, "amount");
  return out;
}

/**
 * Inverse of {@link encodeLeafValue}.
 * @throws InputError when the bytes are not 32 long.
 */
export function decodeLeafValue(bytes: Uint8Array): LeafValue {
  if (bytes.length !== LEAF_VALUE_BYTES) throw new InputError("not a canonical leaf value");
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
  return {
    records: BigInt("0x" + hex.slice(0, 16)),
    billed: BigInt("0x" + hex.slice(16, 32)),
    amount: BigInt("0x" + hex.slice(32, 64)),
  };
}

/**
 * A leaf as the tree takes it.
 * @throws InputError when a field is out of range.
 */
export function encodeLeaf(leaf: UsageLeaf): TreeEntry {
  return { key: encodeLeafKey(leaf), value: encodeLeafValue(leaf) };
}

function writeUnsigned(out: Buffer, offset: number, width: number, value: bigint, max: bigint, name: string) {
  if (value < 0n || value > max) throw new InputError(`leaf ${name} out of range: ${value}`);
  out.write(value.toString(16).padStart(width * 2, "0"), offset, width, "hex");
}

/**
 * Checks a period `YYYYMM` (a calendar month in UTC) and returns its bounds in milliseconds.
 * @throws InputError when it is not a month between 1970-01 and 9999-12.
 */
export function periodBounds(period: number): { startMs: number; endMs: number } {
  const year = Math.floor(period / 100);
  const month = period % 100;
  if (!Number.isInteger(period) || year < 1970 || year > 9999 || month < 1 || month > 12) {
    throw new InputError(`not a period YYYYMM: ${period}`);
  }
  return { startMs: Date.UTC(year, month - 1, 1), endMs: Date.UTC(year, month, 1) };
}

/** UTC day number (days since 1970-01-01) of an instant. */
export function utcDay(ms: number): number {
  return Math.floor(ms / 86_400_000);
}

/**
 * The period's tree salt, shared by the two parties and never published:
 * HMAC-SHA256(secret, "icl/period-salt/v1" ‖ agreementId (32 bytes) ‖ period u32 BE).
 * @throws InputError when the secret is shorter than 16 bytes, the agreement id is not bytes32 hex or
 * the period is not YYYYMM.
 */
export function periodSalt(secret: Uint8Array, agreementId: string, period: number): Buffer {
  return derive(secret, "icl/period-salt/v1", agreementId, period, []);
}

/**
 * The `salt` of the on-chain commitment of a round (0 = first): HMAC-SHA256(secret,
 * "icl/commit-salt/v1" ‖ agreementId ‖ period u32 BE ‖ round u8). It becomes public at reveal, so
 * it is a different value from the tree salt, which must stay secret; each correction round gets a
 * fresh one, as the ledger expects.
 * @throws InputError as {@link periodSalt}, or when the round is not 0–255.
 */
export function commitmentSalt(
  secret: Uint8Array,
  agreementId: string,
  period: number,
  round: number,
): Buffer {
  if (!Number.isInteger(round) || round < 0 || round > 255)
    throw new InputError(`not a round 0–255: ${round}`);
  return derive(secret, "icl/commit-salt/v1", agreementId, period, [round]);
}

function derive(
  secret: Uint8Array,
  label: string,
  agreementId: string,
  period: number,
  tail: number[],
): Buffer {
  if (secret.length < 16) throw new InputError("the agreement secret must be at least 16 bytes");
  periodBounds(period);
  const periodBytes = Buffer.alloc(4);
  periodBytes.writeUInt32BE(period);
  return crypto
    .createHmac("sha256", secret)
    .update(label, "utf8")
    .update(fromHex(agreementId, 32))
    .update(periodBytes)
    .update(Uint8Array.from(tail))
    .digest();
}
