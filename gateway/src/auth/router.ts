/**
 * The `/api/v1/auth` routes: sign-in by an EIP-4361 challenge the person signs with their Ethereum
 * key, the session it opens (an `icl_session` cookie and a CSRF token), sign-out, and the admins' API
 * tokens (tokens.ts). Every refusal is `{error: {code, message}}` and stores nothing.
 */
import crypto from "node:crypto";
import express, { type Request, type Router } from "express";
import { getAddress, verifyMessage } from "ethers";
import { z } from "zod/v4";
import { signInStore } from "../../../node/src/services/sign-in-store";
import { authenticate, requireCsrf } from "./authenticate";
import { CHALLENGE_TTL_MS, clock, type AuthDeps } from "./deps";
import { HttpError, errorHandler, validate } from "../http-error";
import { rateLimit } from "./rate-limit";
import { buildSiweMessage, parseSiweMessage } from "./siwe";
import { randomId, randomSecret, sessionCookie, sha256Hex } from "./secrets";
import { tokenRoutes } from "./tokens";
import type { GatewayLocals } from "./types";

/** Where {@link authRouter} is mounted. */
export const AUTH_PREFIX = "/api/v1/auth";

const ADDRESS = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "an Ethereum address, 0x and 40 hex digits");
const ChallengeBody = z.object({ address: ADDRESS }).strict();
const SignInBody = z
  .object({
    message: z.string().min(1).max(2_000),
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "a 65-byte signature, 0x and 130 hex digits"),
  })
  .strict();

/** Unused challenges are deleted this long after they expired. */
const PURGE_AFTER_MS = 60 * 60_000;

/**
 * The auth routes, to mount at {@link AUTH_PREFIX}:
 * - `POST /challenge {address}` → `{message, nonce, expiresAt}` (rate-limited per IP)
 * - `POST /sign-in {message, signature}` → `{address, roles, csrfToken, expiresAt}` and the cookie
 *   (rate-limited per IP; 401 for a challenge that is unknown, used, expired or altered or a signature
 *   by another key, 403 for an address with no role, 503 when roles cannot be resolved)
 * - `GET /session` → the principal (401 when anonymous)
 * - `POST /sign-out` (CSRF) → 204, the session revoked and the cookie cleared
 * - `POST|GET /tokens`, `DELETE /tokens/:id` (admins' sessions, CSRF)
 */
