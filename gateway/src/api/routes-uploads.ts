/**
 * Uploads: tariff decks with their validation report, CDR files with progress, per-file counts and rejects.
 *
 * Who may do what (see the access rules in route-table.ts's header comment):
 * - operators and admins change what the node rates with: they import decks. Officers do not: the
 *   person who signs a period's approval should not also be the one who sets the rates its figures
 *   come from (separation of duties). Officers check decks and read them.
 * - CDR files are the switch's own record of the traffic, not a setting anyone chooses: operators,
 *   officers and admins upload them. An officer who finds a file missing (a late batch, a switch that
 *   held back two days) hands it in; the rates stay out of their reach, and a file ingested twice is
 *   counted once, so uploading changes no figure but by the calls the switch actually wrote.
 * - checking a deck stores nothing, so everyone who may read decks may check one.
 * - regulators and arbiters never: decks are commercial secrets, CDR files and rejects hold subscribers'
 *   numbers.
 *
 * A CDR upload becomes one of the node's ingest jobs (node/src/services/ingest-jobs.ts: written under
 * `<dataDir>/uploads/`, ingested in the background, polled, forgotten on restart). The `name` query
 * parameter is a label checked against a strict pattern (no separators, no `..`): it becomes the
 * stored file name, never a path of its own.
 */
import crypto from "node:crypto";
import { z } from "zod/v4";
import { NotFoundError } from "../../../node/src/errors";
import { FORMATS, FORMAT_IDS } from "../../../node/src/mediation/formats/registry";
import type { CarrierNode } from "../../../node/src/node";
import { JOB_STATUSES, type IngestJob as NodeIngestJob } from "../../../node/src/services/ingest-jobs";
import { loadTariffDeck, parseTariffDeck } from "../../../node/src/rating/tariff-deck";
import type { Role } from "../auth/types";
import { HttpError, errorResponse } from "../http-error";
import { jsonify } from "./json";
import { defineRoute, type ApiDeps, type ApiRoute, type Upload, type UploadSpec } from "./route";
import { Label, RejectReason, RejectsResponse, queryInt } from "./schemas";
import { readUpload, requireUpload } from "./upload-body";
import { FileCounts, fileCounts } from "./routes-activity";

/** Who sets the rates the node rates with: carrier operations staff and the node's administrators. */
const DECK_WRITERS: readonly Role[] = ["operator", "admin"];
/** Who hands in the switch's CDR files: operations staff, finance officers and admins. */
const CDR_UPLOADERS: readonly Role[] = ["operator", "officer", "admin"];
/** Operational data of the node, as GET /api/v1/rejects: operators, officers, admins. */
const OPERATIONS: readonly Role[] = ["operator", "officer", "admin"];

const DECK_UPLOAD: UploadSpec = { mediaTypes: ["text/csv", "text/plain"], limit: "deckBytes" };
const CDR_UPLOAD: UploadSpec = {
  mediaTypes: ["text/csv", "text/plain", "application/octet-stream"],
  limit: "fileBytes",
};

// ─── schemas ─────────────────────────────────────────────────────────────────

const PartnerId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "must be a partner id (letters, digits, '_', '.', '-')");
const Direction = z.enum(["in", "out"]);
const JobId = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, "must be a job id (a UUID)");

const DeckReport = z.object({
  valid: z.boolean(),
  rows: z.number().int().meta({ description: "rows without a problem" }),
  problems: z.array(
    z.object({
      line: z.number().int().meta({ description: "line of the deck (1 = header)" }),
      field: z.string().meta({ description: "the column at fault, or header / row" }),
      message: z.string(),
    }),
  ),
});

const DeckImported = z.object({
  deck: z.number().int(),
  partner: z.string(),
  direction: Direction,
  name: z.string(),
  currency: z.string(),
  rows: z.number().int(),
});

