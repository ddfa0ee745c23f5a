/**
 * API tokens for machines (ingest jobs, monitoring, a regulator's exporter): an admin signed in with
 * a session issues one, sees its secret once, lists and revokes them. A token carries scopes and
 * roles; it never carries more roles than its issuer holds, except `operator`, which admins grant
 * anyway through the config. Tokens cannot manage tokens.
 */
import type { RequestHandler, Response, Router } from "express";
import { z } from "zod/v4";
import { signInStore } from "../../../node/src/services/sign-in-store";
import { authenticate, requireCsrf } from "./authenticate";
import { clock, type AuthDeps } from "./deps";
import { HttpError, validate } from "../http-error";
import { randomId, randomSecret, sha256Hex, TOKEN_PREFIX } from "./secrets";
import { ROLES, type GatewayLocals, type Principal } from "./types";

const SCOPE = /^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/;
const DAY_MS = 86_400_000;

function tokenBody(deps: AuthDeps) {
  const scope = deps.scopes
    ? z.string().refine((value) => deps.scopes!.includes(value), "not a known scope")
    : z.string().max(64).regex(SCOPE, "a scope like periods:read");
  return z
    .object({
      name: z.string().trim().min(1).max(100),
      scopes: z
        .array(scope)
        .min(1)
        .max(32)
        .refine((list) => new Set(list).size === list.length, "scopes repeat"),
      roles: z
        .array(z.enum(ROLES))
        .min(1)
        .refine((list) => new Set(list).size === list.length, "roles repeat"),
      expiresInDays: z.number().int().min(1).max(366).default(90),
    })
    .strict();
}

/** Adds `POST /tokens`, `GET /tokens` and `DELETE /tokens/:id` to the auth router. */
export function tokenRoutes(router: Router, deps: AuthDeps, json: RequestHandler): void {
  const Body = tokenBody(deps);
  const guard = [authenticate(deps), requireCsrf()];

  router.post("/tokens", ...guard, json, async (req, res) => {
    const admin = requireAdminSession(res);
    const body = validate(Body, req.body ?? {}, "body");
    const allowed = new Set([...admin.roles, "operator"]);
    const excess = body.roles.filter((role) => !allowed.has(role));
    if (excess.length > 0) {
      throw new HttpError(
        403,
        "FORBIDDEN",
        `a token cannot hold roles its issuer lacks: ${excess.join(", ")}`,
      );
    }
    const now = clock(deps);
    const secret = TOKEN_PREFIX + randomSecret();
    const token = {
      id: randomId("t_"),
      name: body.name,
      scopes: body.scopes,
      roles: ROLES.filter((role) => body.roles.includes(role)),
      issuedBy: admin.address,
      createdAt: now,
      expiresAt: new Date(now.getTime() + body.expiresInDays * DAY_MS),
    };
    await signInStore(deps.db).insertToken({ ...token, secretSha256: sha256Hex(secret) });
    deps.logger.info("API token issued", { token: token.id, name: token.name, by: admin.address });
    res
      .status(201)
      .set("Cache-Control", "no-store")
      .json({
        ...token,
        createdAt: token.createdAt.toISOString(),
        expiresAt: token.expiresAt.toISOString(),
        secret,
      });
  });

  router.get("/tokens", ...guard, async (_req, res) => {
    requireAdminSession(res);
    res.set("Cache-Control", "no-store").json({ tokens: await signInStore(deps.db).listTokens() });
  });

  router.delete("/tokens/:id", ...guard, async (req, res) => {
    const admin = requireAdminSession(res);
    const id = String(req.params.id);
    if (!(await signInStore(deps.db).revokeToken(id, clock(deps)))) {
      throw new HttpError(404, "NOT_FOUND", "no such live token");
    }
    deps.logger.info("API token revoked", { token: id, by: admin.address });
    res.status(204).end();
  });
}

function requireAdminSession(res: Response): Principal {
  const principal = (res.locals as GatewayLocals).principal;
  if (!principal) throw new HttpError(401, "UNAUTHENTICATED", "not signed in");
  if (principal.kind !== "session" || !principal.roles.includes("admin")) {
    throw new HttpError(403, "FORBIDDEN", "only an admin signed in with their key manages API tokens");
  }
  return principal;
}
