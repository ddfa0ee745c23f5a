/**
 * What one entry of the route table is: method, path, who may call it, the zod schemas of its
 * parameters, query, body and response, and the handler. `defineRoute` types the handler's input
 * from the schemas; the table then holds the entries type-erased, so one array carries them all.
 */
import type { z } from "zod/v4";
import type { ChainClient } from "../../../node/src/chain/client";
import type { Logger } from "../../../node/src/logger";
import type { CarrierNode } from "../../../node/src/node";
import type { PartnerEvidence } from "../../../node/src/reconciliation/evidence-exchange";
import type { Principal, Role } from "../auth/types";
import type { Family, Metrics } from "../metrics/metrics";

/** Sizes and rates of uploads (gateway option `uploads`; defaults in router.ts). */
export interface UploadLimits {
  /** Largest CDR file accepted, bytes. */
  fileBytes: number;
  /** Largest tariff deck accepted, bytes. */
  deckBytes: number;
  /**
   * Largest dispute evidence file accepted, bytes: sealed (base64 in JSON, encrypted) it must still fit
   * one evidence block of 1 MiB.
   */
  evidenceBytes: number;
  /** Uploads allowed per client IP and window (all upload routes together); the next one is 429. */
  perWindow: number;
  /** The rate limit's window, milliseconds. */
  windowMs: number;
}

/** What handlers work with; a missing part answers 503 where a handler needs it. */
export interface ApiDeps {
  node: CarrierNode | null;
  chain: ChainClient | null;
  /** Evidence this node lacks, fetched from the partner's node; null: not held here is the answer. */
  partnerEvidence: PartnerEvidence | null;
  logger: Logger;
  metrics: Metrics;
  /** The node's gauges for `/metrics` (periods by state, pending transactions, ingest counters). */
  collectNodeMetrics(): Promise<Family[]>;
  uploads: UploadLimits;
}

/**
 * A route whose request body is not JSON but an upload (a CSV deck, a CDR file): the router checks its
 * media type (415) and declared length (413), rate-limits it, and hands the handler an {@link Upload}.
 */
export interface UploadSpec {
  /** Accepted media types, the Content-Type without its parameters. */
  mediaTypes: readonly string[];
  /** Which of the {@link UploadLimits} bounds the body. */
  limit: "fileBytes" | "deckBytes" | "evidenceBytes";
}

/** An upload's body as it arrives; read it once. */
export interface Upload {
  maxBytes: number;
  /** The body's chunks. @throws HttpError 413 once more than `maxBytes` arrived (a chunked body has no length). */
  chunks(): AsyncIterable<Buffer>;
}

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The raw body of an upload route ({@link UploadSpec}); null on the others. */
  upload: Upload | null;
  /** Null on public routes called anonymously; always set on the others. */
  principal: Principal | null;
  deps: ApiDeps;
  /** The OpenAPI document of the table (for `/openapi.json`). */
  openapi(): unknown;
}

/** Who may call a route: anyone, or a principal holding one of these roles. */
export type Allow = "public" | readonly Role[];

type Output<S> = S extends z.ZodType ? z.output<S> : undefined;

/** A response that is not JSON (metrics text, the docs page and its assets, file downloads). */
export interface RawBody {
  raw: string;
  /** Extra response headers, e.g. `Content-Disposition` of a download (set after the security headers). */
  headers?: Record<string, string>;
}

/** A JSON body sent with another status than the route's success status (`/readyz` answers 503). */
export class StatusReply<T> {
  constructor(
    readonly status: number,
    readonly body: T,
  ) {}
}

export interface RouteDef<
  P extends z.ZodType | undefined,
  Q extends z.ZodType | undefined,
  B extends z.ZodType | undefined,
  R extends z.ZodType | undefined,
> {
  method: "get" | "post";
  /** Express style, from the root: `/api/v1/periods/:agreement/:period`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  allow: Allow;
  /** What an API token needs (e.g. `periods:read`); null for public routes. */
  scope: string | null;
  params?: P;
  query?: Q;
  body?: B;
  /** An upload route: the body is raw (never parsed as JSON), bounded and rate-limited. */
  upload?: UploadSpec;
  /** JSON routes: the response body; raw routes: undefined and {@link contentType} set. */
  response: R;
  /** For raw routes: the media type of the body. */
  contentType?: string;
  /** Success status (default 200). */
  status?: number;
  /** Statuses besides 200 and the generic ones (400, 401, 403, 500) the route may answer, for the OpenAPI document. */
  errors?: readonly number[];
  handler(
    ctx: RouteContext<Output<P>, Output<Q>, Output<B>>,
  ): Promise<R extends z.ZodType ? z.input<R> | StatusReply<z.input<R>> : RawBody>;
}

/** A table entry with its types erased. */
export interface ApiRoute {
  method: "get" | "post";
  path: string;
  summary: string;
  description?: string;
  tag: string;
  allow: Allow;
  scope: string | null;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  upload?: UploadSpec;
  response: z.ZodType | undefined;
  contentType?: string;
  status?: number;
  errors?: readonly number[];
  handler(ctx: RouteContext<unknown, unknown, unknown>): Promise<unknown>;
}

/** One route, its handler typed from its schemas. */
export function defineRoute<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
  R extends z.ZodType | undefined = undefined,
>(def: RouteDef<P, Q, B, R>): ApiRoute {
  return def as unknown as ApiRoute;
}