const IngestJob = z.object({
  jobId: JobId,
  name: z.string(),
  format: z.enum(FORMAT_IDS as readonly [string, ...string[]]),
  status: z.enum(JOB_STATUSES),
  progress: z.object({ bytesRead: z.number().int(), byteSize: z.number().int(), records: z.number().int() }),
  alreadyIngested: z
    .boolean()
    .nullable()
    .meta({ description: "when done: the same content was ingested before" }),
  resumedAfterLine: z.number().int().nullable(),
  file: FileCounts.nullable().meta({ description: "when done: the file's stored counts" }),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

const FormatsResponse = z.object({
  formats: z.array(
    z.object({
      id: z.string().meta({ description: "the value of ?format= and icl ingest --format" }),
      label: z.string(),
      description: z.string(),
      syntax: z.enum(["csv", "ndjson"]),
      headerRows: z
        .number()
        .int()
        .meta({ description: "rows before the data that name or describe columns" }),
      times: z.enum(["iso", "local", "epoch"]).meta({
        description: "local: wall clock in mediation.timeZone; iso and epoch need no zone",
      }),
      partnerFromRow: z.boolean().meta({ description: "the row names its partner; otherwise match rules" }),
      columns: z.array(z.string()),
      matchFields: z.array(z.string()).meta({ description: "fields a partner's match rule may name" }),
      sourceKey: z.string().meta({ description: "how the key that makes a duplicate is formed" }),
    }),
  ),
});

const FileRejectsResponse = z.object({ file: FileCounts, rejects: RejectsResponse.shape.rejects });

// ─── helpers ─────────────────────────────────────────────────────────────────

/** A job as the API shows it: the file's counts, and a failure in the words a client may read. */
function jobJson(job: NodeIngestJob): z.input<typeof IngestJob> {
  const { failure, file, ...rest } = job;
  const { error } = errorResponse(failure).body;
  return {
    ...rest,
    file: file === null ? null : fileCounts(file),
    error: job.status === "failed" ? { code: error.code, message: error.message } : null,
  };
}

function requireNode(deps: ApiDeps): CarrierNode {
  if (deps.node === null) throw new HttpError(503, "NO_NODE", "this gateway has no node attached");
  return deps.node;
}

/** The body as UTF-8 text. @throws HttpError 413 past the limit, 400 when empty. */
async function readText(upload: Upload): Promise<string> {
  return (await readUpload(upload, "the deck")).toString("utf8");
}

// ─── routes ──────────────────────────────────────────────────────────────────

export const UPLOAD_ROUTES: readonly ApiRoute[] = [
  defineRoute({
    method: "get",
    path: "/api/v1/formats",
    summary: "The CDR formats the node reads, each with its columns, times, match fields and source key",
    tag: "ingest",
    // Public knowledge about switches, but only those who ingest or read ingests need it.
    allow: OPERATIONS,
    scope: "cdrs:read",
    response: FormatsResponse,
    handler: async () => ({
      formats: FORMATS.map((f) => ({
        id: f.id,
        label: f.label,
        description: f.description,
        syntax: f.syntax,
        headerRows: f.headerRows,
        times: f.times,
        partnerFromRow: f.partnerFromRow,
        columns: [...f.columns],
        matchFields: [...f.matchFields],
        sourceKey: f.sourceKey,
      })),
    }),
  }),
  defineRoute({
    method: "post",
    path: "/api/v1/tariffs/check",
    summary: "Validate a tariff deck (CSV body) without storing it: every problem with line and column",
    description:
      "The body is the deck as text/csv (header row; columns as in the README's Tariff decks), at most the " +
      "gateway's deck limit (413 beyond). Nothing is stored. As `icl tariffs check --json`.",
    tag: "tariffs",
    // Stores nothing and reveals nothing but the sender's own deck: whoever may read decks may check one.
    allow: OPERATIONS,
    scope: "tariffs:read",
    upload: DECK_UPLOAD,
    response: DeckReport,
    errors: [413, 415, 429],
    handler: async ({ upload }) => {
      const { rows, problems } = parseTariffDeck(await readText(requireUpload(upload)));
      return { valid: problems.length === 0 && rows.length > 0, rows: rows.length, problems };
    },
  }),
  defineRoute({
    method: "post",
    path: "/api/v1/tariffs/import",
    summary: "Validate a tariff deck (CSV body) and make it the active deck of a partner and direction",
    description:
      "The whole deck is refused (400, the first problem named; POST /api/v1/tariffs/check lists them all) if " +
      "any row is wrong. The previous deck stays stored, inactive. As `icl tariffs import`.",
    tag: "tariffs",
    // Rates decide every amount settled: operations staff and admins set them, officers (who approve the
    // resulting figures) do not, regulators never see them.
    allow: DECK_WRITERS,
    scope: "tariffs:write",
    query: z.strictObject({
      partner: PartnerId,
      direction: Direction.meta({
        description: "out: the partner's rates for traffic we hand it; in: ours for traffic it hands us",
      }),
      name: Label.optional().meta({ description: "the deck's label (default PARTNER-direction)" }),
      currency: z
        .string()
        .regex(/^[A-Z]{3}$/, "must be a three-letter ISO 4217 code")
        .default("USD"),
    }),
    upload: DECK_UPLOAD,
    response: DeckImported,
    status: 201,
    errors: [404, 413, 415, 429, 503],
    handler: async ({ deps, query, upload }) => {
      const node = requireNode(deps);
      await node.partners.require(query.partner);
      const text = await readText(requireUpload(upload));
      const name = query.name ?? `${query.partner}-${query.direction}`;
      const rows = loadTariffDeck(text, name);
      const contentHash = crypto.createHash("sha256").update(text).digest("hex");
      const { partner, direction, currency } = query;
      const deck = await node.tariffs.importDeck({ partner, direction, name, currency, contentHash, rows });
      return { deck, partner, direction, name, currency, rows: rows.length };
    },
  }),
  defineRoute({
    method: "post",
    path: "/api/v1/ingest",
    summary: "Upload a CDR file (body) to mediate, rate and store in the background; poll the job",
    description:
      "The body is the file as the switch wrote it, at most the gateway's file limit (413 beyond, nothing " +
      "stored). Answers 202 with the job; GET /api/v1/ingest/{jobId} shows progress and, when done, the " +
      "file's counts. The same content again is reported as already ingested. Jobs are held in memory.",
    tag: "ingest",
    // The switch's record of the traffic: whoever at the carrier holds the file hands it in, officers too.
    allow: CDR_UPLOADERS,
    scope: "ingest:write",
    query: z.strictObject({
      format: z.enum(FORMAT_IDS as readonly [string, ...string[]]),
      name: Label.optional().meta({
        description: "the file's label, stored as its name (default upload.csv)",
      }),
    }),
    upload: CDR_UPLOAD,
    response: IngestJob,
    status: 202,
    errors: [413, 415, 429, 503],
    handler: async ({ deps, query, upload }) => {
      const { chunks } = requireUpload(upload);
      const name = query.name ?? "upload.csv";
      return jobJson(
        await requireNode(deps).ingestJobs.submit({ name, format: query.format, chunks: chunks() }),
      );
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/ingest/:jobId",
    summary: "An ingest job: progress (bytes, records) and, when done, the file's counts",
    tag: "ingest",
    // Counts of an ingest, as GET /api/v1/cdrs/stats: carrier-internal operations data.
    allow: OPERATIONS,
    scope: "cdrs:read",
    params: z.strictObject({ jobId: JobId }),
    response: IngestJob,
    errors: [404, 503],
    handler: async ({ deps, params }) => jobJson(requireNode(deps).ingestJobs.require(params.jobId)),
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/files/:fileId/rejects",
    summary: "An ingested file's counts and its rejected lines with reason, line, column and raw text",
    tag: "ingest",
    // Raw switch lines hold subscribers' numbers: personal data, for the carrier's own staff only.
    allow: OPERATIONS,
    scope: "cdrs:read",
    params: z.strictObject({ fileId: queryInt(1, 2_147_483_647) }),
    query: z.strictObject({
      reason: RejectReason.optional(),
      limit: queryInt(1, 1000).default(100),
      offset: queryInt(0, 100_000_000).default(0),
    }),
    response: FileRejectsResponse,
    errors: [404, 503],
    handler: async ({ deps, params, query }) => {
      const node = requireNode(deps);
      const file = await node.cdrs.file(params.fileId);
      if (file === null) throw new NotFoundError(`no ingested file ${params.fileId}`);
      const rejects = await node.cdrs.rejects({
        fileId: file.id,
        reason: query.reason,
        limit: query.limit,
        offset: query.offset,
      });
      return { file: fileCounts(file), rejects: jsonify(rejects) };
    },
  }),
];
