/**
 * The calls behind one summary leaf, named the way both carriers name them (call-key.ts): what the
 * peer protocol's `calls` resource serves and what the comparison sets against the partner's answer.
 */
import type { LocalAgreement } from "../db/agreements";
import { callsOfLeaf } from "../db/calls";
import type { Database } from "../db/database";
import { decodeLeafKey } from "../summaries/encoding";
import { callKey } from "./call-key";

/**
 * This node's rated calls behind a leaf of `period`'s summary (by its canonical key bytes), each
 * with its call key and CDR id. The leaf's agreement-relative direction maps to this node's own: A→B traffic is `out` for
 * party A and `in` for party B.
 * @throws InputError when the key bytes are not a leaf key.
 */
export async function callsBehindLeaf(
  db: Database,
  agreement: Pick<LocalAgreement, "partnerId" | "side">,
  period: number,
  saltHex: string,
  keyBytes: Uint8Array,
): Promise<
  {
    callKey: string;
    cdrId: string;
    aNumber: string;
    bNumber: string;
    startMs: number;
    billed: bigint;
    amount: bigint;
  }[]
> {
  const key = decodeLeafKey(keyBytes);
  const ours = (key.direction === "AB") === (agreement.side === "A") ? "out" : "in";
  const calls = await callsOfLeaf(db, {
    partner: agreement.partnerId,
    direction: ours,
    service: key.service,
    destination: key.destination,
    day: key.day,
    period,
  });
  return calls.map((call) => ({
    callKey: callKey(saltHex, {
      direction: key.direction,
      aNumber: call.aNumber,
      bNumber: call.bNumber,
      startMs: call.startMs,
    }),
    cdrId: call.sourceKey,
    aNumber: call.aNumber,
    bNumber: call.bNumber,
    startMs: call.startMs,
    billed: call.billed,
    amount: call.amount,
  }));
}
