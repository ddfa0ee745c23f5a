/**
 * The gateway's secrets and how they travel: random values, their sha256 (all the database keeps),
 * the session cookie's exact attributes and the bearer token's shape.
 */
import crypto from "node:crypto";

/** Name of the session cookie. */
export const SESSION_COOKIE = "icl_session";
/** Header a session's state-changing request must carry its CSRF token in. */
export const CSRF_HEADER = "x-csrf-token";
/** Prefix of every API token secret: `icl_` and 32 random bytes in base64url. */
export const TOKEN_PREFIX = "icl_";

/** 32 random bytes in base64url (43 characters): session cookies, CSRF tokens, token secrets. */
export function randomSecret(): string {
  return crypto.randomBytes(32).toString("base64url");
}

/** A public identifier: `prefix` and 16 random bytes in hex (for logs and revocation, not a secret). */
export function randomId(prefix: string): string {
  return prefix + crypto.randomBytes(16).toString("hex");
}

/** Hex sha256 of a secret's UTF-8 text. */
export function sha256Hex(secret: string): string {
  return crypto.createHash("sha256").update(secret, "utf8").digest("hex");
}

/** Compares two strings in time independent of where they differ (length is not hidden). */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && crypto.timingSafeEqual(left, right);
}

const SECRET = /^[A-Za-z0-9_-]{43}$/;

/** Whether `value` has the shape of {@link randomSecret} (checked before any database look-up). */
export function isSecretShaped(value: string): boolean {
  return SECRET.test(value);
}

/** The token secret of an `Authorization: Bearer icl_…` header; null for any other value. */
export function bearerSecret(header: string | undefined): string | null {
  const match = /^Bearer (icl_[A-Za-z0-9_-]{43})$/.exec(header?.trim() ?? "");
  return match ? match[1]! : null;
}

/** The value of cookie `name` in a `Cookie` header, or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/**
 * The `Set-Cookie` value of the session cookie: `HttpOnly` (no script reads it), `SameSite=Strict`
 * (no cross-site request carries it), `Path=/`, `Max-Age` in seconds, and `Secure` unless switched off
 * for plain-http loopback tests. `maxAgeSeconds` 0 with an empty value deletes the cookie.
 */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    "HttpOnly",
    ...(secure ? ["Secure"] : []),
    "SameSite=Strict",
    "Path=/",
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
  ].join("; ");
}
