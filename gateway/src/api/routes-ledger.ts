/**
 * Disputes (a period's ledger timeline, evidence for the two parties), settlement (the netting plan,
 * this carrier's escrow) and the regulator's audit (verify, report). Thin: each handler calls what the
 * `icl` command of the same name calls (settle --netting --dry-run, escrow balance, audit verify|report)
 * and answers in the shape its `--json` prints.
 *
 * Who sees what (see route-table.ts's header for the roles):
 * - the timeline is what the ledger holds about one period, like GET /periods/{agreement}/{period}:
 *   the same roles, an arbiter only for disputed periods;
 * - evidence bundles open with the agreement's key, which only the two parties hold: officers of this
 *   carrier only. A regulator or arbiter gets a bundle from a party (who may hand the arbiter the
 *   period's key), never from this node; admins run the node but the bundle names individual calls;
 * - the netting plan and escrow are the carrier's treasury business: officers and admins. Regulators
 *   see what was settled through the audit; the plan (who must top up what, before anything moved) is
 *   not theirs, and operators do not deal with money;
 * - the audit replays the public ledger: regulators and admins; officers may run the verification
 *   too (before signing they may check the history holds), the full report is the regulator's export.
 */
import { getAddress } from "ethers";
import { z } from "zod/v4";
import { openAuditChain, type AuditChain } from "../../../node/src/audit/chain";
import { buildReport, type AuditReport } from "../../../node/src/audit/report";
import { reportCsv, reportHtml } from "../../../node/src/audit/report-render";
import { verifyLedger, type AuditResult } from "../../../node/src/audit/verify";
import type { ChainClient } from "../../../node/src/chain/client";
import type { LoadedDeployment } from "../../../node/src/chain/deployment";
import { requireAgreement } from "../../../node/src/db/agreements";
import { listChainEvents } from "../../../node/src/db/chain-store";
import { loadReport } from "../../../node/src/db/reports";
import { deriveEvidenceKey, EvidenceBundleError, getEvidence } from "../../../node/src/evidence/bundle";
import { NotFoundError, UnavailableError } from "../../../node/src/errors";
import { formatPeriod } from "../../../node/src/reconciliation/reveal";
import { reasonName } from "../../../node/src/settlement/disputes";
import { carrierOfNode, escrowPositions } from "../../../node/src/settlement/escrow";
import {
  carrierName,
  chainCall,
  listedTokens,
  resolveToken,
  tokenOf,
  type ListedToken,
} from "../../../node/src/settlement/escrow-tokens";
import { loadFxTable } from "../../../node/src/settlement/fx";
import { planView } from "../../../node/src/settlement/netting-report";
import { loadPeriodView } from "../../../node/src/settlement/period-view";
import { escrowBalances, planAgainst } from "../../../node/src/settlement/settle-plan";
import { findSettleable } from "../../../node/src/settlement/settleable";
import type { Principal, Role } from "../auth/types";
import { ApiError } from "./errors";
import { PERIODS, requireChain, requireNode, seesAllPeriods } from "./route-access";
import { jsonify } from "./json";
import { defineRoute, type ApiDeps, type ApiRoute } from "./route";
import { AgreementPeriodParams, PeriodParam, AgreementRef } from "./schemas";
import {
  Cid,
  EscrowResponse,
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

/** How long a verification or report is served again before the ledger is replayed anew. */
export const AUDIT_CACHE_MS = 60_000;

/** The deployment's own token when the chain client was opened from a deployment file (`icl run`). */
function deploymentToken(chain: ChainClient): Pick<LoadedDeployment, "token"> | undefined {
  const deployment = chain.deployment as Partial<LoadedDeployment>;
  return deployment.token ? { token: deployment.token } : undefined;
}

async function tokensOf(deps: ApiDeps): Promise<ListedToken[]> {
  const chain = requireChain(deps);
  await chain.indexer.sync();
  return listedTokens(chain, requireNode(deps).db, deploymentToken(chain));
}

/** This node's carrier: the one whose node key signs for this gateway (`registry.carrierOfNode`). */
async function ownCarrier(chain: ChainClient): Promise<string> {
  if (chain.address === null) {
    throw new ApiError(503, "NO_NODE_KEY", "this node has no key, so its carrier is not known");
  }
  return carrierOfNode(chain, chain.address);
}

// ─── timeline and evidence ───────────────────────────────────────────────────

const OUTCOME_NAMES = ["None", "Matched", "Reconciled", "Mismatched"];
/** The events whose CID is a party's sealed evidence for the period (not a ruling's public rationale). */
const EVIDENCE_EVENTS = new Set(["DisputeOpened", "DefaultContested", "FiguresProposed"]);
/** What this node seals evidence for (node/src/reconciliation/compare.ts, settlement/disputes.ts). */
const EVIDENCE_PURPOSES = ["discrepancy-report", "dispute-evidence"] as const;
/** Commit-reveal rounds a period can have: the first and at most three corrections. */
const MAX_ROUND = 3;

const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : null);

