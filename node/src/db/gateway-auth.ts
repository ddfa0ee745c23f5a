/**
 * SQL of the gateway's authentication: sign-in challenges (EIP-4361 nonces, single use), cookie
 * sessions and API tokens. Only sha256 digests of session cookies and token secrets are stored; times
 * come from the caller's clock so that expiry is decided by one clock, the gateway's.
 */
import type { Database, Queryable } from "./database";
import { textArray } from "./pg-array";

export interface ChallengeInput {
  nonce: string;
  /** Checksummed address the challenge was issued to. */
  address: string;
  domain: string;
  uri: string;
  chainId: bigint;
  /** The exact EIP-4361 text the person is asked to sign. */
  message: string;
  issuedAt: Date;
  expiresAt: Date;
}

export interface StoredChallenge extends ChallengeInput {
  usedAt: Date | null;
}

export interface SessionInput {
  id: string;
  secretSha256: string;
  address: string;
  roles: readonly string[];
  csrfToken: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface StoredSession {
  id: string;
  secretSha256: string;
  nonce: string;
  address: string;
  roles: string[];
  rolesCheckedAt: Date;
  csrfToken: string;
  createdAt: Date;
  expiresAt: Date;
  lastSeenAt: Date;
  revokedAt: Date | null;
}

export interface TokenInput {
  id: string;
  secretSha256: string;
  name: string;
  scopes: readonly string[];
  roles: readonly string[];
  issuedBy: string;
  createdAt: Date;
  expiresAt: Date;
}

/** An API token as listed: never the secret nor its digest. */
export interface TokenInfo {
  id: string;
  name: string;
  scopes: string[];
  roles: string[];
  issuedBy: string;
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface StoredToken extends TokenInfo {
  secretSha256: string;
}

const time = (value: unknown): Date => (value instanceof Date ? value : new Date(String(value)));
const maybeTime = (value: unknown): Date | null =>
  value === null || value === undefined ? null : time(value);
const iso = (date: Date): string => date.toISOString();

/** Stores a challenge just issued. */
export async function insertChallenge(db: Queryable, challenge: ChallengeInput): Promise<void> {
  await db.query(
    `INSERT INTO gateway_nonces (nonce, address, domain, uri, chain_id, message, issued_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8::timestamptz)`,
    [
      challenge.nonce,
      challenge.address,
      challenge.domain,
      challenge.uri,
      challenge.chainId.toString(),
      challenge.message,
      iso(challenge.issuedAt),
      iso(challenge.expiresAt),
    ],
  );
}

/**
 * Deletes challenges that expired unused before `before`. Used ones stay: each belongs to a session
 * and keeps its nonce taken.
 */
export async function purgeExpiredChallenges(db: Queryable, before: Date): Promise<number> {
  const { rowCount } = await db.query(
    "DELETE FROM gateway_nonces WHERE used_at IS NULL AND expires_at < $1::timestamptz",
    [iso(before)],
  );
  return rowCount;
}

/** The challenge with `nonce`, used or not, or null. */
export async function findChallenge(db: Queryable, nonce: string): Promise<StoredChallenge | null> {
  const { rows } = await db.query<{
    nonce: string;
    address: string;
    domain: string;
    uri: string;
    chain_id: string;
    message: string;
    issued_at: unknown;
    expires_at: unknown;
    used_at: unknown;
  }>("SELECT * FROM gateway_nonces WHERE nonce = $1", [nonce]);
  const row = rows[0];
  if (!row) return null;
  return {
    nonce: row.nonce,
    address: row.address,
    domain: row.domain,
    uri: row.uri,
    chainId: BigInt(row.chain_id),
    message: row.message,
    issuedAt: time(row.issued_at),
    expiresAt: time(row.expires_at),
    usedAt: maybeTime(row.used_at),
  };
}

/**
 * In one transaction: marks the challenge `nonce` used, provided it still is unused and unexpired at
 * `now`, and opens the session. Returns false (and changes nothing) when the challenge was already
 * used or expired meanwhile, so two concurrent sign-ins with one signature open one session.
 */
export async function consumeChallengeAndOpenSession(
  db: Database,
  nonce: string,
  now: Date,
  session: SessionInput,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const { rowCount } = await tx.query(
      `UPDATE gateway_nonces SET used_at = $2::timestamptz
        WHERE nonce = $1 AND used_at IS NULL AND expires_at > $2::timestamptz`,
      [nonce, iso(now)],
    );
    if (rowCount !== 1) return false;
    await tx.query(
      `INSERT INTO gateway_sessions (id, secret_sha256, nonce, address, roles, roles_checked_at, csrf_token,
                                     created_at, expires_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $5::text[], $6::timestamptz, $7, $6::timestamptz, $8::timestamptz, $6::timestamptz)`,
      [
        session.id,
        session.secretSha256,
        nonce,
        session.address,
        textArray(session.roles),
        iso(session.createdAt),
        session.csrfToken,
        iso(session.expiresAt),
      ],
    );
    return true;
  });
}

