/**
 * What the console's dashboard and ingest page read besides periods: the ingested files with their
 * counts, and rated traffic per day for the charts. Carrier-internal operations data (per-partner
 * traffic and revenue are commercial secrets): operators, officers and admins, as GET /api/v1/cdrs/stats.
 */
import { z } from "zod/v4";
import {
  INGEST_KINDS,
  INGEST_STATUSES,
  type IngestFile,
  type IngestKind,
  type IngestStatus,
} from "../../../node/src/services/records";
import { formatPeriod } from "../../../node/src/reconciliation/reveal";
import type { Role } from "../auth/types";
import { HttpError } from "../http-error";
import { DAY_MS, dayNumber, isoDay, jsonify } from "./json";
import { defineRoute, type ApiRoute } from "./route";
import { requireNode } from "./route-access";
import { Integer, Timestamp } from "./schemas";

const OPERATIONS: readonly Role[] = ["operator", "officer", "admin"];

/** The longest window the traffic series covers: a year and a bit. */
const MAX_DAYS = 400;

export const FileCounts = z.object({
  fileId: z.number().int(),
  fileName: z.string(),
  format: z.string(),
  kind: z.enum(INGEST_KINDS as readonly [IngestKind, ...IngestKind[]]),
  status: z.enum(INGEST_STATUSES as readonly [IngestStatus, ...IngestStatus[]]),
  incompleteReason: z.string().nullable().meta({ description: "why an incomplete ingest stopped" }),
  records: Integer.meta({ description: "rated + unbilled + rejected" }),
  rated: Integer,
  unbilled: Integer,
  rejected: Integer,
});

/** A file's counts as the API shows them. */
export function fileCounts(file: IngestFile): z.input<typeof FileCounts> {
  return {
    fileId: file.id,
    fileName: file.fileName,
    format: file.format,
    kind: file.kind,
    status: file.status,
    incompleteReason: file.incompleteReason,
    ...jsonify({
      records: file.records,
      rated: file.rated,
      unbilled: file.unbilled,
      rejected: file.rejected,
    }),
  };
}

const FilesResponse = z.object({
  files: z.array(
    FileCounts.extend({
      byteSize: Integer,
      startedAt: Timestamp,
      finishedAt: Timestamp.nullable(),
    }),
  ),
});

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a day like 2030-01-15");

const TrafficResponse = z.object({
  from: z.string(),
  to: z.string(),
  days: z.array(
    z.object({
      day: z.string().meta({ description: "YYYY-MM-DD (UTC)" }),
      partner: z.string(),
      direction: z.enum(["in", "out"]).or(z.string()),
      records: Integer,
      billedSeconds: Integer,
      amount: Integer.meta({ description: "micro-units of the decks' currency" }),
    }),
  ),
});

const ClosedMonthResponse = z.object({
  period: z
    .string()
    .nullable()
    .meta({ description: "YYYY-MM of the last closed month; null before any close" }),
  totals: z.array(
    z.object({
      agreement: z.string(),
      agreementId: z.string(),
      partner: z.string(),
      direction: z
        .enum(["in", "out"])
        .meta({ description: "out: we hand the calls to the partner (we owe)" }),
      calls: Integer,
      billedSeconds: Integer,
      amount: Integer.meta({ description: "micro-units of `currency`" }),
      currency: z.string().nullable(),
    }),
  ),
});

export const ACTIVITY_ROUTES: readonly ApiRoute[] = [
  defineRoute({
    method: "get",
    path: "/api/v1/files",
    summary: "Ingested CDR files, newest first, with their counts (rated + unbilled + rejected = records)",
    tag: "ingest",
    allow: OPERATIONS,
    scope: "cdrs:read",
    response: FilesResponse,
    errors: [503],
    handler: async ({ deps }) => {
      const files = await requireNode(deps).cdrs.files();
      return {
        files: files.reverse().map((file) => ({
          ...fileCounts(file),
          byteSize: file.byteSize.toString(),
          startedAt: file.startedAt.toISOString(),
          finishedAt: file.finishedAt?.toISOString() ?? null,
        })),
      };
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/traffic/daily",
    summary: "Rated traffic per UTC day, partner and direction: calls, billed seconds, amount",
    description: `From \`from\` to \`to\` inclusive (default: the 62 days up to the latest rated call); at most ${MAX_DAYS} days.`,
    tag: "ingest",
    allow: OPERATIONS,
    scope: "cdrs:read",
    query: z.strictObject({ from: Day.optional(), to: Day.optional() }),
    response: TrafficResponse,
    errors: [503],
    handler: async ({ deps, query }) => {
      const cdrs = requireNode(deps).cdrs;
      const last =
        query.to === undefined
          ? ((await cdrs.latestTrafficDay()) ?? Math.floor(Date.now() / DAY_MS))
          : dayNumber(query.to);
      const first = query.from === undefined ? last - 61 : dayNumber(query.from);
      if (!Number.isInteger(first) || !Number.isInteger(last) || first > last || last - first >= MAX_DAYS) {
        throw new HttpError(
          400,
          "INVALID_INPUT",
          `query.from: must be a real day, not after 'to', at most ${MAX_DAYS} days before it`,
          "query.from",
        );
      }
      const rows = await cdrs.dailyTraffic(first, last);
      return {
        from: isoDay(first),
        to: isoDay(last),
        days: rows.map((row) => ({ ...jsonify(row), day: isoDay(row.day) })),
      };
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/v1/traffic/closed-month",
    summary: "The last closed month's totals per partner and direction: calls, billed seconds, amount",
    description:
      "From the summaries this node froze when it closed the period (the figures it committed), summed per " +
      "direction; the currency is the agreement's settlement token (the tariff deck's without a chain).",
    tag: "ingest",
    allow: OPERATIONS,
    scope: "cdrs:read",
    response: ClosedMonthResponse,
    errors: [503],
    handler: async ({ deps }) => {
      const { period, totals } = await requireNode(deps).monthTotals.lastClosed(deps.chain);
      return { period: period === null ? null : formatPeriod(period), totals: totals.map((t) => jsonify(t)) };
    },
  }),
];
