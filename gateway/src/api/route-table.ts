/**
 * Every route of the gateway's API in one table: method, path, who may call it (roles, and the scope
 * an API token needs), the zod schemas of its input and output, and a thin handler calling the node.
 * router.ts builds the express routes from it, openapi.ts the OpenAPI document, and the authorization
 * matrix test checks each entry against an expectation written down separately.
 * `/healthz` and `/peer/v1/` are not here: the liveness probe has no input or rules, and the peer
 * protocol authenticates each message by the partner node's signature (node/src/reconciliation).
 *
 * Who sees what, as a carrier's back office would have it:
 * - operator (network/billing operations): the operational data of the node — partners and their
 *   match rules, tariff decks, ingest counts, rejected CDRs, the deadline watch's alerts. Not periods,
 *   approvals or settlement.
 * - officer (finance officer who signs approvals): everything operators see, plus periods, discrepancy
 *   reports, and signing approvals. Only officers sign (with their own key, EIP-712).
 * - regulator: periods (figures, tolerance, disputes, deadlines, approvals: what the ledger holds
 *   anyway) and, later, the audit. Never CDR-level data: rejects carry raw switch lines (calling and
 *   called numbers: personal data), per-destination traffic and tariff decks are commercial secrets
 *   between two carriers, and the discrepancy report names individual calls.
 * - arbiter: the periods that are (or were) in dispute, and nothing of the carrier's internals.
 * - admin (runs the node): everything a viewer can see, plus /metrics, but never signs as an officer:
 *   approval is a financial act bound to an officer's key, not an administrator's.
 */
import { z } from "zod/v4";
import { NotFoundError } from "../../../node/src/errors";
import { alertWindowMs } from "../../../node/src/services/alerts";
import type { PeriodView } from "../../../node/src/settlement/period-view";
import type { Role } from "../auth/types";
import { checkReadiness } from "../health/readiness";
import { DOCS_CSS, DOCS_HTML, DOCS_JS } from "./docs-page";
import { PERIODS, readsWholeLedger, requireChain, requireNode, seesAllPeriods } from "./route-access";
import { jsonify, periodReference, periodViewJson } from "./json";
import { LEDGER_ROUTES } from "./routes-ledger";
import { SETTLE_ROUTES } from "./routes-settle";
import { UPLOAD_ROUTES } from "./routes-uploads";
import { ACTIVITY_ROUTES } from "./routes-activity";
import { FAST_PATH_ROUTES } from "./routes-fast-path";
import { APPROVAL_ROUTES } from "./routes-approvals";
import { DISPUTE_ROUTES } from "./routes-disputes";
import { defineRoute, StatusReply, type ApiRoute } from "./route";
import {
  AgreementPeriodParams,
  AgreementRef,
  AgreementsResponse,
  AlertLevel,
  AlertsResponse,
  CdrStatsResponse,
  PartnersResponse,
  PeriodShowResponse,
  PeriodState,
  PeriodsResponse,
  ReadyResponse,
  RejectReason,
  RejectsResponse,
  ReportResponse,
  TariffsResponse,
  queryInt,
} from "./schemas";

/** Operational data of the node: operators run it, officers need it to judge figures, admins see all. */
const OPERATIONS: readonly Role[] = ["operator", "officer", "admin"];
/** The deadline watch's alerts: the carrier's operations staff, officers and admins. */
const ALERT_READERS: readonly Role[] = ["operator", "officer", "admin"];
/** CDR-level detail behind a period (call keys, CDR ids): the carrier's own finance staff only. */
const PERIOD_INTERNALS: readonly Role[] = ["officer", "admin"];

export const PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

const disputed = (view: PeriodView) => view.dispute !== null;

