/**
 * What an officer (or the arbiter) does about a period, as the node serves it: the CDRs behind one
 * summary leaf with what the discrepancy report found about each, a file sealed as dispute evidence,
 * a dispute step planned (checked, described, gas estimated, unsigned), and a step signed elsewhere
 * broadcast and waited for.
 */
import crypto from "node:crypto";
import { hexlify } from "ethers";
import type { ChainClient } from "../chain/client";
import { toChainError } from "../chain/errors";
import { requireAgreement } from "../db/agreements";
import type { Database } from "../db/database";
import { loadReport, type ReportJson } from "../db/reports";
import { deriveEvidenceKey, putEvidence } from "../evidence/bundle";
import type { EvidenceStore } from "../evidence/store";
import { ConflictError, InputError } from "../errors";
import type { Logger } from "../logger";
import type { PeriodStateName } from "../protocol";
import { callsBehindLeaf } from "../reconciliation/leaf-calls";
import { committedOpening, periodState } from "../reconciliation/reveal";
import {
  planDisputeStep,
  storeRationaleText,
  type DisputeStep,
  type StepInput,
} from "../settlement/disputes";
import { loadPeriodContext } from "../settlement/period-context";
import { resolveAgreement, type AgreementScope } from "./ledger-periods";
import { encodeLeafKey, periodSalt } from "../summaries/encoding";

/** One summary leaf: the period's traffic of one direction, service and destination on one UTC day. */
export interface LeafKey {
  direction: "AB" | "BA";
  service: "voice" | "sms" | "data";
  destination: string;
  /** Days since 1970-01-01. */
  day: number;
}

type Difference = ReportJson["leaves"][number]["durationDifferences" | "rateDifferences"][number];

/** One of this node's calls behind a leaf, with what the discrepancy report found about it. */
export type LeafCall = Awaited<ReturnType<typeof callsBehindLeaf>>[number] & {
  finding: "missing_on_their_side" | "duration_difference" | "rate_difference" | null;
  /** The partner's figure where the report found a duration or rate difference. */
  theirs: Difference["theirs"] | null;
};

export interface PlannedStep {
  step: DisputeStep;
  fn: string;
  description: string;
  evidenceCid: string | null;
  transaction: {
    from: string;
    to: string;
    data: string;
    chainId: bigint;
    nonce: number;
    gasLimit: bigint;
    maxFeePerGas: bigint;
    maxPriorityFeePerGas: bigint;
    type: 2;
  };
}

export interface RelayedStep {
  txHash: string;
  status: "pending" | "confirmed" | "reverted";
  blockNumber: number | null;
  gasUsed: string | null;
  state: PeriodStateName | null;
}

/** How long a relayed transaction is waited for before it is answered as pending. */
export const RELAY_WAIT_MS = 60_000;

export interface DisputesService {
  /**
   * This node's CDRs behind the leaf in start order, each with the latest discrepancy report's finding.
   * @throws NotFoundError for an unknown agreement; UnavailableError when the database is down.
   */
  leafCalls(
    agreement: string,
    period: number,
    leaf: LeafKey,
  ): Promise<{
    agreement: string;
    round: number | null;
    calls: LeafCall[];
    missingOnOurSide: string[];
  }>;
  /**
   * Seals `bytes` (a file named `name`) as dispute evidence with the agreement's key and stores it.
   * @throws NotFoundError for an unknown agreement; InputError when it is too large for the store.
   */
  sealEvidence(
    agreement: string,
    period: number,
    name: string,
    bytes: Buffer,
  ): Promise<{ cid: string; name: string; bytes: number; sha256: string }>;
  /**
   * The dispute step `step` from `from`, checked as the ledger would check it and estimated (which runs it
   * against the ledger), with the nonce and fees to sign it with; nothing is sent. A ruling's
   * `rationale` typed as text is stored first as public evidence and its CID is what the ruling carries.
   * With `outsiders`, also for an agreement this node is not party to, by its 0x id (an arbiter rules
   * between any two carriers, from whichever node they sign in to).
   * @throws NotFoundError for an unknown agreement; ConflictError when the ledger would refuse it;
   * InputError for figures or a reason out of bounds, or a rationale on another step or beside a CID;
   * UnavailableError when the chain cannot be read.
   */
  plan(
    chain: ChainClient,
    agreement: string,
    period: number,
    step: DisputeStep,
    from: string,
    input: StepInput & { rationale?: string },
    scope?: AgreementScope,
  ): Promise<PlannedStep>;
}