/** Block times, each block asked once. @throws UnavailableError when the chain node is unreachable. */
async function blockTimes(chain: ChainClient, blocks: readonly bigint[]): Promise<Map<bigint, string>> {
  const times = new Map<bigint, string>();
  for (const block of new Set(blocks)) {
    const found = await chainCall("eth_getBlockByNumber", () => chain.provider.getBlock(block));
    if (found === null) throw new UnavailableError(`block ${block} is missing on the chain node`);
    times.set(block, new Date(found.timestamp * 1000).toISOString());
  }
  return times;
}

/** How long a request waits for the event index to reach the chain's head before answering 503. */
const INDEX_WAIT_MS = 10_000;

/**
 * The period's indexed ledger events, the index brought up to the chain's head first.
 * @throws UnavailableError (503) when the RPC node does not let it catch up within {@link INDEX_WAIT_MS}:
 * a timeline short of the head is never answered as the whole one.
 */
async function periodEvents(deps: ApiDeps, agreementId: string, period: number) {
  const chain = requireChain(deps);
  const signal = AbortSignal.timeout(INDEX_WAIT_MS);
  await chain.indexer.sync(signal);
  if (signal.aborted) {
    throw new UnavailableError("the chain node did not let the event index catch up in time", {
      code: "RPC_UNAVAILABLE",
    });
  }
  const events = await listChainEvents(requireNode(deps).db, {
    chainId: chain.chainId,
    agreementId: agreementId.toLowerCase(),
    period,
  });
  return events.filter((e) => e.contract === "SettlementLedger");
}

/** The agreement when the principal may see its period; an arbiter's undisputed period is a 404. */
async function visiblePeriod(deps: ApiDeps, principal: Principal | null, ref: string, period: number) {
  const node = requireNode(deps);
  const agreement = await requireAgreement(node.db, ref);
  if (!seesAllPeriods(principal)) {
    const view = await loadPeriodView(node.db, requireChain(deps), agreement, period);
    if (view.dispute === null) throw new NotFoundError(`no disputed period ${view.ctx.label}`);
  }
  return agreement;
}

function evidenceFileName(agreement: string, period: number, purpose: string, cid: string): string {
  // Built from the stored agreement name (NAME_PATTERN), digits, a fixed purpose and a parsed CID only.
  return `${agreement.replace(/[^A-Za-z0-9_.-]/g, "_")}-${formatPeriod(period)}-${purpose}-${cid}.json`;
}

// ─── audit cache ─────────────────────────────────────────────────────────────

interface Cached<T> {
  at: number;
  value: Promise<T>;
}
const verifications = new WeakMap<ChainClient, Cached<AuditResult & { verifiedAt: string }>>();
const reports = new WeakMap<ChainClient, Cached<AuditReport>>();

/**
 * The last result for this chain while younger than {@link AUDIT_CACHE_MS}, else a new run; concurrent
 * requests share one run, and a failed run is not kept.
 */
function cached<T>(cache: WeakMap<ChainClient, Cached<T>>, chain: ChainClient, run: () => Promise<T>) {
  const hit = cache.get(chain);
  if (hit !== undefined && Date.now() - hit.at < AUDIT_CACHE_MS) return hit.value;
  const entry: Cached<T> = { at: Date.now(), value: run() };
  cache.set(chain, entry);
  entry.value.catch(() => {
    if (cache.get(chain) === entry) cache.delete(chain);
  });
  return entry.value;
}

/** The audit's own view of the node's chain: same RPC endpoint and deployment, its own provider. */
async function withAuditChain<T>(chain: ChainClient, use: (audit: AuditChain) => Promise<T>): Promise<T> {
  const audit = await openAuditChain({
    rpcUrl: chain.rpcUrl,
    ledger: chain.deployment.ledger,
    registry: chain.deployment.registry,
    book: chain.deployment.book,
    fromBlock: chain.deployment.deployBlock,
  });
  try {
    return await use(audit);
  } finally {
    audit.close();
  }
}

