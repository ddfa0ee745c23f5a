/**
 * The key two carriers use to name the same call. Each carrier's CDR ids come from its own switch,
 * so they cannot be compared; the call itself can. Both sides normalise numbers to E.164 and record
 * the start of the billable interval (answer time), so
 *
 *   callKey = keccak256(abi.encode("icl/call/v1", salt, direction, aNumber, bNumber, startSecond))
 *
 * with `direction` agreement-relative ("AB" or "BA"), numbers as E.164 digit strings, `startSecond`
 * the start in whole seconds since the epoch (UTC), and `salt` the period salt of the summary tree
 * (`periodSalt` in summaries/encoding.ts, never published), so keys
 * shown to the other side (or put in evidence) reveal no numbers to anyone without the salt.
 * Clocks that disagree by a second or more produce different keys: that is what the discrepancy
 * report's day-boundary rule and leaf deltas are for.
 */
import { keccak256 } from "js-sha3";
import type { LocalAgreement } from "../db/agreements";
import type { CallKeyer } from "../db/ingest-store";
import { periodSalt } from "../summaries/encoding";
import type { AgreementDirection } from "./discrepancy";

const TAG = Buffer.from("icl/call/v1");
/** Head words: offset of the tag, salt, offsets of direction, aNumber and bNumber, startSecond. */
const HEAD = 6 * 32;
const padded = (n: number) => Math.ceil(n / 32) * 32;

/**
 * The key of `call` under `salt` (0x-hex bytes32). The ABI encoding is written by hand — every call of
 * every differing leaf is keyed on both sides, and ethers' general encoder and keccak took 250 µs a key;
 * this takes about 15 — and is checked against ethers' `AbiCoder` in calls.test.ts.
 * @throws RangeError when the salt is not 32 bytes of hex or a number is not ASCII digits.
 */
export function callKey(
  salt: string,
  call: { direction: AgreementDirection; aNumber: string; bNumber: string; startMs: number },
): string {
  if (salt.length !== 66 || !/^0x[0-9a-fA-F]{64}$/.test(salt))
    throw new RangeError("the salt is not bytes32 hex");
  const strings = [TAG, call.direction, call.aNumber, call.bNumber] as const;
  let size = HEAD;
  for (const value of strings) size += 32 + padded(value.length);
  const out = Buffer.alloc(size);
  // Head: offsets of the dynamic strings (from the start), the salt, the start second.
  let tail = HEAD;
  const heads = [0, 2, 3, 4];
  for (let i = 0; i < strings.length; i++) {
    out.writeUInt32BE(tail, heads[i]! * 32 + 28);
    const value = strings[i]!;
    out.writeUInt32BE(value.length, tail + 28);
    if (typeof value === "string") {
      if (out.write(value, tail + 32, "latin1") !== value.length || !/^[0-9A-Z]*$/.test(value)) {
        throw new RangeError(`'${value}' is not a direction or an E.164 digit string`);
      }
    } else {
      value.copy(out, tail + 32);
    }
    tail += 32 + padded(value.length);
  }
  out.write(salt.slice(2), 32, "hex");
  out.writeBigUInt64BE(BigInt(Math.floor(call.startMs / 1000)), 5 * 32 + 24);
  return "0x" + keccak256(out);
}

/**
 * The call keys ingest stores with each CDR (db/ingest-store.ts): a CDR of a partner with exactly one
 * agreement among `agreements` is keyed under that agreement's salt of the period it is counted in,
 * its node-relative direction made agreement-relative (`out` is A→B for party A, B→A for party B).
 * A partner with no agreement or several gets no stored keys (which agreement a call belongs to is
 * then not known at ingest), nor does a call whose numbers are not digit strings; a comparison keys
 * those itself. Throws nothing.
 */
export function callKeyer(
  agreements: readonly (Pick<LocalAgreement, "agreementId" | "partnerId" | "side"> & {
    secret: Uint8Array;
  })[],
): CallKeyer {
  const byPartner = new Map<string, (typeof agreements)[number] | null>();
  for (const agreement of agreements) {
    byPartner.set(agreement.partnerId, byPartner.has(agreement.partnerId) ? null : agreement);
  }
  const salts = new Map<string, string>();
  return (cdr, period) => {
    const agreement = byPartner.get(cdr.partner);
    if (!agreement) return null;
    try {
      const id = `${agreement.agreementId}:${period}`;
      let salt = salts.get(id);
      if (salt === undefined) {
        salt = "0x" + periodSalt(agreement.secret, agreement.agreementId, period).toString("hex");
        salts.set(id, salt);
      }
      return callKey(salt, {
        direction: (cdr.direction === "out") === (agreement.side === "A") ? "AB" : "BA",
        aNumber: cdr.aNumber,
        bNumber: cdr.bNumber,
        startMs: cdr.startMs,
      });
    } catch {
      // A salt or number callKey refuses: no stored key; the comparison meets the same refusal.
      return null;
    }
  };
}
