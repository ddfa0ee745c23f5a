/**
 * Who is asking: `authenticate` turns a session cookie or a bearer token into the request's
 * Principal, and `requireCsrf` holds a session's state-changing requests to the session's CSRF token.
 * Credentials that are malformed, unknown, expired or revoked make the request anonymous; refusing it
 * is the route's authorization's business.
 */
import type { Request, RequestHandler } from "express";
import { signInStore, type StoredSession } from "../../../node/src/services/sign-in-store";
import { BaseError } from "../../../node/src/errors";
import { clock, DEFAULT_ROLE_RECHECK_MS, TOUCH_EVERY_MS, type AuthDeps } from "./deps";
import { HttpError } from "../http-error";
import {
  bearerSecret,
  constantTimeEqual,
  CSRF_HEADER,
  isSecretShaped,
  readCookie,
  sha256Hex,
  SESSION_COOKIE,
} from "./secrets";
import { ROLES, type GatewayLocals, type Principal, type Role } from "./types";

const AUTHENTICATED = Symbol("icl.authenticated");
const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Middleware setting `res.locals.principal` from `Authorization: Bearer icl_…` (when that header is
 * present the cookie is not looked at) or else the `icl_session` cookie. Runs once per request
 * however often it is mounted. Never fails the request for bad credentials; answers 503 only when
 * the database is unavailable while credentials were presented.
 */
export function authenticate(deps: AuthDeps): RequestHandler {
  return async (req, res, next) => {
    const marked = req as Request & { [AUTHENTICATED]?: true };
    if (marked[AUTHENTICATED]) {
      next();
      return;
    }
    marked[AUTHENTICATED] = true;
    try {
      const principal = await principalOf(deps, req);
      if (principal) (res.locals as GatewayLocals).principal = principal;
    } catch (error) {
      if (error instanceof BaseError && error.retryable) {
        deps.logger.warn("authentication unavailable", { code: error.code, error: error.shortMessage });
        next(new HttpError(503, "UNAVAILABLE", "authentication is unavailable; try again"));
        return;
      }
      deps.logger.error("authentication failed; request treated as anonymous", { error: String(error) });
    }
    next();
  };
}

/**
 * Middleware for routes a session may change state through: a session principal's POST, PUT, PATCH or
 * DELETE must carry the session's token in `x-csrf-token`, else 403 `{error:{code:"CSRF"}}` and the
 * route does not run. Token principals (no cookie, nothing a browser adds by itself), anonymous
 * requests and safe methods pass.
 */
export function requireCsrf(): RequestHandler {
  return (req, res, next) => {
    const principal = (res.locals as GatewayLocals).principal;
    if (!STATE_CHANGING.has(req.method) || principal?.kind !== "session") {
      next();
      return;
    }
    const sent = req.get(CSRF_HEADER);
    if (!sent || !principal.csrfToken || !constantTimeEqual(sent, principal.csrfToken)) {
      next(new HttpError(403, "CSRF", `missing or wrong ${CSRF_HEADER} header`));
      return;
    }
    next();
  };
}

async function principalOf(deps: AuthDeps, req: Request): Promise<Principal | null> {
  const authorization = req.get("authorization");
  if (authorization !== undefined) return tokenPrincipal(deps, bearerSecret(authorization));
  const cookie = readCookie(req.get("cookie"), SESSION_COOKIE);
  if (cookie === null || !isSecretShaped(cookie)) return null;
  return sessionPrincipal(deps, cookie);
}

async function tokenPrincipal(deps: AuthDeps, secret: string | null): Promise<Principal | null> {
  if (secret === null) return null;
  const now = clock(deps);
  const digest = sha256Hex(secret);
  const token = await signInStore(deps.db).findLiveToken(digest, now);
  // The look-up is by digest; the compare below keeps the final decision free of early exits.
  if (!token || !constantTimeEqual(token.secretSha256, digest)) return null;
  if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() >= TOUCH_EVERY_MS) {
    await signInStore(deps.db).touchToken(token.id, now);
  }
  return {
    kind: "token",
    id: token.id,
    address: token.issuedBy,
    roles: knownRoles(token.roles),
    scopes: token.scopes,
    csrfToken: null,
  };
}

async function sessionPrincipal(deps: AuthDeps, cookie: string): Promise<Principal | null> {
  const now = clock(deps);
  const digest = sha256Hex(cookie);
  const session = await signInStore(deps.db).findLiveSession(digest, now);
  if (!session || !constantTimeEqual(session.secretSha256, digest)) return null;
  const roles = await currentRoles(deps, session, now);
  if (roles.length === 0) return null;
  if (now.getTime() - session.lastSeenAt.getTime() >= TOUCH_EVERY_MS)
    await signInStore(deps.db).touchSession(session.id, now);
  return {
    kind: "session",
    id: session.id,
    address: session.address,
    roles,
    scopes: null,
    csrfToken: session.csrfToken,
  };
}

/**
 * The session's roles, resolved again once the snapshot is older than `roleRecheckMs`: an officer
 * removed on chain loses the role within that time, and a person left with no role loses the session.
 * When the resolver cannot answer, the snapshot stands until it can.
 */
async function currentRoles(deps: AuthDeps, session: StoredSession, now: Date): Promise<Role[]> {
  const recheckMs = deps.roleRecheckMs ?? DEFAULT_ROLE_RECHECK_MS;
  if (now.getTime() - session.rolesCheckedAt.getTime() < recheckMs) return knownRoles(session.roles);
  let roles: Role[];
  try {
    roles = await deps.roles.rolesOf(session.address);
  } catch (error) {
    deps.logger.warn("could not re-check a session's roles; keeping the snapshot", {
      session: session.id,
      error: error instanceof BaseError ? error.shortMessage : String(error),
    });
    return knownRoles(session.roles);
  }
  if (roles.length === 0) {
    await signInStore(deps.db).revokeSession(session.id, now);
    deps.logger.info("session revoked: its holder has no role any more", {
      session: session.id,
      address: session.address,
    });
    return [];
  }
  await signInStore(deps.db).refreshSessionRoles(session.id, roles, now);
  return roles;
}

function knownRoles(roles: readonly string[]): Role[] {
  return ROLES.filter((role) => roles.includes(role));
}