/** The disputes service of a node on `db` and `evidence`. Throws nothing. */
export function disputesService(db: Database, evidence: EvidenceStore, logger: Logger): DisputesService {
  return {
    async leafCalls(ref, period, key) {
      const agreement = await requireAgreement(db, ref);
      const salt = hexlify(periodSalt(agreement.secret, agreement.agreementId, period));
      const calls = await callsBehindLeaf(db, agreement, period, salt, encodeLeafKey(key));
      const { round, leaf } = await reportLeaf(db, agreement.agreementId, period, key);
      const missing = new Set(leaf?.missingOnTheirSide ?? []);
      const durations = new Map(leaf?.durationDifferences.map((d) => [d.callKey, d.theirs]) ?? []);
      const rates = new Map(leaf?.rateDifferences.map((d) => [d.callKey, d.theirs]) ?? []);
      return {
        agreement: agreement.name,
        round,
        calls: calls.map((call) => ({
          callKey: call.callKey,
          cdrId: call.cdrId,
          aNumber: call.aNumber,
          bNumber: call.bNumber,
          startMs: call.startMs,
          billed: call.billed,
          amount: call.amount,
          finding: missing.has(call.callKey)
            ? ("missing_on_their_side" as const)
            : durations.has(call.callKey)
              ? ("duration_difference" as const)
              : rates.has(call.callKey)
                ? ("rate_difference" as const)
                : null,
          theirs: durations.get(call.callKey) ?? rates.get(call.callKey) ?? null,
        })),
        missingOnOurSide: leaf?.missingOnOurSide ?? [],
      };
    },
    async sealEvidence(ref, period, name, bytes) {
      const agreement = await requireAgreement(db, ref);
      const sha256 = crypto.createHash("sha256").update(bytes).digest("hex");
      const cid = await putEvidence(
        evidence,
        { files: [{ name, sha256, base64: bytes.toString("base64") }] },
        deriveEvidenceKey(agreement.secret, agreement.agreementId, period),
        { agreementId: agreement.agreementId, period, purpose: "dispute-evidence" },
      );
      logger.info("dispute evidence stored", { agreement: agreement.name, period, cid, bytes: bytes.length });
      return { cid, name, bytes: bytes.length, sha256 };
    },
    async plan(chain, ref, period, step, from, { rationale, ...input }, scope = {}) {
      const ctx = await loadPeriodContext(chain, await resolveAgreement(db, chain, ref, scope), period);
      if (rationale !== undefined) {
        if (step !== "rule") throw new InputError("only a ruling has a rationale", { field: "rationale" });
        if (input.evidenceCid !== undefined) {
          throw new InputError("give the rationale as text or as a CID, not both", { field: "rationale" });
        }
        // Stored before it is signed: the CID must be in the transaction. An abandoned plan leaves a few
        // bytes of public text behind, under their own CID.
        input = { ...input, evidenceCid: await storeRationaleText(evidence, rationale) };
      }
      if (step === "open" && ctx.state === "Defaulted" && ctx.side !== null) {
        // Contesting a default opens our node's commitment when it committed (M-2).
        const agreement = await requireAgreement(db, ref);
        const round = Number((await chain.ledger.periodRecord(ctx.agreementId, ctx.period)).round);
        input = {
          ...input,
          opening: (await committedOpening(db, agreement, ctx.period, round)) ?? undefined,
        };
      }
      const plan = await planDisputeStep(chain, ctx, step, from, input);
      const to = chain.deployment.ledger;
      let gas: bigint;
      try {
        gas = await chain.provider.estimateGas({ from, to, data: plan.data });
      } catch (error) {
        const decoded = toChainError(error, "the gas estimate");
        if (decoded.retryable) throw decoded;
        throw new ConflictError(
          `the ledger would refuse this step: ${decoded.shortMessage}; nothing was signed`,
        );
      }
      const [nonce, fees, block] = await Promise.all([
        chain.provider.getTransactionCount(from, "pending"),
        chain.provider.getFeeData(),
        chain.provider.getBlock("latest"),
      ]);
      const priority = fees.maxPriorityFeePerGas ?? 0n;
      // Twice the latest base fee plus the tip: the usual headroom for a few blocks of rising fees.
      const maxFee = (block?.baseFeePerGas ?? 0n) * 2n + priority;
      return {
        step: plan.step,
        fn: plan.fn,
        description: plan.description,
        evidenceCid: plan.evidenceCid,
        transaction: {
          from,
          to,
          data: plan.data,
          chainId: chain.chainId,
          nonce,
          gasLimit: (gas * 6n) / 5n,
          maxFeePerGas: maxFee,
          maxPriorityFeePerGas: priority,
          type: 2 as const,
        },
      };
    },
  };
}

/** The latest stored report's leaf for this key, if any. */
async function reportLeaf(db: Database, agreementId: string, period: number, leaf: LeafKey) {
  const stored = await loadReport(db, agreementId, period);
  if (stored === null) return { round: null, leaf: null };
  const report = stored.report as ReportJson;
  const found = report.leaves.find(
    (l) =>
      l.leaf.direction === leaf.direction &&
      l.leaf.service === leaf.service &&
      l.leaf.destination === leaf.destination &&
      l.leaf.day === leaf.day,
  );
  return { round: stored.round, leaf: found ?? null };
}

/**
 * Broadcasts a signed dispute step (checked by the caller: signer, chain, ledger, function) and waits up
 * to {@link RELAY_WAIT_MS} for it; needs the chain only, not a node.
 * @throws ConflictError when the chain node refuses it; UnavailableError when it cannot be reached.
 */
export async function relayDisputeStep(
  chain: ChainClient,
  logger: Logger,
  raw: string,
  step: { fn: string; from: string; agreementId: string; period: number },
): Promise<RelayedStep> {
  let response;
  try {
    response = await chain.provider.broadcastTransaction(raw);
  } catch (error) {
    const decoded = toChainError(error, "the transaction");
    if (decoded.retryable) throw decoded;
    throw new ConflictError(`the chain node refused the transaction: ${decoded.shortMessage}`);
  }
  logger.info("relayed a dispute step", { fn: step.fn, from: step.from, txHash: response.hash });
  const receipt = await response.wait(1, RELAY_WAIT_MS).catch((error: unknown) => {
    // A reverted transaction rejects wait() with its receipt; a timeout leaves it pending.
    const receipt = (error as { receipt?: unknown }).receipt;
    if (receipt) return receipt as Awaited<ReturnType<typeof response.wait>>;
    return null;
  });
  if (receipt === null) {
    return { txHash: response.hash, status: "pending", blockNumber: null, gasUsed: null, state: null };
  }
  return {
    txHash: response.hash,
    status: receipt.status === 1 ? "confirmed" : "reverted",
    blockNumber: receipt.blockNumber,
    gasUsed: receipt.gasUsed.toString(),
    state: await periodState(chain, step.agreementId, step.period),
  };
}
