/**
 * Finds out, with the counterparty's node, where and why two revealed summaries of an agreement-period
 * differ, and writes it down:
 *
 * 1. The Merkle diff walks both trees over the peer protocol from the root the *other* party revealed
 *    on the ledger (so every answer is bound to what it committed) to the k differing leaves.
 * 2. For those leaves both sides list the calls behind them by call key (call-key.ts), and the
 *    discrepancy report (discrepancy.ts) classifies each leaf: missing CDRs, duration or rate
 *    differences, day-boundary shifts.
 * 3. The report is stored per round with this node's CDR ids for every call it names, and sealed with
 *    those CDRs into an encrypted evidence bundle (evidence/bundle.ts) whose CID goes with it.
 */
import { hexlify } from "ethers";
import type { ChainClient } from "../chain/client";
import type { LocalAgreement } from "../db/agreements";
import type { Database } from "../db/database";
import { saveReport, toJsonText } from "../db/reports";
import { loadSummary } from "../db/summaries";
import { deriveEvidenceKey, putEvidence } from "../evidence/bundle";
import type { EvidenceStore } from "../evidence/store";
import { BaseError, ConflictError } from "../errors";
import type { Logger } from "../logger";
import { storedSummaryTree } from "../summaries/build-summary";
import { locateDifferences, type DiffStats } from "../summaries/diff";
import { decodeLeafKey, decodeLeafValue, periodSalt } from "../summaries/encoding";
import { toHex } from "../summaries/hashing";
import {
  buildDiscrepancyReport,
  leafKey,
  type CallFigures,
  type DiscrepancyReport,
  type LeafFigures,
} from "./discrepancy";
import type { PeerClient, PeerTraffic } from "./peer-client";
import { callsBehindLeaves, type KeyedCall } from "./leaf-calls";
import { roundView } from "./reveal";

export interface ComparisonResult {
  agreementId: string;
  period: number;
  round: number;
  ourRoot: string;
  theirRoot: string;
  report: DiscrepancyReport;
  /** This node's CDR id for every call key the report names on our side. */
  ourCdrs: Record<string, string>;
  /** Leaves whose calls do not add up to the leaf's figures (e.g. CDRs ingested after the close). */
  inconsistentLeaves: { leaf: string; side: "ours" | "theirs" }[];
  stats: { diff: DiffStats; traffic: PeerTraffic; callLeaves: number; seconds: number };
  /** CID of the encrypted evidence bundle; null when it could not be stored (see the log). */
  evidenceCid: string | null;
}

/**
 * Compares this node's revealed summary with the counterparty's through `peer` and stores the report.
 * @throws ConflictError when the period is not revealed by both parties or this node's stored summary
 * is not what it revealed; BaseError `PEER_*` / UnavailableError from the peer exchange.
 */
