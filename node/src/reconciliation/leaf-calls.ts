/**
 * The calls behind summary leaves, named the way both carriers name them (call-key.ts): what the
 * peer protocol's `calls` resource serves and what the comparison sets against the partner's answer.
 * Keys come from the store (computed at ingest, db/ingest-store.ts) or, where none is stored for this
 * agreement-period, are computed here.
 */
import type { LocalAgreement } from "../db/agreements";
import { callFiguresOfLeaves, callsOfLeaves, type CallLeaf, type StoredCallFigures } from "../db/calls";
import type { Database } from "../db/database";
import { decodeLeafKey } from "../summaries/encoding";
import { callKey } from "./call-key";
import type { CallFigures } from "./discrepancy";

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

type Agreement = Pick<LocalAgreement, "agreementId" | "partnerId" | "side">;

/**
 * This node's rated calls behind a leaf of `period`'s summary (by its canonical key bytes).
 * @throws InputError when the key bytes are not a leaf key.
 */
export async function callsBehindLeaf(
  db: Database,
  agreement: Agreement,
  period: number,
  saltHex: string,
  keyBytes: Uint8Array,
): Promise<KeyedCall[]> {
  const [calls] = await callsBehindLeaves(db, agreement, period, saltHex, [keyBytes]);
  return calls!;
}

/**
 * This node's rated calls behind each leaf of `period`'s summary (by canonical key bytes), in the
 * order asked, read a day at a time.
 * @throws InputError when some key bytes are not a leaf key.
 */
export async function callsBehindLeaves(
  db: Database,
  agreement: Agreement,
  period: number,
  saltHex: string,
  keys: readonly Uint8Array[],
): Promise<KeyedCall[][]> {
  const { leaves, directions } = leavesOf(agreement, keys);
  const stored = await callsOfLeaves(db, calledOf(agreement), period, leaves);
  return stored.map((calls, index) =>
    calls.map((call) => ({
      callKey: keyOf(saltHex, directions[index]!, call),
      cdrId: call.sourceKey,
      aNumber: call.aNumber,
      bNumber: call.bNumber,
      startMs: call.startMs,
      billed: call.billed,
      amount: call.amount,
    })),
  );
}

/**
 * As `callsBehindLeaves`, only the key and figures of each call: what the `calls` resource answers.
 * @throws InputError when some key bytes are not a leaf key.
 */
export async function callFiguresBehindLeaves(
  db: Database,
  agreement: Agreement,
  period: number,
  saltHex: string,
  keys: readonly Uint8Array[],
): Promise<CallFigures[][]> {
  const { leaves, directions } = leavesOf(agreement, keys);
  const stored = await callFiguresOfLeaves(db, calledOf(agreement), period, leaves);
  return stored.map((calls, index) =>
    calls.map((call) => ({
      callKey: keyOf(saltHex, directions[index]!, call),
      billed: call.billed,
      amount: call.amount,
    })),
  );
}

function calledOf(agreement: Agreement) {
  return { partner: agreement.partnerId, agreementId: agreement.agreementId };
}

/** The leaves in this node's terms: the agreement-relative A→B is `out` for party A, `in` for party B. */
function leavesOf(agreement: Agreement, keys: readonly Uint8Array[]) {
  const decoded = keys.map((bytes) => decodeLeafKey(bytes));
  const leaves: CallLeaf[] = decoded.map((key) => ({
    direction: (key.direction === "AB") === (agreement.side === "A") ? "out" : "in",
    service: key.service,
    destination: key.destination,
    day: key.day,
  }));
  return { leaves, directions: decoded.map((key) => key.direction) };
}

function keyOf(saltHex: string, direction: "AB" | "BA", call: StoredCallFigures): string {
  if (call.callKey !== null) return call.callKey;
  return callKey(saltHex, {
    direction,
    aNumber: call.aNumber!,
    bNumber: call.bNumber!,
    startMs: call.startMs!,
  });
}
