/**
 * What an officer (or the arbiter) does about a period from the console, and what they look at first:
 *
 * - the drill-down: this node's CDRs behind one summary leaf (direction, service, destination, day),
 *   each marked with what the discrepancy report found about it;
 * - evidence: a file sealed as a dispute-evidence bundle with the agreement's key, stored, its CID
 *   returned for a dispute step to cite;
 * - a dispute step planned: the ledger's state, the caller's role, the windows and the figures checked
 *   (node/src/settlement/disputes.ts) and the unsigned transaction returned with what it does in words;
 * - a signed transaction relayed: the console that signs with a key held in the browser hands the
 *   signed bytes here, and the node broadcasts them only if they are a dispute step of the signed-in
 *   person to this ledger. Keys never reach the gateway; a wallet (window.ethereum) sends on its own.
 */
import crypto from "node:crypto";
import { Transaction, getAddress, hexlify } from "ethers";
import { z } from "zod/v4";
import { requireAgreement, type LocalAgreement } from "../../../node/src/db/agreements";
import { loadReport, type ReportJson } from "../../../node/src/db/reports";
import { deriveEvidenceKey, putEvidence } from "../../../node/src/evidence/bundle";
import { ConflictError } from "../../../node/src/errors";
import { toChainError } from "../../../node/src/chain/errors";
import { callsBehindLeaf } from "../../../node/src/reconciliation/leaf-calls";
import { committedOpening, periodState } from "../../../node/src/reconciliation/reveal";
import {
  parseReason,
  planDisputeStep,
  type DisputeStep,
  type StepInput,
} from "../../../node/src/settlement/disputes";
import { loadPeriodContext } from "../../../node/src/settlement/period-context";
import { encodeLeafKey, periodSalt } from "../../../node/src/summaries/encoding";
import type { Role } from "../auth/types";
import { ApiError } from "./errors";
import { dayNumber, isoDay, jsonify } from "./json";
import { defineRoute, type ApiRoute, type UploadSpec } from "./route";
import { requireChain, requireNode } from "./route-access";
import { AgreementPeriodParams, Label, queryInt } from "./schemas";
import {
  DisputePlanResponse,
  EvidenceStored,
  LeafCallsResponse,
  PlanBody,
  RelayBody,
  RelayResponse,
} from "./schemas-disputes";
import { readUpload, requireUpload } from "./upload-body";

/** CDR-level detail: the carrier's own finance staff (as the discrepancy report). */
const PERIOD_INTERNALS: readonly Role[] = ["officer", "admin"];
/** Sealed with the agreement's key: the parties' officers. */
const PARTIES: readonly Role[] = ["officer"];
/** Dispute steps are signed by an officer of a party, a ruling by the agreement's arbiter. */
const DISPUTE_SIGNERS: readonly Role[] = ["officer", "arbiter"];

/**
 * Evidence files are bounded like CDR files (`uploads.fileBytes`, 64 MiB by default): the store takes
 * bundles of any size up to 256 MiB, which a file of that limit stays under once base64 and JSON have
 * grown it by a third (node/src/evidence).
 */
const EVIDENCE_UPLOAD: UploadSpec = {
  mediaTypes: ["text/csv", "text/plain", "application/json", "application/pdf", "application/octet-stream"],
  limit: "fileBytes",
};

/** The ledger functions a relayed transaction may call: the dispute workflow's, nothing else. */
const RELAYABLE = new Set([
  "openDispute",
  "contestDefault",
  "proposeFigures",
  "acceptFigures",
  "escalate",
  "withdrawDispute",
  "rule",
]);

/** How long the relay waits for the transaction to be mined before answering 202 with its hash. */
const RELAY_WAIT_MS = 60_000;
/** Most calls listed for one leaf (a day of one destination of a busy partner can be large). */
const MAX_CALLS = 5_000;

// ─── helpers ─────────────────────────────────────────────────────────────────

/** `2030-01-15` → days since 1970-01-01, checked to lie in `period`. @throws ApiError 400 */
function dayOf(text: string, period: number): number {
  const day = dayNumber(text);
  const month = Number(text.slice(0, 7).replace("-", ""));
  if (!Number.isInteger(day) || month !== period) {
    throw new ApiError(400, "INVALID_INPUT", `query.day: must be a day of the period ${period}`, "query.day");
  }
  return day;
}

