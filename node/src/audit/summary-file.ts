/**
 * A revealed summary as a carrier hands it to an auditor: the leaves and the period's tree salt
 * (never raw CDRs), with the agreement, period, party and round it was revealed for. The auditor
 * rebuilds the Merkle root with the node's own code and compares it with the root on chain.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod/v4";
import { InputError } from "../errors";
import { encodeLeaf, type UsageLeaf } from "../summaries/encoding";
import { fromHex, toHex } from "../summaries/hashing";
import { MerkleTree } from "../summaries/merkle-tree";
import type { Replay } from "./replay";

export const SUMMARY_FORMAT = "icl-revealed-summary/v1";

const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "0x and 64 hex digits");
const integer = z
  .union([z.string().regex(/^\d+$/), z.number().int().nonnegative()])
  .transform((v) => BigInt(v));

const SummaryFileSchema = z.object({
  format: z.literal(SUMMARY_FORMAT),
  agreementId: bytes32,
  period: z.number().int(),
  side: z.enum(["A", "B"]),
  carrierId: bytes32.optional(),
  round: z.number().int().min(0).max(255).optional(),
  treeSalt: bytes32,
  root: bytes32.optional(),
  amountAB: integer.optional(),
  amountBA: integer.optional(),
  leaves: z.array(
    z.object({
      direction: z.enum(["AB", "BA"]),
      service: z.enum(["voice", "sms", "data"]),
      destination: z.string(),
      day: z.number().int().nonnegative(),
      records: integer,
      billed: integer,
      amount: integer,
    }),
  ),
});

export type SummaryFile = z.infer<typeof SummaryFileSchema>;

/** The JSON an auditor receives (bigints as decimal strings). */
export function summaryFileJson(summary: {
  agreementId: string;
  period: number;
  side: "A" | "B";
  carrierId?: string;
  round?: number;
  treeSalt: Uint8Array;
  root: string;
  amountAB: bigint;
  amountBA: bigint;
  leaves: readonly UsageLeaf[];
}): unknown {
  return {
    format: SUMMARY_FORMAT,
    agreementId: summary.agreementId,
    period: summary.period,
    side: summary.side,
    ...(summary.carrierId !== undefined ? { carrierId: summary.carrierId } : {}),
    ...(summary.round !== undefined ? { round: summary.round } : {}),
    treeSalt: toHex(summary.treeSalt),
    root: summary.root,
    amountAB: summary.amountAB.toString(),
    amountBA: summary.amountBA.toString(),
    leaves: summary.leaves.map((leaf) => ({
      direction: leaf.direction,
      service: leaf.service,
      destination: leaf.destination,
      day: leaf.day,
      records: leaf.records.toString(),
      billed: leaf.billed.toString(),
      amount: leaf.amount.toString(),
    })),
  };
}

/**
 * Reads and validates a summary file.
 * @throws InputError naming the file and the field that is wrong.
 */
export async function readSummaryFile(file: string): Promise<SummaryFile> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new InputError(`cannot read the summary: ${(error as Error).message}`, { file });
  }
  const parsed = SummaryFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`not a revealed summary (${SUMMARY_FORMAT}): ${issue?.message ?? "invalid"}`, {
      file,
      field: issue?.path.join("."),
    });
  }
  return parsed.data;
}

/** The Merkle root of a summary file's leaves under its tree salt (node/src/summaries). */
export function summaryRoot(summary: SummaryFile): string {
  const tree = MerkleTree.build(
    summary.leaves.map((leaf) => encodeLeaf(leaf)),
    fromHex(summary.treeSalt, 32),
  );
  return toHex(tree.root);
}

/**
 * Checks a summary file against the reveals the replay saw: the rebuilt root must equal the root
 * the party revealed (in the file's round, or in every round it revealed if none is named), and the
 * leaves must add up to the revealed totals. A period settled by the co-signed fast path has no
 * reveal: its `FastPathSettled` root and figures, which both carriers signed, stand for round 0's.
 * Findings name the reveal's (or the settlement's) block and transaction.
 */
export function checkSummary(replay: Replay, file: string, summary: SummaryFile): void {
  const agreementId = summary.agreementId.toLowerCase();
  const where = { agreementId, period: summary.period };
  const terms = replay.termsFor(agreementId, summary.period);
  const carrierId = (
    summary.carrierId ??
    (summary.side === "A" ? terms?.carrierA : terms?.carrierB) ??
    ""
  ).toLowerCase();
  const period = replay.periods.get(`${agreementId}:${summary.period}`);
  const reveals = (period?.reveals ?? []).filter(
    (r) => r.carrierId === carrierId && (summary.round === undefined || r.round === summary.round),
  );
  const fast = period?.fastPath ?? null;
  if (reveals.length === 0 && fast !== null && (summary.round ?? 0) === 0 && carrierId !== "") {
    reveals.push({
      carrierId,
      round: 0,
      root: fast.root,
      amountAB: fast.amountAB,
      amountBA: fast.amountBA,
      at: fast.at,
    });
  }
  if (reveals.length === 0) {
    replay.add(
      "error",
      "summary-no-reveal",
      { block: null, tx: null },
      where,
      `${file}: party ${summary.side} never revealed ${summary.round === undefined ? "" : `round ${summary.round} `}of this period`,
    );
    return;
  }
  let root: string;
  try {
    root = summaryRoot(summary);
  } catch (error) {
    throw new InputError(`leaves cannot be encoded: ${(error as Error).message}`, { file, field: "leaves" });
  }
  const totalAB = summary.leaves.filter((l) => l.direction === "AB").reduce((s, l) => s + l.amount, 0n);
  const totalBA = summary.leaves.filter((l) => l.direction === "BA").reduce((s, l) => s + l.amount, 0n);
  for (const reveal of reveals) {
    if (root.toLowerCase() !== reveal.root) {
      replay.add(
        "error",
        "summary-root-mismatch",
        reveal.at,
        where,
        `${file}: the leaves hash to ${root}, party ${summary.side} revealed ${reveal.root} in round ${reveal.round}`,
      );
    }
    if (totalAB !== reveal.amountAB || totalBA !== reveal.amountBA) {
      replay.add(
        "error",
        "summary-totals-mismatch",
        reveal.at,
        where,
        `${file}: the leaves add up to ${totalAB}/${totalBA}, party ${summary.side} revealed ${reveal.amountAB}/${reveal.amountBA} in round ${reveal.round}`,
      );
    }
  }
}
