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
import { Transaction, getAddress } from "ethers";
import { z } from "zod/v4";
import { relayDisputeStep } from "../../../node/src/services/disputes";
import { parseReason, type DisputeStep, type StepInput } from "../../../node/src/settlement/disputes";
import type { Role } from "../auth/types";
import { HttpError } from "../http-error";
import { dayNumber, isoDay, jsonify } from "./json";
import { defineRoute, type ApiRoute, type UploadSpec } from "./route";
import { readsWholeLedger, requireChain, requireNode } from "./route-access";
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

/** Most calls listed for one leaf (a day of one destination of a busy partner can be large). */
const MAX_CALLS = 5_000;

// ─── helpers ─────────────────────────────────────────────────────────────────

/** `2030-01-15` → days since 1970-01-01, checked to lie in `period`. @throws HttpError 400 */
function dayOf(text: string, period: number): number {
  const day = dayNumber(text);
  const month = Number(text.slice(0, 7).replace("-", ""));
  if (!Number.isInteger(day) || month !== period) {
    throw new HttpError(
      400,
      "INVALID_INPUT",
      `query.day: must be a day of the period ${period}`,
      "query.day",
    );
  }
  return day;
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
      const day = dayOf(query.day, params.period);
      const key = { direction: query.direction, service: query.service, destination: query.destination, day };
      const found = await node.disputes.leafCalls(params.agreement, params.period, key);
      const calls = found.calls;
      return {
        agreement: found.agreement,
        period: params.period,
        leaf: { ...key, day: isoDay(day) },
        round: found.round,
        calls: calls.slice(0, query.limit).map((call) => ({
          callKey: call.callKey,
          cdrId: call.cdrId,
          aNumber: call.aNumber,
          bNumber: call.bNumber,
          start: new Date(call.startMs).toISOString(),
          billedSeconds: call.billed.toString(),
          amount: call.amount.toString(),
          finding: call.finding,
          theirs: call.theirs,
        })),
        truncated: calls.length > query.limit,
        missingOnOurSide: found.missingOnOurSide,
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
      await node.agreements.require(params.agreement);
      const bytes = await readUpload(requireUpload(upload), "the evidence file");
      return node.disputes.sealEvidence(params.agreement, params.period, query.name, bytes);
    },
  }),
  defineRoute({
    method: "post",
    path: "/api/v1/periods/:agreement/:period/disputes/plan",
    summary: "Plan a dispute step for the signed-in officer or arbiter: checked, described, unsigned",
    description:
      "Checks what the ledger would check (state, windows, role, figures within the claims) and answers the " +
      "transaction to sign with the caller's own key, with what it does in words and a gas estimate (which " +
      "also runs it against the ledger: a step the ledger would refuse is a 409 naming why). Nothing is sent. A ruling's `rationale` " +
      "typed as text is stored first, as public evidence, and the ruling carries its CID.",
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
      const from = getAddress(principal!.address);
      const input: StepInput & { rationale?: string } = {
        amountAB: body.amountAB === undefined ? undefined : BigInt(body.amountAB),
        amountBA: body.amountBA === undefined ? undefined : BigInt(body.amountBA),
        reasonCode: body.reason === undefined ? undefined : parseReason(body.reason),
        evidenceCid: body.evidenceCid,
        rationale: body.rationale,
      };
      const step = body.step as DisputeStep;
      const scope = { outsiders: readsWholeLedger(principal) };
      const plan = await node.disputes.plan(chain, params.agreement, params.period, step, from, input, scope);
      return { ...plan, transaction: jsonify(plan.transaction) };
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
        throw new HttpError(400, "INVALID_INPUT", "body.raw: not a signed transaction", "body.raw");
      }
      const refuse = (why: string) => new HttpError(400, "INVALID_INPUT", `body.raw: ${why}`, "body.raw");
      if (!tx.isSigned() || tx.from === null) throw refuse("the transaction is not signed");
      if (getAddress(tx.from) !== getAddress(principal!.address)) {
        throw new HttpError(403, "SIGNER_MISMATCH", "the transaction is not signed by the signed-in person");
      }
      if (tx.chainId !== chain.chainId) throw refuse(`the transaction is for chain ${tx.chainId}`);
      if (tx.to === null || getAddress(tx.to) !== getAddress(chain.deployment.ledger)) {
        throw refuse("the transaction is not to this node's ledger");
      }
      if (tx.value !== 0n) throw refuse("the transaction moves ether");
      const call = chain.ledger.interface.parseTransaction({ data: tx.data });
      if (call === null || !RELAYABLE.has(call.name)) throw refuse("the transaction is not a dispute step");
      const [agreementId, period] = [String(call.args[0]), Number(call.args[1])];
      return relayDisputeStep(chain, deps.logger, body.raw, {
        fn: call.name,
        from: tx.from,
        agreementId,
        period,
      });
    },
  }),
];