export function authRouter(deps: AuthDeps): Router {
  const router = express.Router();
  const json = express.json({ limit: "16kb" });
  const limit = deps.signInLimit ?? { windowMs: 60_000, max: 10 };
  const sessionSeconds = Math.round(deps.sessionHours * 3600);

  router.post("/challenge", rateLimit({ ...limit, key: "auth-challenge" }), json, async (req, res) => {
    assertCookieAllowed(deps, req);
    const body = validate(ChallengeBody, req.body ?? {}, "body");
    const site = siteOf(deps, req);
    let address: string;
    try {
      address = getAddress(body.address);
    } catch {
      throw new HttpError(400, "INVALID_INPUT", "address: the EIP-55 checksum is wrong");
    }
    const issuedAt = clock(deps);
    const expiresAt = new Date(issuedAt.getTime() + CHALLENGE_TTL_MS);
    const nonce = crypto.randomBytes(16).toString("hex");
    const message = buildSiweMessage({
      domain: site.domain,
      address,
      statement: `Sign in to the Interconnect Ledger node of ${deps.carrier}`,
      uri: site.uri,
      chainId: deps.chainId,
      nonce,
      issuedAt,
      expirationTime: expiresAt,
    });
    await signInStore(deps.db).purgeExpiredChallenges(new Date(issuedAt.getTime() - PURGE_AFTER_MS));
    await signInStore(deps.db).insertChallenge({
      nonce,
      address,
      domain: site.domain,
      uri: site.uri,
      chainId: deps.chainId,
      message,
      issuedAt,
      expiresAt,
    });
    res.set("Cache-Control", "no-store").json({ message, nonce, expiresAt: expiresAt.toISOString() });
  });

  router.post("/sign-in", rateLimit({ ...limit, key: "auth-sign-in" }), json, async (req, res) => {
    assertCookieAllowed(deps, req);
    const body = validate(SignInBody, req.body ?? {}, "body");
    const site = siteOf(deps, req);
    const now = clock(deps);
    const refused = new HttpError(
      401,
      "CHALLENGE_INVALID",
      "the sign-in challenge is unknown, used, expired or altered",
    );
    const fields = parseSiweMessage(body.message);
    if (!fields) throw refused;
    // The text must be byte for byte a challenge we issued, for this host and chain, still open.
    const challenge = await signInStore(deps.db).findChallenge(fields.nonce);
    if (
      !challenge ||
      challenge.usedAt !== null ||
      challenge.expiresAt.getTime() <= now.getTime() ||
      challenge.message !== body.message ||
      challenge.domain !== site.domain ||
      challenge.chainId !== deps.chainId
    ) {
      throw refused;
    }
    let signer: string;
    try {
      signer = verifyMessage(body.message, body.signature);
    } catch {
      signer = "";
    }
    if (signer !== challenge.address) {
      throw new HttpError(401, "SIGNATURE_INVALID", "the signature is not by the challenge's address");
    }
    const roles = await deps.roles.rolesOf(challenge.address);
    if (roles.length === 0) {
      throw new HttpError(403, "NO_ROLE", "this address holds no role on this node");
    }
    const secret = randomSecret();
    const csrfToken = randomSecret();
    const id = randomId("s_");
    const expiresAt = new Date(now.getTime() + sessionSeconds * 1000);
    const opened = await signInStore(deps.db).consumeChallengeAndOpenSession(challenge.nonce, now, {
      id,
      secretSha256: sha256Hex(secret),
      address: challenge.address,
      roles,
      csrfToken,
      createdAt: now,
      expiresAt,
    });
    if (!opened) throw refused;
    deps.logger.info("signed in", { session: id, address: challenge.address, roles });
    res
      .set("Set-Cookie", sessionCookie(secret, sessionSeconds, deps.cookieSecure))
      .set("Cache-Control", "no-store")
      .json({ address: challenge.address, roles, csrfToken, expiresAt: expiresAt.toISOString() });
  });

  router.get("/session", authenticate(deps), (_req, res) => {
    const principal = (res.locals as GatewayLocals).principal;
    if (!principal) throw new HttpError(401, "UNAUTHENTICATED", "not signed in");
    res.set("Cache-Control", "no-store").json(principal);
  });

  router.post("/sign-out", authenticate(deps), requireCsrf(), async (_req, res) => {
    const principal = (res.locals as GatewayLocals).principal;
    if (principal?.kind === "token") {
      throw new HttpError(400, "NOT_A_SESSION", "API tokens are revoked by an admin, not signed out");
    }
    if (principal) {
      await signInStore(deps.db).revokeSession(principal.id, clock(deps));
      deps.logger.info("signed out", { session: principal.id, address: principal.address });
    }
    res
      .set("Set-Cookie", sessionCookie("", 0, deps.cookieSecure))
      .status(204)
      .end();
  });

  tokenRoutes(router, deps, json);
  router.use(errorHandler(deps.logger));
  return router;
}

/** The domain (Host as express reads it) and URI the sign-in message names. */
function siteOf(deps: AuthDeps, req: Request): { domain: string; uri: string } {
  const domain = req.host;
  if (!domain || (deps.hosts && !deps.hosts.includes(domain))) {
    throw new HttpError(400, "BAD_HOST", "this host does not serve sign-in");
  }
  return { domain, uri: `${req.protocol}://${domain}/` };
}

/** Without `Secure` the cookie may only travel over loopback (plain-http tests). */
function assertCookieAllowed(deps: AuthDeps, req: Request): void {
  if (deps.cookieSecure) return;
  const local = req.socket.localAddress ?? "";
  if (local === "::1" || /^(::ffff:)?127\./.test(local)) return;
  throw new HttpError(403, "INSECURE_COOKIE", "sign-in over this interface needs gateway.cookieSecure");
}
