/**
 * The calls behind summary leaves, named the way both carriers name them (call-key.ts): what the
 * peer protocol's `calls` resource serves and what the comparison sets against the partner's answer.
 */
import type { LocalAgreement } from "../db/agreements";
import { callsOfLeaves } from "../db/calls";
import type { Database } from "../db/database";
import { decodeLeafKey } from "../summaries/encoding";
import { callKey } from "./call-key";

/** One call behind a leaf, with its call key and this node's CDR id. */
export interface KeyedCall {
  callKey: string;
  cdrId: string;
  aNumber: string;
  bNumber: string;
  startMs: number;
  billed: bigint;
  amount: bigint;
}

/**
 * This node's rated calls behind a leaf of `period`'s summary (by its canonical key bytes).
 * @throws InputError when the key bytes are not a leaf key.
 */
export async function callsBehindLeaf(
  db: Database,
  agreement: Pick<LocalAgreement, "partnerId" | "side">,
  period: number,
  saltHex: string,
  keyBytes: Uint8Array,
): Promise<KeyedCall[]> {
  const [calls] = await callsBehindLeaves(db, agreement, period, saltHex, [keyBytes]);
  return calls!;
}

/**
 * This node's rated calls behind each leaf of `period`'s summary (by canonical key bytes), in the
 * order asked, read a day at a time. The leaf's agreement-relative direction maps to this node's own:
 * A→B traffic is `out` for party A and `in` for party B.
 * @throws InputError when some key bytes are not a leaf key.
 */
export async function callsBehindLeaves(
  db: Database,
  agreement: Pick<LocalAgreement, "partnerId" | "side">,
  period: number,
  saltHex: string,
  keys: readonly Uint8Array[],
): Promise<KeyedCall[][]> {
  const leaves = keys.map((bytes) => decodeLeafKey(bytes));
  const stored = await callsOfLeaves(
    db,
    agreement.partnerId,
    period,
    leaves.map((key) => ({
      direction: (key.direction === "AB") === (agreement.side === "A") ? "out" : "in",
      service: key.service,
      destination: key.destination,
      day: key.day,
    })),
  );
  return stored.map((calls, index) => {
    const direction = leaves[index]!.direction;
    return calls.map((call) => ({
      callKey: callKey(saltHex, {
        direction,
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
  });
}
