/**
 * Builds the express Router of the route table. Each route runs, in order: authentication (the
 * injected middleware sets `res.locals.principal`), authorization (one of the route's roles; for an
 * API token also the route's scope), the CSRF check on state-changing requests of sessions, the zod
 * checks of path parameters, query and body (400 naming the field), the handler, and the response
 * schema (unknown fields dropped). Failures go to the one error middleware in errors.ts.
 * Authorization comes before validation: who may not call a route learns nothing from its 400s.
 * Upload routes (`route.upload`) are rate-limited after authorization, refused by media type (415) and
 * declared length (413) before a byte of the body is read, and their body reaches the handler as a
 * bounded stream: it is never parsed as JSON nor held by the router.
 */
import crypto from "node:crypto";
import express, { type RequestHandler, type Router } from "express";
import type { z } from "zod/v4";
import { rateLimit } from "../auth/rate-limit";
import type { Principal } from "../auth/types";
import { HttpError, errorHandler, validate } from "../http-error";
import { openApiDocument } from "./openapi";
import {
  StatusReply,
  type ApiDeps,
  type ApiRoute,
  type RawBody,
  type Upload,
  type UploadLimits,
  type UploadSpec,
} from "./route";

/** Largest JSON body the API reads (an approval is under 1 KiB). */
export const API_BODY_LIMIT = "64kb";

/** Upload limits unless the gateway is given others: a day of a busy switch fits in 64 MiB. */
export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  fileBytes: 64 * 1024 * 1024,
  deckBytes: 8 * 1024 * 1024,
  evidenceBytes: 700 * 1024,
  perWindow: 20,
  windowMs: 60_000,
};

export interface RouterOptions {
  /** Sets `res.locals.principal` for a valid session or token; absent: every non-public route is 401. */
  authenticate?: RequestHandler;
  /**
   * Checks the CSRF token of state-changing requests (gateway/src/auth). Without it, sessions must send
   * `x-csrf-token` equal to their principal's `csrfToken` (checked here); tokens are not CSRF-prone.
   */
  csrf?: RequestHandler;
}

function principalOf(res: { locals: Record<string, unknown> }): Principal | null {
  return (res.locals.principal as Principal | undefined) ?? null;
}

/** 401 without a principal, 403 when no role (or, for a token, the scope) allows the route. */
export function authorize(route: ApiRoute): RequestHandler {
  return (_req, res, next) => {
    if (route.allow === "public") return next();
    const principal = principalOf(res);
    if (principal === null) {
      res.set("WWW-Authenticate", 'Bearer realm="icl"');
      throw new HttpError(401, "UNAUTHENTICATED", "sign in or send an API token");
    }
    const allow = route.allow;
    if (!principal.roles.some((role) => allow.includes(role))) {
      throw new HttpError(403, "FORBIDDEN", "none of your roles may use this route");
    }
    if (
      principal.kind === "token" &&
      (route.scope === null || !(principal.scopes ?? []).includes(route.scope))
    ) {
      throw new HttpError(403, "MISSING_SCOPE", `this API token lacks the scope ${route.scope ?? "(none)"}`);
    }
    next();
  };
}

const sameText = (a: string, b: string) => {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && crypto.timingSafeEqual(x, y);
};

/** The built-in CSRF check: a session's state-changing request echoes its CSRF token. */
const csrfFallback: RequestHandler = (req, res, next) => {
  const principal = principalOf(res);
  if (principal === null || principal.kind !== "session") return next();
  const sent = req.get("x-csrf-token");
  if (!principal.csrfToken || sent === undefined || !sameText(sent, principal.csrfToken)) {
    throw new HttpError(403, "CSRF", "missing or wrong x-csrf-token");
  }
  next();
};

/** 415 for a media type the upload route does not take, 413 for a declared length beyond its limit. */
function acceptUpload(spec: UploadSpec, maxBytes: number): RequestHandler {
  return (req, _res, next) => {
    const mediaType = (req.get("content-type") ?? "").split(";", 1)[0]!.trim().toLowerCase();
    if (!spec.mediaTypes.includes(mediaType)) {
      throw new HttpError(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        `the body must be sent as ${spec.mediaTypes.join(" or ")}`,
        "body",
      );
    }
    const declared = Number(req.get("content-length") ?? "0");
    if (declared > maxBytes)
      throw new HttpError(413, "TOO_LARGE", `the body is larger than ${maxBytes} bytes`);
    next();
  };
}

/** The request's body as a stream that fails with 413 once it passes `maxBytes`. */
function uploadOf(req: express.Request, maxBytes: number): Upload {
  return {
    maxBytes,
    async *chunks() {
      let total = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > maxBytes) {
          throw new HttpError(413, "TOO_LARGE", `the body is larger than ${maxBytes} bytes`);
        }
        yield chunk;
      }
    },
  };
}

function handle(route: ApiRoute, deps: ApiDeps, openapi: () => unknown): RequestHandler {
  return async (req, res) => {
    const check = <T>(schema: z.ZodType<T> | undefined, value: unknown, where: string) =>
      schema === undefined ? undefined : validate(schema, value, where);
    const params = check(route.params, { ...req.params }, "params");
    const query = check(route.query, { ...(req.query as Record<string, unknown>) }, "query");
    const body = check(route.body, req.body, "body");
    const upload = route.upload ? uploadOf(req, deps.uploads[route.upload.limit]) : null;
    const result = await route.handler({
      params,
      query,
      body,
      upload,
      principal: principalOf(res),
      deps,
      openapi,
    });
    if (route.response === undefined) {
      const raw = result as RawBody;
      if (raw.headers) res.set(raw.headers);
      res
        .status(route.status ?? 200)
        .type(route.contentType ?? "text/plain")
        .send(raw.raw);
      return;
    }
    const [status, payload] =
      result instanceof StatusReply ? [result.status, result.body as unknown] : [route.status ?? 200, result];
    const checked = route.response.safeParse(payload);
    if (!checked.success) {
      // A server bug (the node's data no longer fits the documented shape): a 500, the detail in the log.
      const issue = checked.error.issues[0]!;
      throw new Error(
        `response of ${route.method} ${route.path} does not match its schema at ${issue.path.join(".")}: ${issue.message}`,
      );
    }
    res.status(status).json(checked.data);
  };
}

/** The Router of `routes`; mount it at the root of the app. */
export function buildApiRouter(
  routes: readonly ApiRoute[],
  deps: ApiDeps,
  options: RouterOptions = {},
): Router {
  const router = express.Router();
  let document: unknown = null;
  const openapi = () => (document ??= openApiDocument(routes));
  const anonymous: RequestHandler = (_req, _res, next) => next();
  // One budget per client IP for all upload routes of this router.
  const uploadLimit = rateLimit({
    windowMs: deps.uploads.windowMs,
    max: deps.uploads.perWindow,
    key: "uploads",
  });
  for (const route of routes) {
    const chain: RequestHandler[] = [
      (_req, res, next) => {
        res.locals.metricsRoute = route.path;
        next();
      },
    ];
    if (route.allow !== "public") {
      chain.push(options.authenticate ?? anonymous, authorize(route));
      if (route.method !== "get") chain.push(options.csrf ?? csrfFallback);
    }
    if (route.upload !== undefined) {
      chain.push(uploadLimit, acceptUpload(route.upload, deps.uploads[route.upload.limit]));
    } else if (route.body !== undefined) chain.push(express.json({ limit: API_BODY_LIMIT }));
    chain.push(handle(route, deps, openapi));
    router[route.method](route.path, ...chain);
  }
  router.use(errorHandler(deps.logger));
  return router;
}