const CORE_ROUTES: readonly ApiRoute[] = [
  // ─── operations ────────────────────────────────────────────────────────────
  defineRoute({
    method: "get",
    path: "/api/v1/partners",
    summary: "Partners and the rules that assign switch CDRs to them",
    tag: "partners",
    allow: OPERATIONS,
    scope: "partners:read",
    response: PartnersResponse,
    errors: [503],
    handler: async ({ deps }) => ({ partners: await requireNode(deps).partners.list() }),
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/agreements",
    summary: "The agreements this carrier is party to (never their secrets)",
    description:
      "Agreement ids and parties are on the ledger anyway; regulators need them to find periods. The shared " +
      "secret has no field in the response schema, so it cannot be sent.",
    tag: "agreements",
    // Regulators too: the agreements are on the ledger, and they name the periods regulators oversee.
    allow: ["operator", "officer", "regulator", "admin"],
    scope: "agreements:read",
    response: AgreementsResponse,
    errors: [503],
    handler: async ({ deps }) => jsonify({ agreements: await requireNode(deps).agreements.list() }),
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/tariffs",
    summary: "Tariff decks, active and superseded, with their row counts",
    tag: "tariffs",
    // Rates are a commercial secret between the two carriers: not for regulators or arbiters.
    allow: OPERATIONS,
    scope: "tariffs:read",
    response: TariffsResponse,
    errors: [503],
    handler: async ({ deps }) => jsonify({ decks: await requireNode(deps).tariffs.list() }),
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/cdrs/stats",
    summary: "CDR counts by outcome and reject reason; traffic by partner, direction and destination",
    tag: "ingest",
    // Per-destination traffic and revenue are carrier-internal.
    allow: OPERATIONS,
    scope: "cdrs:read",
    response: CdrStatsResponse,
    errors: [503],
    handler: async ({ deps }) => jsonify(await requireNode(deps).cdrs.stats()),
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/rejects",
    summary: "Rejected CDR lines with file, line, reason, column and message",
    tag: "ingest",
    // Raw switch lines hold subscribers' numbers: personal data, for the carrier's own staff only.
    allow: OPERATIONS,
    scope: "cdrs:read",
    query: z.strictObject({
      file: queryInt(1, 2_147_483_647).optional().meta({ description: "only this ingest file id" }),
      reason: RejectReason.optional(),
      limit: queryInt(1, 1000).default(100),
      offset: queryInt(0, 100_000_000).default(0),
    }),
    response: RejectsResponse,
    errors: [503],
    handler: async ({ deps, query }) =>
      jsonify({
        rejects: await requireNode(deps).cdrs.rejects({
          fileId: query.file,
          reason: query.reason,
          limit: query.limit,
          offset: query.offset,
        }),
      }),
  }),

  // ─── periods ───────────────────────────────────────────────────────────────
  defineRoute({
    method: "get",
    path: "/api/v1/periods",
    summary: "This node's agreement-periods with state, figures, deadlines and approvals",
    description:
      "Every period this node built a summary for or the ledger holds a commitment for, newest first, each as " +
      "GET /api/v1/periods/{agreement}/{period} shows it. A regulator or arbiter also sees every other " +
      "agreement's periods the ledger has a record of (committed, or settled by the fast path), read from the " +
      "chain alone. An arbiter sees the disputed ones only.",
    tag: "periods",
    allow: PERIODS,
    scope: "periods:read",
    query: z.strictObject({
      state: z
        .string()
        .transform((text, issue) => {
          const state = PeriodState.options.find((s) => s.toLowerCase() === text.toLowerCase());
          if (state === undefined) {
            issue.addIssue({ code: "custom", message: `must be one of ${PeriodState.options.join(", ")}` });
            return z.NEVER;
          }
          return state;
        })
        .optional()
        .meta({ description: `only periods in this ledger state (${PeriodState.options.join(", ")})` }),
    }),
    response: PeriodsResponse,
    errors: [503],
    handler: async ({ deps, query, principal }) => {
      const views = await requireNode(deps).periods.list(requireChain(deps), {
        state: query.state,
        outsiders: readsWholeLedger(principal),
      });
      const visible = views.filter((view) => seesAllPeriods(principal) || disputed(view));
      return jsonify({ periods: visible.map(periodViewJson) });
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/periods/:agreement/:period",
    summary:
      "One period: figures, tolerance test, dispute, deadlines, approvals (as `icl period show --json`)",
    description:
      "A regulator or arbiter may name any agreement on the ledger by its 0x id, also one this node is not " +
      "party to: that one is read from the chain alone (no summary of this node, no report). A month the " +
      "agreement has no period for (before it starts, not begun yet) is a 404 saying so. " +
      "`fastPath` is set while this node leaves the period to the co-signed fast path (closed, not committed, " +
      "`settlement.fastPath` on, the ledger still allowing it): the Settlement its officers sign and how many " +
      "of each carrier's officers signed it so far.",
    tag: "periods",
    allow: PERIODS,
    scope: "periods:read",
    params: AgreementPeriodParams,
    response: PeriodShowResponse,
    errors: [404, 503],
    handler: async ({ deps, params, principal }) => {
      const node = requireNode(deps);
      const view = await node.periods.view(requireChain(deps), params.agreement, params.period, {
        outsiders: readsWholeLedger(principal),
      });
      // An arbiter only: a period that is not in dispute is none of theirs, and its existence not either.
      if (!seesAllPeriods(principal) && !disputed(view)) {
        throw new NotFoundError(`no disputed period ${view.ctx.label}`);
      }
      const fastPath = await node.periods.fastPathSigning(requireChain(deps), view.ctx);
      return jsonify({
        ...periodViewJson(view),
        reference: periodReference(view, node.periods.fxTable()),
        fastPath,
      });
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/periods/:agreement/:period/report",
    summary:
      "The discrepancy report of a period whose roots differ: per leaf, the calls behind the difference",
    tag: "periods",
    allow: PERIOD_INTERNALS,
    scope: "reports:read",
    params: AgreementPeriodParams,
    query: z.strictObject({
      round: queryInt(0, 255)
        .optional()
        .meta({ description: "the commit-reveal round (default: the latest)" }),
    }),
    response: ReportResponse,
    errors: [404, 503],
    handler: async ({ deps, params, query }) => {
      const { agreement, report: stored } = await requireNode(deps).periods.report(
        params.agreement,
        params.period,
        query.round,
      );
      if (stored === null) {
        throw new NotFoundError(`no discrepancy report for ${agreement.name} ${params.period}`);
      }
      const { stats: _stats, ...report } = stored;
      return jsonify({ agreement: agreement.name, ...report }) as z.input<typeof ReportResponse>;
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/alerts",
    summary: "The deadline watch's alerts: windows about to close, default actions taken, errors",
    description: "As `icl alerts --json`, oldest first.",
    tag: "periods",
    // The carrier's own staff: officers act on them, operators keep the node running and see a settlement
    // the node could not send (an escrow top-up) as early as anyone. Not regulators or arbiters: alerts
    // are this node's to-do list, not the ledger's record.
    allow: ALERT_READERS,
    scope: "alerts:read",
    query: z.strictObject({
      since: z
        .string()
        .refine((text) => alertWindowMs(text) !== null, "must be a duration like 30m, 12h, 7d or 2w")
        .optional()
        .meta({ description: "only alerts of the last 30m, 12h, 7d, 2w…" }),
      level: AlertLevel.optional(),
      agreement: AgreementRef.optional(),
    }),
    response: AlertsResponse,
    errors: [503],
    handler: async ({ deps, query }) => jsonify({ alerts: await requireNode(deps).alerts.list(query) }),
  }),

  ...APPROVAL_ROUTES,

  // ─── operations of the gateway itself ──────────────────────────────────────
  defineRoute({
    method: "get",
    path: "/readyz",
    summary: "Readiness: the database, the chain node and the evidence store answer",
    description:
      "503 names the failing check. For load balancers and orchestrators: public, says nothing more.",
    tag: "health",
    allow: "public",
    scope: null,
    response: ReadyResponse,
    errors: [503],
    handler: async ({ deps }) => {
      const readiness = await checkReadiness(deps.node, deps.chain);
      return readiness.status === "ready" ? readiness : new StatusReply(503, readiness);
    },
  }),
  defineRoute({
    method: "get",
    path: "/metrics",
    summary: "Prometheus metrics: HTTP requests and latency, periods by state, pending transactions, ingest",
    description:
      "Not public: the listener also faces partners' nodes, and counts of periods and transactions are the " +
      "carrier's business. Prometheus scrapes with an API token holding `metrics:read`.",
    tag: "health",
    allow: ["operator", "admin"],
    scope: "metrics:read",
    response: undefined,
    contentType: PROMETHEUS_TEXT,
    handler: async ({ deps }) => ({ raw: deps.metrics.render(await deps.collectNodeMetrics()) }),
  }),
  defineRoute({
    method: "get",
    path: "/openapi.json",
    summary: "This document",
    tag: "docs",
    allow: "public",
    scope: null,
    response: undefined,
    contentType: "application/json; charset=utf-8",
    handler: async ({ openapi }) => ({ raw: JSON.stringify(openapi()) }),
  }),
  defineRoute({
    method: "get",
    path: "/docs",
    summary: "The API documentation page (renders /openapi.json)",
    tag: "docs",
    allow: "public",
    scope: null,
    response: undefined,
    contentType: "text/html; charset=utf-8",
    handler: async () => ({ raw: DOCS_HTML }),
  }),
  defineRoute({
    method: "get",
    path: "/docs/docs.js",
    summary: "Script of the documentation page",
    tag: "docs",
    allow: "public",
    scope: null,
    response: undefined,
    contentType: "text/javascript; charset=utf-8",
    handler: async () => ({ raw: DOCS_JS }),
  }),
  defineRoute({
    method: "get",
    path: "/docs/docs.css",
    summary: "Style of the documentation page",
    tag: "docs",
    allow: "public",
    scope: null,
    response: undefined,
    contentType: "text/css; charset=utf-8",
    handler: async () => ({ raw: DOCS_CSS }),
  }),
];

/** Every API route: this file's, then the fast path's, disputes/settlement/audit, settling a period and uploads, each in its own file. */
export const ROUTES: readonly ApiRoute[] = [
  ...CORE_ROUTES,
  ...FAST_PATH_ROUTES,
  ...LEDGER_ROUTES,
  ...SETTLE_ROUTES,
  ...DISPUTE_ROUTES,
  ...UPLOAD_ROUTES,
  ...ACTIVITY_ROUTES,
];