/** The latest stored report's leaf for this key, if any. */
async function reportLeaf(
  db: Parameters<typeof loadReport>[0],
  agreement: LocalAgreement,
  period: number,
  leaf: { direction: string; service: string; destination: string; day: number },
) {
  const stored = await loadReport(db, agreement.agreementId, period);
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

// ─── routes ──────────────────────────────────────────────────────────────────

export const DISPUTE_ROUTES: readonly ApiRoute[] = [
  defineRoute({
    method: "get",
    path: "/api/v1/periods/:agreement/:period/calls",
    summary: "This node's CDRs behind one summary leaf, each marked with what the discrepancy report found",
    description:
      "The drill-down from direction to destination to day to the calls in question. A leaf is the period's " +
      "traffic of one direction (AB: A hands B), service and destination on one UTC day. Calls come in start " +
      "order with the call key both carriers derive; `missingOnOurSide` lists the keys only the partner has.",
    tag: "disputes",
    allow: PERIOD_INTERNALS,
    scope: "reports:read",
    params: AgreementPeriodParams,
    query: z.strictObject({
      direction: z.enum(["AB", "BA"]),
      service: z.enum(["voice", "sms", "data"]),
      destination: z.string().min(1).max(200),
      day: z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a day like 2030-01-15")
        .meta({ description: "the UTC day, YYYY-MM-DD" }),
      limit: queryInt(1, MAX_CALLS).default(1000),
    }),
    response: LeafCallsResponse,
    errors: [404, 503],
    handler: async ({ deps, params, query }) => {
      const node = requireNode(deps);
      const agreement = await requireAgreement(node.db, params.agreement);
      const day = dayOf(query.day, params.period);
      const key = { direction: query.direction, service: query.service, destination: query.destination, day };
      const salt = hexlify(periodSalt(agreement.secret, agreement.agreementId, params.period));
      const calls = await callsBehindLeaf(node.db, agreement, params.period, salt, encodeLeafKey(key));
      const { round, leaf } = await reportLeaf(node.db, agreement, params.period, key);
      const missing = new Set(leaf?.missingOnTheirSide ?? []);
      const durations = new Map(leaf?.durationDifferences.map((d) => [d.callKey, d.theirs]) ?? []);
      const rates = new Map(leaf?.rateDifferences.map((d) => [d.callKey, d.theirs]) ?? []);
      return {
        agreement: agreement.name,
        period: params.period,
        leaf: { ...key, day: isoDay(day) },
        round,
        calls: calls.slice(0, query.limit).map((call) => ({
          callKey: call.callKey,
          cdrId: call.cdrId,
          aNumber: call.aNumber,
          bNumber: call.bNumber,
          start: new Date(call.startMs).toISOString(),
          billedSeconds: call.billed.toString(),
          amount: call.amount.toString(),
          finding: missing.has(call.callKey)
            ? ("missing_on_their_side" as const)
            : durations.has(call.callKey)
              ? ("duration_difference" as const)
              : rates.has(call.callKey)
                ? ("rate_difference" as const)
                : null,
          theirs: durations.get(call.callKey) ?? rates.get(call.callKey) ?? null,
        })),
        truncated: calls.length > query.limit,
        missingOnOurSide: leaf?.missingOnOurSide ?? [],
      };
    },
  }),
  defineRoute({
    method: "post",
    path: "/api/v1/periods/:agreement/:period/evidence",
    summary: "Seal a file (body) as dispute evidence for the period and store it; answers its CID",
    description:
      "The body is the file as it is (CSV of the calls in question, a trunk log, a PDF), at most the gateway's " +
      "file upload limit (64 MiB unless configured). It is sealed with the agreement's key, which only the two " +
      "carriers derive, so only their officers can open it; the CID is what a dispute step cites (one block up " +
      "to 1 MiB sealed, a UnixFS DAG above). `name` is a label, never a path.",
    tag: "disputes",
    allow: PARTIES,
    scope: "evidence:write",
    params: AgreementPeriodParams,
    query: z.strictObject({ name: Label.meta({ description: "the file's name inside the bundle" }) }),
    upload: EVIDENCE_UPLOAD,
    response: EvidenceStored,
    status: 201,
    errors: [404, 413, 415, 429, 503],
    handler: async ({ deps, params, query, upload }) => {
      const node = requireNode(deps);
      const agreement = await requireAgreement(node.db, params.agreement);
      const bytes = await readUpload(requireUpload(upload), "the evidence file");
      const sha256 = crypto.createHash("sha256").update(bytes).digest("hex");
      const cid = await putEvidence(
        node.evidence,
        { files: [{ name: query.name, sha256, base64: bytes.toString("base64") }] },
        deriveEvidenceKey(agreement.secret, agreement.agreementId, params.period),
        { agreementId: agreement.agreementId, period: params.period, purpose: "dispute-evidence" },
      );
      deps.logger.info("dispute evidence stored", {
        agreement: agreement.name,
        period: params.period,
        cid,
        bytes: bytes.length,
      });
      return { cid, name: query.name, bytes: bytes.length, sha256 };
    },
  }),
  defineRoute({
    method: "post",
    path: "/api/v1/periods/:agreement/:period/disputes/plan",
    summary: "Plan a dispute step for the signed-in officer or arbiter: checked, described, unsigned",
    description:
      "Checks what the ledger would check (state, windows, role, figures within the claims) and answers the " +
      "transaction to sign with the caller's own key, with what it does in words and a gas estimate (which " +
      "also runs it against the ledger: a step the ledger would refuse is a 409 naming why). Nothing is sent.",
    tag: "disputes",
    allow: DISPUTE_SIGNERS,
    scope: "disputes:write",
    params: AgreementPeriodParams,
    body: PlanBody,
    response: DisputePlanResponse,
    errors: [404, 409, 503],
    handler: async ({ deps, params, body, principal }) => {
      const node = requireNode(deps);
      const chain = requireChain(deps);
      const agreement = await requireAgreement(node.db, params.agreement);
      const ctx = await loadPeriodContext(chain, agreement, params.period);
      const from = getAddress(principal!.address);
      const input: StepInput = {
        amountAB: body.amountAB === undefined ? undefined : BigInt(body.amountAB),
        amountBA: body.amountBA === undefined ? undefined : BigInt(body.amountBA),
        reasonCode: body.reason === undefined ? undefined : parseReason(body.reason),
        evidenceCid: body.evidenceCid,
      };
      if (body.step === "open" && ctx.state === "Defaulted") {
        // Contesting a default opens our node's commitment when it committed (M-2).
        const round = Number((await chain.ledger.periodRecord(ctx.agreementId, ctx.period)).round);
        input.opening = (await committedOpening(node.db, agreement, ctx.period, round)) ?? undefined;
      }
      const plan = await planDisputeStep(chain, ctx, body.step as DisputeStep, from, input);
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
        transaction: jsonify({
          from,
          to,
          data: plan.data,
          chainId: chain.chainId,
          nonce,
          gasLimit: (gas * 6n) / 5n,
          maxFeePerGas: maxFee,
          maxPriorityFeePerGas: priority,
          type: 2 as const,
        }),
      };
    },
  }),
  defineRoute({
    method: "post",
    path: "/api/v1/chain/transactions",
    summary: "Relay a dispute step the signed-in person signed in the browser; answers once mined",
    description:
      "Only a transaction signed by the signed-in officer or arbiter, to this node's ledger on its chain, " +
      "calling a dispute function (openDispute, proposeFigures, acceptFigures, escalate, withdrawDispute, " +
      "contestDefault, rule) is broadcast. Answers the outcome once mined, or `pending` after a minute.",
    tag: "disputes",
    allow: DISPUTE_SIGNERS,
    scope: "disputes:write",
    body: RelayBody,
    response: RelayResponse,
    errors: [409, 503],
    handler: async ({ deps, body, principal }) => {
      const chain = requireChain(deps);
      let tx: Transaction;
      try {
        tx = Transaction.from(body.raw);
      } catch {
        throw new ApiError(400, "INVALID_INPUT", "body.raw: not a signed transaction", "body.raw");
      }
      const refuse = (why: string) => new ApiError(400, "INVALID_INPUT", `body.raw: ${why}`, "body.raw");
      if (!tx.isSigned() || tx.from === null) throw refuse("the transaction is not signed");
      if (getAddress(tx.from) !== getAddress(principal!.address)) {
        throw new ApiError(403, "SIGNER_MISMATCH", "the transaction is not signed by the signed-in person");
      }
      if (tx.chainId !== chain.chainId) throw refuse(`the transaction is for chain ${tx.chainId}`);
      if (tx.to === null || getAddress(tx.to) !== getAddress(chain.deployment.ledger)) {
        throw refuse("the transaction is not to this node's ledger");
      }
      if (tx.value !== 0n) throw refuse("the transaction moves ether");
      const call = chain.ledger.interface.parseTransaction({ data: tx.data });
      if (call === null || !RELAYABLE.has(call.name)) throw refuse("the transaction is not a dispute step");
      const [agreementId, period] = [String(call.args[0]), Number(call.args[1])];
      let response;
      try {
        response = await chain.provider.broadcastTransaction(body.raw);
      } catch (error) {
        const decoded = toChainError(error, "the transaction");
        if (decoded.retryable) throw decoded;
        throw new ConflictError(`the chain node refused the transaction: ${decoded.shortMessage}`);
      }
      deps.logger.info("relayed a dispute step", { fn: call.name, from: tx.from, txHash: response.hash });
      const receipt = await response.wait(1, RELAY_WAIT_MS).catch((error: unknown) => {
        // A reverted transaction rejects wait() with its receipt; a timeout leaves it pending.
        const receipt = (error as { receipt?: unknown }).receipt;
        if (receipt) return receipt as Awaited<ReturnType<typeof response.wait>>;
        return null;
      });
      if (receipt === null) {
        return {
          txHash: response.hash,
          status: "pending" as const,
          blockNumber: null,
          gasUsed: null,
          state: null,
        };
      }
      return {
        txHash: response.hash,
        status: receipt.status === 1 ? ("confirmed" as const) : ("reverted" as const),
        blockNumber: receipt.blockNumber,
        gasUsed: receipt.gasUsed.toString(),
        state: await periodState(chain, agreementId, period),
      };
    },
  }),
];
