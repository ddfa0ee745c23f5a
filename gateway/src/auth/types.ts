/**
 * Who is asking: the gateway's principals and roles. Authentication (sign-in by signed challenge,
 * sessions, API tokens) produces a Principal; authorization compares it with each route's entry in
 * the route table. Anonymous requests have no principal.
 */

/** What people and machines may do (issue 6): see docs in README "Gateway". */
export const ROLES = ["operator", "officer", "arbiter", "regulator", "admin"] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** A person signed in with their Ethereum key (cookie session), or a machine with an API token. */
  kind: "session" | "token";
  /** The signed-in address (checksummed); for a token, the address of the person who issued it. */
  address: string;
  roles: readonly Role[];
  /** API tokens only: what the token may do, e.g. `periods:read`, `ingest:write`. */
  scopes: readonly string[] | null;
  /** Sessions only: the CSRF token state-changing requests must echo in `x-csrf-token`. */
  csrfToken: string | null;
  /** Session or token id (for logs and sign-out); never the secret. */
  id: string;
}

/** Express `res.locals` as the gateway uses it. */
export interface GatewayLocals {
  principal?: Principal;
}
