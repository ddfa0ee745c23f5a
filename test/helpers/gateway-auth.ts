/**
 * An express app with the auth routes and middleware on 127.0.0.1, a fake role resolver, a clock the
 * test moves, and a person's sign-in done the way a browser and wallet do it.
 */
import express from "express";
import type { HDNodeWallet } from "ethers";
import type { Database } from "../../node/src/db/database";
import { silentLogger } from "../../node/src/logger";
import { errorHandler } from "../../gateway/src/http-error";
import { listen, type RunningGateway } from "../../gateway/src/gateway";
import { authenticate, requireCsrf } from "../../gateway/src/auth/authenticate";
import type { AuthDeps } from "../../gateway/src/auth/deps";
import type { RoleResolver } from "../../gateway/src/auth/roles";
import { AUTH_PREFIX, authRouter } from "../../gateway/src/auth/router";
import { ROLES, type GatewayLocals, type Role } from "../../gateway/src/auth/types";

export const CHAIN_ID = 31337n;

/** Roles the test hands out and takes back; `failing` makes it throw like an unreachable chain. */
export class FakeRoles implements RoleResolver {
  readonly held = new Map<string, Role[]>();
  failing: Error | null = null;
  calls = 0;
  set(address: string, roles: Role[]): void {
    this.held.set(address.toLowerCase(), roles);
  }
  async rolesOf(address: string): Promise<Role[]> {
    this.calls += 1;
    if (this.failing) throw this.failing;
    const roles = this.held.get(address.toLowerCase()) ?? [];
    return ROLES.filter((role) => roles.includes(role));
  }
}

export interface TestGateway {
  url: string;
  deps: AuthDeps;
  roles: FakeRoles;
  /** Moves the gateway's clock. */
  advance(ms: number): void;
  /** How often the state-changing probe route actually ran. */
  probeRuns: number;
  close(): Promise<void>;
}

/**
 * Serves AUTH_PREFIX, then `authenticate` for everything, `GET /api/v1/whoami` (the principal or 401)
 * and `POST /api/v1/probe` behind `requireCsrf()`.
 */
export async function startTestGateway(
  db: Database,
  overrides: Partial<AuthDeps> = {},
): Promise<TestGateway> {
  let offset = 0;
  const roles = new FakeRoles();
  const deps: AuthDeps = {
    db,
    roles,
    logger: silentLogger,
    carrier: "Acme Telecom",
    chainId: CHAIN_ID,
    sessionHours: 8,
    cookieSecure: true,
    now: () => new Date(Date.now() + offset),
    ...overrides,
  };
  const app = express();
  app.use(AUTH_PREFIX, authRouter(deps));
  app.use(authenticate(deps));
  app.get("/api/v1/whoami", (_req, res) => {
    const principal = (res.locals as GatewayLocals).principal;
    if (principal) res.json(principal);
    else res.status(401).json({ error: { code: "UNAUTHENTICATED", message: "not signed in" } });
  });
  const gateway: TestGateway = {
    url: "",
    deps,
    roles,
    advance: (ms) => {
      offset += ms;
    },
    probeRuns: 0,
    close: async () => undefined,
  };
  app.post("/api/v1/probe", requireCsrf(), (_req, res) => {
    gateway.probeRuns += 1;
    res.json({ ran: true });
  });
  app.use(errorHandler(silentLogger));
  const running: RunningGateway = await listen(app, "127.0.0.1", 0);
  gateway.url = running.url;
  gateway.close = () => running.close();
  return gateway;
}

export interface Call {
  status: number;
  headers: Headers;
  body: unknown;
}

/** One JSON request with fetch, to any gateway (a test's, or a running node's). */
export async function call(
  gateway: Pick<TestGateway, "url">,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Call> {
  const response = await fetch(gateway.url + path, {
    method,
    headers: {
      ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body };
}

export interface Challenge {
  message: string;
  nonce: string;
  expiresAt: string;
}

export async function challenge(gateway: Pick<TestGateway, "url">, address: string): Promise<Challenge> {
  const answer = await call(gateway, "POST", `${AUTH_PREFIX}/challenge`, { body: { address } });
  if (answer.status !== 200)
    throw new Error(`challenge answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body as Challenge;
}

export interface SignedIn {
  /** `icl_session=…` as a request's Cookie header. */
  cookie: string;
  setCookie: string;
  csrfToken: string;
  body: { address: string; roles: Role[]; csrfToken: string; expiresAt: string };
}

/** Challenge, sign with `wallet`, sign in; throws unless it succeeds. */
export async function signIn(
  gateway: Pick<TestGateway, "url">,
  wallet: Pick<HDNodeWallet, "address" | "signMessage">,
): Promise<SignedIn> {
  const { message } = await challenge(gateway, wallet.address);
  const signature = await wallet.signMessage(message);
  const answer = await call(gateway, "POST", `${AUTH_PREFIX}/sign-in`, { body: { message, signature } });
  if (answer.status !== 200)
    throw new Error(`sign-in answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  const setCookie = answer.headers.get("set-cookie") ?? "";
  const body = answer.body as SignedIn["body"];
  return { cookie: setCookie.split(";")[0]!, setCookie, csrfToken: body.csrfToken, body };
}

/** Rows in a table (the "nothing stored" checks). */
export async function countRows(db: Database, table: string, where = "TRUE"): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`);
  return rows[0]!.n;
}
