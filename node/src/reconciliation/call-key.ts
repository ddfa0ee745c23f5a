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
import { AbiCoder, keccak256 } from "ethers";
import type { AgreementDirection } from "./discrepancy";

const coder = AbiCoder.defaultAbiCoder();

export function callKey(
  salt: string,
  call: { direction: AgreementDirection; aNumber: string; bNumber: string; startMs: number },
): string {
  return keccak256(
    coder.encode(
      ["string", "bytes32", "string", "string", "string", "uint64"],
      ["icl/call/v1", salt, call.direction, call.aNumber, call.bNumber, Math.floor(call.startMs / 1000)],
    ),
  );
}
