/**
 * Disputes (a period's ledger timeline, evidence for the two parties), settlement (the netting plan,
 * this carrier's escrow) and the regulator's audit (verify, report). Thin: each handler calls what the
 * `icl` command of the same name calls (settle --netting --dry-run, escrow balance, audit verify|report)
 * and answers in the shape its `--json` prints.
 *
 * Who sees what (see route-table.ts's header for the roles):
 * - the timeline is what the ledger holds about one period, like GET /periods/{agreement}/{period}:
 *   the same roles, an arbiter only for disputed periods, a regulator or arbiter for any agreement on
 *   the ledger (by id);
 * - evidence bundles open with the agreement's key, which only the two parties hold: officers of this
 *   carrier only, whichever party cited it (a bundle the partner cited is fetched from its node). The
 *   agreement's arbiter gets, once the dispute is escalated, a copy re-sealed to the arbiter's own key,
 *   never the bundle's content in the clear; a regulator sees that evidence exists (its CID, on the
 *   timeline), not what it holds; admins run the node but the bundle names individual calls;
 * - a ruling's rationale is public text: whoever sees the period reads it;
 * - the netting plan and escrow are the carrier's treasury business: officers and admins. Regulators
 *   see what was settled through the audit; the plan (who must top up what, before anything moved) is
 *   not theirs, and operators do not deal with money;
 * - the audit replays the public ledger: regulators and admins; officers may run the verification
 *   too (before signing they may check the history holds), the full report is the regulator's export.
 */
import { z } from "zod/v4";
import { reportCsv, reportHtml } from "../../../node/src/audit/report-render";
import type { ChainClient } from "../../../node/src/chain/client";
import { NotFoundError } from "../../../node/src/errors";
import { AUDIT_CACHE_MS, auditService } from "../../../node/src/services/audit";
import { carrierOfNode } from "../../../node/src/settlement/escrow";
import { carrierName } from "../../../node/src/settlement/escrow-tokens";
import type { Principal, Role } from "../auth/types";
import { HttpError } from "../http-error";
import { PERIODS, readsWholeLedger, requireChain, requireNode, seesAllPeriods } from "./route-access";
import { jsonify } from "./json";
import { defineRoute, type ApiDeps, type ApiRoute } from "./route";
import { AgreementPeriodParams } from "./schemas";
import {
  ArbiterCopyResponse,
  EscrowResponse,
  EvidenceParams,
  OpenedEvidence,
  RationaleResponse,
  PlanResponse,
  ReportJson,
  TimelineResponse,
  TokenQuery,
  VerifyResponse,
} from "./schemas-ledger";

/** The agreement key is the two parties': the officers of this carrier. */
const PARTIES: readonly Role[] = ["officer"];
/** Money the carrier holds or owes: its finance officers, and the admins who run the node. */
const TREASURY: readonly Role[] = ["officer", "admin"];
/** Verifying the public ledger: the regulator's job, the admin's, and an officer's check before signing. */
const VERIFY: readonly Role[] = ["regulator", "officer", "admin"];
/** The regulator's export of every carrier's history. */
const AUDIT: readonly Role[] = ["regulator", "admin"];

/** This node's carrier: the one whose node key signs for this gateway (`registry.carrierOfNode`). */
async function ownCarrier(chain: ChainClient): Promise<string> {
  if (chain.address === null) {
    throw new HttpError(503, "NO_NODE_KEY", "this node has no key, so its carrier is not known");
  }
  return carrierOfNode(chain, chain.address);
}

/**
 * Passes when the principal may see the period: one of this node's agreements, or (for a regulator or
 * arbiter) any on the ledger; an arbiter's undisputed period is a 404.
 */
async function checkVisible(deps: ApiDeps, principal: Principal | null, ref: string, period: number) {
  if (seesAllPeriods(principal)) return;
  const scope = { outsiders: readsWholeLedger(principal) };
  const view = await requireNode(deps).periods.view(requireChain(deps), ref, period, scope);
  if (view.dispute === null) throw new NotFoundError(`no disputed period ${view.ctx.label}`);
}

const audit = auditService();

/** `icl-audit-<chain>-<ledger>.<ext>`: made from the deployment, never from the request. */
function reportFileName(deps: ApiDeps, extension: "csv" | "html"): string {
  const chain = requireChain(deps);
  return `icl-audit-${chain.chainId}-${chain.deployment.ledger.toLowerCase()}.${extension}`;
}

const REPORT_DESCRIPTION =
  "Read from the ledger's events alone, as `icl audit report` writes it. Built at most once a minute: " +
  "within 60 s of the last build the same report is served (its generatedAt says when).";

