import { InputError } from "../errors";
import type { Database, Queryable } from "../db/database";
import { INGEST_LOCK, unfinishedIngestsTouching } from "../db/ingest-store";
import {
  aggregateUsage,
  committedError,
  loadSummary,
  markSummaryCommitted,
  saveSummaryIn,
  type StoredSummary,
} from "../db/summaries";
import { encodeLeaf, periodBounds, type UsageLeaf } from "./encoding";
import { MerkleTree } from "./merkle-tree";

/** Version of the leaf encoding and tree in docs/PROTOCOL.md; stored with every summary. */
export const SUMMARY_ENCODING = 1;

/** Which summary to build: an agreement, a month, the partner it is with, and this node's side. */
export interface SummaryRequest {
  /** bytes32 as `0x` + 64 hex digits. */
  agreementId: string;
  /** `YYYYMM`, a calendar month in UTC. */
  period: number;
  /** The partner's id in this node's `partners` table. */
  partnerId: string;
  /** Whether this node's carrier is party A or party B of the agreement. */
  side: "A" | "B";
}

/** A built summary: what is stored and committed, plus the tree a peer walks. */
export interface UsageSummary extends Omit<StoredSummary, "builtAt" | "committedAt"> {
  tree: MerkleTree;
}

/**
 * Aggregates this node's rated CDRs with the partner in the period into agreement-relative leaves
 * (the partner's `out` CDRs on one side are the other side's `in`), merging destinations that are
 * equal after NFC normalisation, sorted by direction, service, destination and day.
 * @throws InputError when the request is malformed.
 */
export async function buildUsageLeaves(db: Queryable, request: SummaryRequest): Promise<UsageLeaf[]> {
  const { period, partnerId, side } = checkRequest(request);
  const { startMs, endMs } = periodBounds(period);
  const rows = await aggregateUsage(db, {
    partnerId,
    startMs,
    endMs,
    abDirection: side === "A" ? "out" : "in",
    period,
  });
  const merged = new Map<string, UsageLeaf>();
  for (const row of rows) {
    const leaf = { ...row, destination: row.destination.normalize("NFC") };
    const id = `${leaf.direction}\u0000${leaf.service}\u0000${leaf.day}\u0000${leaf.destination}`;
    const seen = merged.get(id);
    if (seen === undefined) merged.set(id, leaf);
    else {
      seen.records += leaf.records;
      seen.billed += leaf.billed;
      seen.amount += leaf.amount;
    }
  }
  return [...merged.values()].sort(compareLeaves);
}

/**
 * The summary of some leaves: the salted tree, its root and the direction totals. Pure; both
 * parties get the same result from the same leaves and the same period salt.
 * @throws InputError when the request, the salt or a leaf is malformed, or two leaves share a key.
 */
export function summarize(
  request: SummaryRequest,
  leaves: readonly UsageLeaf[],
  salt: Uint8Array,
): UsageSummary {
  const checked = checkRequest(request);
  const tree = MerkleTree.build(leaves.map(encodeLeaf), salt);
  let amountAB = 0n;
  let amountBA = 0n;
  let records = 0n;
  for (const leaf of leaves) {
    if (leaf.direction === "AB") amountAB += leaf.amount;
    else amountBA += leaf.amount;
    records += leaf.records;
  }
  return {
    ...checked,
    root: tree.rootHex,
    leafCount: leaves.length,
    records,
    amountAB,
    amountBA,
    encoding: SUMMARY_ENCODING,
    leaves: [...leaves],
    tree,
  };
}

/**
 * Builds this node's summary of an agreement and period from its rated CDRs and stores it,
 * replacing a stored one that was not committed yet. Runs in one transaction under the ingest
 * lock, so no batch lands halfway through; with `freeze` the summary is marked committed in the
 * same transaction (the chain client then sends exactly it), and every CDR stored afterwards for
 * the period is late.
 * @throws InputError when the request or the salt is malformed, or when an ingest that may touch
 * the period is unfinished (naming its file: finish it with `icl ingest` or set it aside with
 * `icl files discard`): a summary of half a file would be passed on as a whole one.
 * @throws ConflictError when the stored summary of this agreement and period was committed.
 */
