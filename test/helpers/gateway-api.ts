/**
 * Test parts for the API suites (not built into dist/): a fake authenticator that turns test headers
 * into a Principal (authentication proper is gateway/src/auth's), a node on a fresh database, and a
 * running gateway on a free port of 127.0.0.1.
 */
import type { RequestHandler } from "express";
import http from "node:http";
import type { ChainClient } from "../../node/src/chain/client";
import { parseConfig } from "../../node/src/config/config";
import type { Database } from "../../node/src/db/database";
import { createLocalEvidenceStore } from "../../node/src/evidence/local-store";
import { silentLogger, type Logger } from "../../node/src/logger";
import { createNode, type CarrierNode } from "../../node/src/node";
import { tempDir } from "./databases";
import { ROLES, type Principal, type Role } from "../../gateway/src/auth/types";
import { createGateway, listen, type GatewayParts, type RunningGateway } from "../../gateway/src/gateway";

export const TEST_CSRF = "test-csrf-token";
export const TEST_ADDRESS = "0x0000000000000000000000000000000000000001";

/** Who a test request is: none (anonymous), or a session or token with roles (and scopes). */
export interface TestPrincipal {
  kind: "session" | "token";
  roles: readonly Role[];
  scopes?: readonly string[];
  address?: string;
}

/**
 * Reads `x-test-roles` (comma-separated), `x-test-kind`, `x-test-scopes` and `x-test-address` into
 * `res.locals.principal`; a request without `x-test-roles` stays anonymous. Unknown roles are dropped.
 */
export const fakeAuthenticate: RequestHandler = (req, res, next) => {
  const roles = req.get("x-test-roles");
  if (roles === undefined) return next();
  const kind = req.get("x-test-kind") === "token" ? "token" : "session";
  const principal: Principal = {
    kind,
    address: req.get("x-test-address") ?? TEST_ADDRESS,
    roles: roles
      .split(",")
      .map((r) => r.trim())
      .filter((r): r is Role => (ROLES as readonly string[]).includes(r)),
    scopes:
      kind === "token"
        ? (req.get("x-test-scopes") ?? "")
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean)
        : null,
    csrfToken: kind === "session" ? TEST_CSRF : null,
    id: "test",
  };
  res.locals.principal = principal;
  next();
};

/** The headers that make the fake authenticator produce `who` (with the CSRF token for sessions). */
export function headersFor(who: TestPrincipal | null): Record<string, string> {
  if (who === null) return {};
  const headers: Record<string, string> = { "x-test-roles": who.roles.join(","), "x-test-kind": who.kind };
  if (who.kind === "token") headers["x-test-scopes"] = (who.scopes ?? []).join(",");
  else headers["x-csrf-token"] = TEST_CSRF;
  if (who.address) headers["x-test-address"] = who.address;
  return headers;
}

/** A node with default config on `db` and a local evidence store in a temp dir. */
export function testNode(db: Database, logger: Logger = silentLogger): CarrierNode {
  const dataDir = tempDir("icl-gateway-");
  return createNode({
    config: { dataDir, config: parseConfig({}, "config.json"), databaseUrl: undefined },
    db,
    evidence: createLocalEvidenceStore(dataDir, logger),
    logger,
  });
}

/** Starts a gateway with the fake authenticator (unless `authenticate: null` is passed). */
export async function startGateway(
  parts: Partial<GatewayParts> & { node?: CarrierNode | null; chain?: ChainClient | null },
): Promise<RunningGateway> {
  const app = createGateway({
    logger: silentLogger,
    ...parts,
    authenticate: parts.authenticate === undefined ? fakeAuthenticate : parts.authenticate,
  });
  return listen(app, "127.0.0.1", 0);
}

/**
 * A GET with the path sent byte for byte (fetch would resolve `..` segments before sending), for
 * path traversal tests.
 */
export function rawGet(
  baseUrl: string,
  rawPath: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: url.hostname, port: url.port, method: "GET", path: rawPath, headers },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, body, headers: response.headers }),
        );
      },
    );
    request.on("error", reject);
    request.end();
  });
}
