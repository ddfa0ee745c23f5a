/**
 * What the gateway's authentication is built from: the node's database, a role resolver, the facts
 * the sign-in message states, and the session settings (`gateway.*` of the node's config).
 */
import type { Logger } from "../../../node/src/logger";
import type { CarrierNode } from "../../../node/src/node";
import type { RoleResolver } from "./roles";

export interface AuthDeps {
  /** The node's database, read and written through node/src/services/sign-in-store.ts only. */
  db: CarrierNode["db"];
  roles: RoleResolver;
  logger: Logger;
  /** The carrier this node belongs to, as people know it: "Sign in to the Interconnect Ledger node of <carrier>". */
  carrier: string;
  /** Chain id of the ledger (`ChainClient.chainId`); stated in and checked against every challenge. */
  chainId: bigint;
  /** `gateway.sessionHours`: the session's lifetime and the cookie's Max-Age. */
  sessionHours: number;
  /**
   * `gateway.cookieSecure`. False drops `Secure` from the cookie and is accepted only for requests that
   * arrive on a loopback address (plain-http tests); sign-in elsewhere is then refused.
   */
  cookieSecure: boolean;
  /**
   * Hosts (`host[:port]` as the request's Host, after express's `trust proxy`) the sign-in message may
   * name as its domain; absent = whatever Host the request carries.
   */
  hosts?: readonly string[];
  /** Scopes an API token may carry (the route table's); absent = any `word:word` scope. */
  scopes?: readonly string[];
  /** How long a session's roles are trusted before they are resolved again (default 5 minutes). */
  roleRecheckMs?: number;
  /** Sign-in rate limit per client IP, for `challenge` and `sign-in` each (default 10 a minute). */
  signInLimit?: { windowMs: number; max: number };
  /** The clock (tests move it). */
  now?: () => Date;
}

/** The challenge's lifetime (EIP-4361 Expiration Time). */
export const CHALLENGE_TTL_MS = 5 * 60_000;
export const DEFAULT_ROLE_RECHECK_MS = 5 * 60_000;
/** `last_seen_at` / `last_used_at` are written at most this often per session or token. */
export const TOUCH_EVERY_MS = 60_000;

export function clock(deps: AuthDeps): Date {
  return deps.now ? deps.now() : new Date();
}