export async function buildSummary(
  db: Database,
  request: SummaryRequest,
  salt: Uint8Array,
  options: { freeze?: boolean } = {},
): Promise<UsageSummary> {
  const checked = checkRequest(request);
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [INGEST_LOCK]);
    const stored = await loadSummary(tx, checked.agreementId, checked.period, { leaves: false });
    if (stored?.committedAt) throw committedError(checked.agreementId, checked.period, stored.committedAt);
    await refuseUnfinishedIngests(tx, checked.period);
    const summary = summarize(checked, await buildUsageLeaves(tx, checked), salt);
    await saveSummaryIn(tx, summary);
    if (options.freeze) await markSummaryCommitted(tx, checked.agreementId, checked.period);
    return summary;
  });
}

/** @throws InputError naming the unfinished ingests that may touch `period`. */
async function refuseUnfinishedIngests(db: Queryable, period: number): Promise<void> {
  const { endMs } = periodBounds(period);
  const unfinished = await unfinishedIngestsTouching(db, { endMs });
  const first = unfinished[0];
  if (first === undefined) return;
  const month = `${Math.floor(period / 100)}-${String(period % 100).padStart(2, "0")}`;
  const describe = (file: (typeof unfinished)[number]) =>
    `${file.source ?? file.fileName} (ingest ${file.id}): ${
      file.status === "incomplete"
        ? `incomplete after line ${file.checkpointLine}: ${file.incompleteReason ?? "stopped"}`
        : `not finished (stopped or still running after line ${file.checkpointLine})`
    }`;
  throw new InputError(
    `the period ${month} cannot be closed while ${unfinished.length === 1 ? "an ingest that may touch it is" : `${unfinished.length} ingests that may touch it are`} unfinished`,
    {
      file: first.source ?? first.fileName,
      details:
        unfinished.map((file) => "  " + describe(file)).join("\n") +
        "\n  Run icl ingest on the same file again to finish it (it resumes), or set it aside with icl files discard ID.",
    },
  );
}

/**
 * The tree of a stored summary, to serve a peer or compare with: rebuilt from its leaves.
 * @throws InputError when the salt does not reproduce the stored root (a wrong secret or period).
 */
export function storedSummaryTree(summary: StoredSummary, salt: Uint8Array): MerkleTree {
  const tree = MerkleTree.build(summary.leaves.map(encodeLeaf), salt);
  if (tree.rootHex !== summary.root) {
    throw new InputError(
      `the salt does not reproduce the stored root of agreement ${summary.agreementId}, period ${summary.period}`,
    );
  }
  return tree;
}

function checkRequest(request: SummaryRequest): SummaryRequest {
  if (!/^0x[0-9a-fA-F]{64}$/.test(request.agreementId)) {
    throw new InputError(`the agreement id must be bytes32 hex: ${request.agreementId}`, {
      field: "agreementId",
    });
  }
  periodBounds(request.period);
  if (request.side !== "A" && request.side !== "B") {
    throw new InputError(`the side must be A or B: ${String(request.side)}`, { field: "side" });
  }
  if (request.partnerId.length === 0) throw new InputError("the partner id is empty", { field: "partnerId" });
  return {
    agreementId: request.agreementId.toLowerCase(),
    period: request.period,
    partnerId: request.partnerId,
    side: request.side,
  };
}

function compareLeaves(a: UsageLeaf, b: UsageLeaf): number {
  if (a.direction !== b.direction) return a.direction < b.direction ? -1 : 1;
  if (a.service !== b.service) return a.service < b.service ? -1 : 1;
  if (a.destination !== b.destination) return a.destination < b.destination ? -1 : 1;
  return a.day - b.day;
}