function auditReport(deps: ApiDeps): Promise<AuditReport> {
  const chain = requireChain(deps);
  return cached(reports, chain, () => withAuditChain(chain, (audit) => buildReport(audit)));
}

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
      const agreement = await visiblePeriod(deps, principal, params.agreement, params.period);
      const events = await periodEvents(deps, agreement.agreementId, params.period);
      const times = await blockTimes(
        requireChain(deps),
        events.map((e) => e.blockNumber),
      );
      return {
        agreement: agreement.name,
        agreementId: agreement.agreementId,
        period: params.period,
        events: events.map((e) => {
          const a = e.args;
          const address = text(a.signer) ?? text(a.arbiter);
          return {
            block: e.blockNumber.toString(),
            time: times.get(e.blockNumber)!,
            tx: e.txHash,
            logIndex: e.logIndex,
            event: e.name,
            carrier: e.carrierId === null ? null : carrierName(e.carrierId),
            carrierId: e.carrierId,
            address: address === null ? null : getAddress(address),
            round: text(a.round) === null ? null : Number(a.round),
            outcome: e.name === "Evaluated" ? (OUTCOME_NAMES[Number(a.outcome)] ?? String(a.outcome)) : null,
            reason: text(a.reasonCode) === null ? null : reasonName(Number(a.reasonCode)),
            partialSettlement: typeof a.partialSettlement === "boolean" ? a.partialSettlement : null,
            amountAB: text(a.amountAB),
            amountBA: text(a.amountBA),
            netAB: text(a.netAB),
            cid: text(a.evidenceCid) ?? text(a.rationaleCid),
          };
        }),
      };
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/periods/:agreement/:period/evidence/:cid",
    summary: "A decrypted evidence bundle of the period (the two parties' officers only)",
    description:
      "The CID must be named on chain for this period (DisputeOpened, DefaultContested, FiguresProposed) or be " +
      "this node's discrepancy report's bundle; anything else is a 404, as is a bundle that does not open with " +
      "the agreement's key. The body is the bundle's JSON payload (a discrepancy report, or the disputed files " +
      "as base64); the file name to save it under is made by the server.",
    tag: "disputes",
    // Sealed with the agreement's key, which only the two carriers derive: never regulators or arbiters.
    allow: PARTIES,
    scope: "evidence:read",
    params: z.strictObject({ agreement: AgreementRef, period: PeriodParam, cid: Cid }),
    response: z.object({
      agreement: z.string(),
      period: z.number().int(),
      cid: z.string(),
      purpose: z.enum(EVIDENCE_PURPOSES),
      fileName: z.string().meta({ description: "a file name to save it under, made by the server" }),
      content: z.unknown().meta({ description: "the bundle's decrypted JSON payload" }),
    }),
    errors: [404, 503],
    handler: async ({ deps, params }) => {
      const node = requireNode(deps);
      const agreement = await requireAgreement(node.db, params.agreement);
      const named = new Set<string>();
      for (const e of await periodEvents(deps, agreement.agreementId, params.period)) {
        const cid = text(e.args.evidenceCid);
        if (EVIDENCE_EVENTS.has(e.name) && cid !== null) named.add(cid);
      }
      for (let round = 0; round <= MAX_ROUND; round++) {
        const cid = (await loadReport(node.db, agreement.agreementId, params.period, round))?.evidenceCid;
        if (cid) named.add(cid);
      }
      const missing = new NotFoundError(`no evidence ${params.cid} for ${agreement.name} ${params.period}`);
      if (!named.has(params.cid)) throw missing;
      const key = deriveEvidenceKey(agreement.secret, agreement.agreementId, params.period);
      for (const purpose of EVIDENCE_PURPOSES) {
        let content: object | Uint8Array;
        try {
          content = await getEvidence(node.evidence, params.cid, key, {
            agreementId: agreement.agreementId,
            period: params.period,
            purpose,
          });
        } catch (error) {
          // GCM cannot tell a wrong purpose from another key: try the next purpose, then give up.
          if (error instanceof EvidenceBundleError) continue;
          throw error;
        }
        return {
          agreement: agreement.name,
          period: params.period,
          cid: params.cid,
          purpose,
          fileName: evidenceFileName(agreement.name, params.period, purpose, params.cid),
          content:
            content instanceof Uint8Array ? { base64: Buffer.from(content).toString("base64") } : content,
        };
      }
      throw missing;
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
      const node = requireNode(deps);
      const chain = requireChain(deps);
      const tokens = await tokensOf(deps);
      const only = query.token === undefined ? undefined : resolveToken(tokens, query.token).address;
      const periods = await findSettleable(chain, node.db, { token: only });
      const balances = await escrowBalances(chain, periods);
      const fx = loadFxTable(node.config);
      const plans = planAgainst(periods, balances).map((p) => ({
        ...planView(p, tokenOf(tokens, p.token), balances, fx),
        transaction: null,
        escrowAfter: null,
        skipped: [],
      }));
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
      const listed = await tokensOf(deps);
      const tokens = query.token === undefined ? listed : [resolveToken(listed, query.token)];
      const balances = await escrowPositions(chain, node.db, carrierId, tokens);
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
      const chain = requireChain(deps);
      const result = await cached(verifications, chain, () =>
        withAuditChain(chain, async (audit) => ({
          ...(await verifyLedger(audit)),
          verifiedAt: new Date().toISOString(),
        })),
      );
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
    handler: async ({ deps }) => auditReport(deps),
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
      raw: reportCsv(await auditReport(deps)),
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
      raw: reportHtml(await auditReport(deps)),
      headers: {
        "Content-Disposition": `attachment; filename="${reportFileName(deps, "html")}"`,
        // A standalone document: its own inline style and SVG, nothing that runs, nothing it loads.
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
      },
    }),
  }),
];