export const LEDGER_ROUTES: readonly ApiRoute[] = [
  // ─── disputes ──────────────────────────────────────────────────────────────
  defineRoute({
    method: "get",
    path: "/api/v1/periods/:agreement/:period/timeline",
    summary:
      "The period's ledger events in chain order: commits, reveals, evaluation, dispute steps, approvals",
    description:
      "From the node's event index, brought up to the chain's head first. Amounts are micro-units as decimal " +
      "strings; `cid` is the evidence (or ruling rationale) named on chain. An arbiter sees disputed periods only.",
    tag: "disputes",
    // The same facts as GET /periods/{agreement}/{period}, event by event: the same readers and token scope.
    allow: PERIODS,
    scope: "periods:read",
    params: AgreementPeriodParams,
    response: TimelineResponse,
    errors: [404, 503],
    handler: async ({ deps, params, principal }) => {
      await checkVisible(deps, principal, params.agreement, params.period);
      const scope = { outsiders: readsWholeLedger(principal) };
      return requireNode(deps).timeline.timeline(requireChain(deps), params.agreement, params.period, scope);
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/periods/:agreement/:period/evidence/:cid",
    summary: "A decrypted evidence bundle of the period (the two parties' officers only)",
    description:
      "The CID must be named on chain for this period (DisputeOpened, DefaultContested, FiguresProposed) or be " +
      "this node's discrepancy report's bundle; anything else is a 404. A bundle the other party cited is " +
      "fetched from its node (the peer protocol's `evidence` resource), checked against the CID and kept; a " +
      "partner that cannot be reached is a 503, bytes that are not the CID's or a bundle that does not open " +
      "with the agreement's key a 409. The body is the bundle's JSON payload (a discrepancy report, or the " +
      "disputed files as base64); the file name to save it under is made by the server.",
    tag: "disputes",
    // Sealed with the agreement's key, which only the two carriers derive: never regulators or arbiters.
    allow: PARTIES,
    scope: "evidence:read",
    params: EvidenceParams,
    response: OpenedEvidence,
    errors: [404, 409, 503],
    handler: async ({ deps, params }) => {
      const node = requireNode(deps);
      // An unknown agreement is a 404 before the chain is asked for.
      await node.agreements.require(params.agreement);
      return node.evidenceLookup.open(
        requireChain(deps),
        params.agreement,
        params.period,
        params.cid,
        deps.partnerEvidence,
      );
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/periods/:agreement/:period/evidence/:cid/arbiter-copy",
    summary: "An evidence bundle of an escalated dispute, re-sealed to the signed-in arbiter's own key",
    description:
      "For the agreement's arbiter once the dispute is escalated: the node opens the bundle the ledger names " +
      "(fetching it from the partner's node when it lacks it), seals it to `publicKey` (ECIES on secp256k1, " +
      "AES-256-GCM; node/src/evidence/README.md) and keeps the copy in its store. `publicKey` must be the " +
      "signed-in arbiter's, i.e. hash to their address. The console opens `sealed` with the arbiter's key; " +
      "the node's answer is no use to anyone else. The same bundle for the same arbiter is the same copy.",
    tag: "disputes",
    // Only the agreement's arbiter (checked against the ledger's terms), and only after escalation.
    allow: ["arbiter"],
    scope: "evidence:read",
    params: EvidenceParams,
    query: z.strictObject({
      publicKey: z
        .string()
        .regex(/^0x(?:0[23][0-9a-fA-F]{64}|04[0-9a-fA-F]{128})$/, "a secp256k1 public key as 0x-hex")
        .meta({ description: "the arbiter's public key, compressed or not" }),
    }),
    response: ArbiterCopyResponse,
    errors: [404, 409, 503],
    handler: async ({ deps, params, query, principal }) => {
      const node = requireNode(deps);
      await node.agreements.require(params.agreement);
      return node.evidenceLookup.arbiterCopy(
        requireChain(deps),
        params.agreement,
        params.period,
        params.cid,
        { address: principal!.address, publicKey: query.publicKey },
        deps.partnerEvidence,
      );
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/periods/:agreement/:period/rationale/:cid",
    summary: "The arbiter's rationale of the period's ruling, as text",
    description:
      "The CID must be the one the ledger's DisputeRuled carries for this period. The rationale is public " +
      "(the ruling is), stored as plain UTF-8 text; a node that lacks it fetches it from the partner's node.",
    tag: "disputes",
    // Whoever sees the period sees why it was ruled as it was.
    allow: PERIODS,
    scope: "periods:read",
    params: EvidenceParams,
    response: RationaleResponse,
    errors: [404, 409, 503],
    handler: async ({ deps, params, principal }) => {
      await checkVisible(deps, principal, params.agreement, params.period);
      return requireNode(deps).evidenceLookup.rationale(
        requireChain(deps),
        params.agreement,
        params.period,
        params.cid,
        deps.partnerEvidence,
      );
    },
  }),

  // ─── settlement ────────────────────────────────────────────────────────────
  defineRoute({
    method: "get",
    path: "/api/v1/settlement/plan",
    summary:
      "The netting plan of every Approved period per token (as `icl settle --netting --dry-run --json`)",
    description:
      "Positions, transfers saved and escrow top-ups, read from the ledger; nothing is sent. Amounts are exact " +
      "decimals of the token; with an FX table, a reference-currency column.",
    tag: "settlement",
    // The carrier's treasury planning (who must top up before settling): finance officers and admins.
    allow: TREASURY,
    scope: "settlement:read",
    query: TokenQuery,
    response: PlanResponse,
    errors: [404, 503],
    handler: async ({ deps, query }) => {
      const plans = (await requireNode(deps).settlement.plan(requireChain(deps), query.token)).map(
        (plan) => ({
          ...plan,
          transaction: null,
          escrowAfter: null,
          skipped: [],
        }),
      );
      return jsonify({ dryRun: true as const, sent: false as const, plans });
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/escrow",
    summary:
      "This carrier's escrow per listed token and its net position in Approved periods not yet settled",
    description: "As `icl escrow balance --json` for this node's carrier.",
    tag: "settlement",
    // Treasury figures: officers fund and withdraw escrow, admins watch the node; not operators.
    allow: TREASURY,
    scope: "escrow:read",
    query: TokenQuery,
    response: EscrowResponse,
    errors: [404, 503],
    handler: async ({ deps, query }) => {
      const node = requireNode(deps);
      const chain = requireChain(deps);
      const carrierId = await ownCarrier(chain);
      const balances = await node.settlement.escrow(chain, carrierId, query.token);
      return { carrier: carrierName(carrierId), carrierId, balances };
    },
  }),

  // ─── audit ─────────────────────────────────────────────────────────────────
  defineRoute({
    method: "get",
    path: "/api/v1/audit/verify",
    summary: "Replays the ledger's whole history and checks every step (as `icl audit verify --json`)",
    description:
      "Reads the chain only (this node's RPC endpoint and deployment); no summary files or evidence store. " +
      "A replay takes seconds: the last result is served for 60 s (verifiedAt says when it ran).",
    tag: "audit",
    // The ledger is public; regulators audit it, admins run it, officers may check it before signing.
    allow: VERIFY,
    scope: "audit:read",
    response: VerifyResponse,
    errors: [503],
    handler: async ({ deps }) => {
      const result = await audit.verify(requireChain(deps));
      return { ...result, cachedForSeconds: AUDIT_CACHE_MS / 1000 };
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/audit/report",
    summary: "The ledger's history per agreement and period, with per-carrier totals (JSON)",
    description: REPORT_DESCRIPTION,
    tag: "audit",
    // Every carrier's payments and escrow, period by period: the regulator's export (and the admin's).
    allow: AUDIT,
    scope: "audit:read",
    response: ReportJson,
    errors: [503],
    handler: async ({ deps }) => audit.report(requireChain(deps)),
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/audit/report.csv",
    summary: "The ledger's history as CSV, one row per event",
    description: REPORT_DESCRIPTION,
    tag: "audit",
    allow: AUDIT,
    scope: "audit:read",
    response: undefined,
    contentType: "text/csv; charset=utf-8",
    errors: [503],
    handler: async ({ deps }) => ({
      raw: reportCsv(await audit.report(requireChain(deps))),
      headers: { "Content-Disposition": `attachment; filename="${reportFileName(deps, "csv")}"` },
    }),
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/audit/report.html",
    summary: "The ledger's history as a standalone HTML document with totals and a chart",
    description: REPORT_DESCRIPTION,
    tag: "audit",
    allow: AUDIT,
    scope: "audit:read",
    response: undefined,
    contentType: "text/html; charset=utf-8",
    errors: [503],
    handler: async ({ deps }) => ({
      raw: reportHtml(await audit.report(requireChain(deps))),
      headers: {
        "Content-Disposition": `attachment; filename="${reportFileName(deps, "html")}"`,
        // A standalone document: its own inline style and SVG, nothing that runs, nothing it loads.
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
      },
    }),
  }),
];