export async function compareWithPeer(
  parts: {
    db: Database;
    chain: ChainClient;
    peer: PeerClient;
    evidence: EvidenceStore | null;
    logger: Logger;
  },
  agreement: LocalAgreement & { secret: Uint8Array },
  period: number,
): Promise<ComparisonResult> {
  const started = performance.now();
  const { db, chain, peer } = parts;
  const { agreementId } = agreement;
  const { bothRevealed, round, ourRoot, theirRoot } = await roundView(
    chain,
    agreementId,
    period,
    agreement.side,
  );
  if (!bothRevealed) {
    throw new ConflictError(`period ${period} of ${agreement.name} is not revealed by both parties yet`);
  }
  const summary = await loadSummary(db, agreementId, period);
  if (!summary || summary.root.toLowerCase() !== ourRoot) {
    throw new ConflictError(
      `this node's stored summary of ${agreement.name} ${period} is not the one it revealed (${ourRoot})`,
    );
  }
  const salt = periodSalt(agreement.secret, agreementId, period);
  const tree = storedSummaryTree(summary, salt);
  const trafficBefore = { ...peer.traffic };
  const { differences, stats } = await locateDifferences(tree, peer.remoteTree(agreementId, period), {
    remoteRoot: Buffer.from(theirRoot.slice(2), "hex"),
  });

  const differing = differences.map((difference) => {
    const key = decodeLeafKey(difference.key);
    const figures = (value: Uint8Array | null): LeafFigures | null =>
      value === null ? null : { ...key, ...decodeLeafValue(value) };
    return { keyBytes: difference.key, ours: figures(difference.local), theirs: figures(difference.remote) };
  });
  const theirCalls =
    differing.length === 0
      ? new Map<string, CallFigures[]>()
      : await peer.calls(
          agreementId,
          period,
          differing.map((item) => item.keyBytes),
        );
  const saltHex = hexlify(salt);
  const calls = new Map<string, { ours: CallFigures[]; theirs: CallFigures[] }>();
  const ourCallDetails = new Map<string, KeyedCall>();
  const inconsistentLeaves: ComparisonResult["inconsistentLeaves"] = [];
  const ourCalls = await callsBehindLeaves(
    db,
    agreement,
    period,
    saltHex,
    differing.map((item) => item.keyBytes),
  );
  for (const [index, item] of differing.entries()) {
    const base = (item.ours ?? item.theirs)!;
    const id = leafKey(base);
    const ours = ourCalls[index]!;
    for (const call of ours) ourCallDetails.set(call.callKey, call);
    const theirs = theirCalls.get(toHex(item.keyBytes)) ?? [];
    if (!addsUp(ours, item.ours)) inconsistentLeaves.push({ leaf: id, side: "ours" });
    if (!addsUp(theirs, item.theirs)) inconsistentLeaves.push({ leaf: id, side: "theirs" });
    calls.set(id, { ours, theirs });
  }
  const report = buildDiscrepancyReport({
    differing: differing.map(({ ours, theirs }) => ({ ours, theirs })),
    calls,
  });

  const named = new Set<string>();
  for (const leaf of report.leaves) {
    for (const key of leaf.missingOnTheirSide) named.add(key);
    for (const difference of [...leaf.durationDifferences, ...leaf.rateDifferences])
      named.add(difference.callKey);
  }
  const ourCdrs: Record<string, string> = {};
  const evidenceCdrs = [];
  for (const key of [...named].sort()) {
    const call = ourCallDetails.get(key);
    if (!call) continue;
    ourCdrs[key] = call.cdrId;
    evidenceCdrs.push({
      cdrId: call.cdrId,
      callKey: key,
      aNumber: call.aNumber,
      bNumber: call.bNumber,
      start: new Date(call.startMs).toISOString(),
      billed: call.billed,
      amount: call.amount,
    });
  }

  const traffic = {
    requests: peer.traffic.requests - trafficBefore.requests,
    bytesSent: peer.traffic.bytesSent - trafficBefore.bytesSent,
    bytesReceived: peer.traffic.bytesReceived - trafficBefore.bytesReceived,
  };
  const result: ComparisonResult = {
    agreementId,
    period,
    round,
    ourRoot,
    theirRoot,
    report,
    ourCdrs,
    inconsistentLeaves,
    stats: {
      diff: stats,
      traffic,
      callLeaves: differing.length,
      seconds: (performance.now() - started) / 1000,
    },
    evidenceCid: null,
  };
  if (parts.evidence) {
    try {
      result.evidenceCid = await putEvidence(
        parts.evidence,
        JSON.parse(
          toJsonText({
            kind: "discrepancy-report",
            agreementId,
            period,
            round,
            ourRoot,
            theirRoot,
            side: agreement.side,
            report,
            cdrs: evidenceCdrs,
          }),
        ) as object,
        deriveEvidenceKey(agreement.secret, agreementId, period),
        { agreementId, period, purpose: "discrepancy-report" },
      );
    } catch (error) {
      // Evidence of any size is stored (a UnixFS DAG above 1 MiB, evidence/unixfs.ts); what lands here is
      // an unreachable IPFS node or a failing disk, and the report is worth keeping regardless.
      parts.logger.warn("the discrepancy evidence could not be stored; the report is kept without it", {
        agreement: agreement.name,
        period,
        error: error instanceof BaseError ? error.shortMessage : String(error),
        details: error instanceof BaseError ? error.details : undefined,
      });
    }
  }
  await saveReport(db, {
    agreementId,
    period,
    round,
    ourRoot,
    theirRoot,
    leafCount: report.leaves.length,
    report: { ...report, ourCdrs, inconsistentLeaves },
    stats: result.stats,
    evidenceCid: result.evidenceCid,
  });
  parts.logger.info("discrepancy report stored", {
    agreement: agreement.name,
    period,
    round,
    differingLeaves: report.leaves.length,
    missingCdrs: report.counts.missing_cdrs,
    requests: traffic.requests,
    evidence: result.evidenceCid,
  });
  return result;
}

function addsUp(calls: readonly CallFigures[], leaf: LeafFigures | null): boolean {
  let billed = 0n;
  let amount = 0n;
  for (const call of calls) {
    billed += call.billed;
    amount += call.amount;
  }
  const expected = leaf ?? { records: 0n, billed: 0n, amount: 0n };
  return (
    BigInt(calls.length) === expected.records && billed === expected.billed && amount === expected.amount
  );
}