type SessionRow = {
  id: string;
  secret_sha256: string;
  nonce: string;
  address: string;
  roles: string[];
  roles_checked_at: unknown;
  csrf_token: string;
  created_at: unknown;
  expires_at: unknown;
  last_seen_at: unknown;
  revoked_at: unknown;
};

function toSession(row: SessionRow): StoredSession {
  return {
    id: row.id,
    secretSha256: row.secret_sha256,
    nonce: row.nonce,
    address: row.address,
    roles: row.roles,
    rolesCheckedAt: time(row.roles_checked_at),
    csrfToken: row.csrf_token,
    createdAt: time(row.created_at),
    expiresAt: time(row.expires_at),
    lastSeenAt: time(row.last_seen_at),
    revokedAt: maybeTime(row.revoked_at),
  };
}

/** The live (unrevoked, unexpired at `now`) session whose cookie hashes to `secretSha256`, or null. */
export async function findLiveSession(
  db: Queryable,
  secretSha256: string,
  now: Date,
): Promise<StoredSession | null> {
  const { rows } = await db.query<SessionRow>(
    `SELECT * FROM gateway_sessions
      WHERE secret_sha256 = $1 AND revoked_at IS NULL AND expires_at > $2::timestamptz`,
    [secretSha256, iso(now)],
  );
  return rows[0] ? toSession(rows[0]) : null;
}

/** Records that the session was used at `now`. */
export async function touchSession(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query("UPDATE gateway_sessions SET last_seen_at = $2::timestamptz WHERE id = $1", [id, iso(now)]);
}

/** Replaces the session's roles with those just resolved at `now`. */
export async function refreshSessionRoles(
  db: Queryable,
  id: string,
  roles: readonly string[],
  now: Date,
): Promise<void> {
  await db.query(
    "UPDATE gateway_sessions SET roles = $2::text[], roles_checked_at = $3::timestamptz WHERE id = $1",
    [id, textArray(roles), iso(now)],
  );
}

/** Revokes a session; returns false when it was unknown or already revoked. */
export async function revokeSession(db: Queryable, id: string, now: Date): Promise<boolean> {
  const { rowCount } = await db.query(
    "UPDATE gateway_sessions SET revoked_at = $2::timestamptz WHERE id = $1 AND revoked_at IS NULL",
    [id, iso(now)],
  );
  return rowCount === 1;
}

/** Stores an API token just issued. */
export async function insertToken(db: Queryable, token: TokenInput): Promise<void> {
  await db.query(
    `INSERT INTO gateway_tokens (id, secret_sha256, name, scopes, roles, issued_by, created_at, expires_at)
     VALUES ($1, $2, $3, $4::text[], $5::text[], $6, $7::timestamptz, $8::timestamptz)`,
    [
      token.id,
      token.secretSha256,
      token.name,
      textArray(token.scopes),
      textArray(token.roles),
      token.issuedBy,
      iso(token.createdAt),
      iso(token.expiresAt),
    ],
  );
}

type TokenRow = {
  id: string;
  secret_sha256: string;
  name: string;
  scopes: string[];
  roles: string[];
  issued_by: string;
  created_at: unknown;
  expires_at: unknown;
  last_used_at: unknown;
  revoked_at: unknown;
};

function toToken(row: TokenRow): StoredToken {
  return {
    id: row.id,
    secretSha256: row.secret_sha256,
    name: row.name,
    scopes: row.scopes,
    roles: row.roles,
    issuedBy: row.issued_by,
    createdAt: time(row.created_at),
    expiresAt: time(row.expires_at),
    lastUsedAt: maybeTime(row.last_used_at),
    revokedAt: maybeTime(row.revoked_at),
  };
}

/** Every API token, newest first, without secrets (revoked and expired ones too). */
export async function listTokens(db: Queryable): Promise<TokenInfo[]> {
  const { rows } = await db.query<TokenRow>("SELECT * FROM gateway_tokens ORDER BY created_at DESC, id");
  return rows.map((row) => {
    const { secretSha256: _digest, ...info } = toToken(row);
    return info;
  });
}

/** The live (unrevoked, unexpired at `now`) token whose secret hashes to `secretSha256`, or null. */
export async function findLiveToken(
  db: Queryable,
  secretSha256: string,
  now: Date,
): Promise<StoredToken | null> {
  const { rows } = await db.query<TokenRow>(
    `SELECT * FROM gateway_tokens
      WHERE secret_sha256 = $1 AND revoked_at IS NULL AND expires_at > $2::timestamptz`,
    [secretSha256, iso(now)],
  );
  return rows[0] ? toToken(rows[0]) : null;
}

/** Records that the token was used at `now`. */
export async function touchToken(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query("UPDATE gateway_tokens SET last_used_at = $2::timestamptz WHERE id = $1", [id, iso(now)]);
}

/** Revokes a token; returns false when it was unknown or already revoked. */
export async function revokeToken(db: Queryable, id: string, now: Date): Promise<boolean> {
  const { rowCount } = await db.query(
    "UPDATE gateway_tokens SET revoked_at = $2::timestamptz WHERE id = $1 AND revoked_at IS NULL",
    [id, iso(now)],
  );
  return rowCount === 1;
}
