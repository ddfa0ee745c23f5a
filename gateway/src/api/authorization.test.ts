/**
 * The authorization matrix: every route of the table × anonymous, each role (as a session), a token
 * with the role but without the route's scope, and a token with both. What is allowed is written down
 * here, separately from the table: a route added without an expectation fails, and so does an
 * expectation left behind by a removed route. "Allowed" means the answer is neither 401 nor 403 (the
 * route may still answer 400, 404 or 503: this suite has no chain and made-up parameters).
 */
import { expect } from "chai";
import { openDatabase } from "../../../node/src/db/open";
import type { Database } from "../../../node/src/db/database";
import { ROLES, type Role } from "../auth/types";
import type { RunningGateway } from "../gateway";
import { ROUTES } from "./route-table";
import { headersFor, startGateway, testNode, type TestPrincipal } from "../../../test/helpers/gateway-api";

type Expected = "public" | readonly Role[];

/** Who may call what. Written by hand from the access rules in route-table.ts's header comment. */
const EXPECTED: Record<string, Expected> = {
  "GET /api/v1/partners": ["operator", "officer", "admin"],
  "GET /api/v1/agreements": ["operator", "officer", "regulator", "admin"],
  "GET /api/v1/tariffs": ["operator", "officer", "admin"],
  "GET /api/v1/cdrs/stats": ["operator", "officer", "admin"],
  "GET /api/v1/rejects": ["operator", "officer", "admin"],
  "GET /api/v1/periods": ["officer", "regulator", "arbiter", "admin"],
  "GET /api/v1/periods/:agreement/:period": ["officer", "regulator", "arbiter", "admin"],
  "GET /api/v1/periods/:agreement/:period/report": ["officer", "admin"],
  "GET /api/v1/alerts": ["operator", "officer", "admin"],
  "GET /api/v1/periods/:agreement/:period/approval": ["officer"],
  "POST /api/v1/periods/:agreement/:period/approvals": ["officer"],
  // ─── the co-signed fast path (routes-fast-path.ts)
  "GET /api/v1/periods/:agreement/:period/fast-path/settlement": ["officer"],
  "POST /api/v1/periods/:agreement/:period/fast-path/signatures": ["officer"],
  "GET /readyz": "public",
  "GET /metrics": ["operator", "admin"],
  "GET /openapi.json": "public",
  "GET /docs": "public",
  "GET /docs/docs.js": "public",
  "GET /docs/docs.css": "public",
  // ─── disputes, settlement, audit (routes-ledger.ts)
  "GET /api/v1/periods/:agreement/:period/timeline": ["officer", "regulator", "arbiter", "admin"],
  "GET /api/v1/periods/:agreement/:period/evidence/:cid": ["officer"],
  "GET /api/v1/periods/:agreement/:period/evidence/:cid/arbiter-copy": ["arbiter"],
  "GET /api/v1/periods/:agreement/:period/rationale/:cid": ["officer", "regulator", "arbiter", "admin"],
  "GET /api/v1/settlement/plan": ["officer", "admin"],
  "GET /api/v1/escrow": ["officer", "admin"],
  "GET /api/v1/audit/verify": ["regulator", "officer", "admin"],
  "GET /api/v1/audit/report": ["regulator", "admin"],
  "GET /api/v1/audit/report.csv": ["regulator", "admin"],
  "GET /api/v1/audit/report.html": ["regulator", "admin"],
  // ─── settling one period (routes-settle.ts)
  "GET /api/v1/periods/:agreement/:period/settlement": ["officer"],
  "POST /api/v1/periods/:agreement/:period/settle": ["officer"],
  // ─── uploads (routes-uploads.ts)
  "POST /api/v1/tariffs/check": ["operator", "officer", "admin"],
  "POST /api/v1/tariffs/import": ["operator", "admin"],
  "POST /api/v1/ingest": ["operator", "officer", "admin"],
  "GET /api/v1/ingest/:jobId": ["operator", "officer", "admin"],
  "GET /api/v1/files/:fileId/rejects": ["operator", "officer", "admin"],
  // ─── drill-down and dispute steps (routes-disputes.ts)
  "GET /api/v1/periods/:agreement/:period/calls": ["officer", "admin"],
  "POST /api/v1/periods/:agreement/:period/evidence": ["officer"],
  "POST /api/v1/periods/:agreement/:period/disputes/plan": ["officer", "arbiter"],
  "POST /api/v1/chain/transactions": ["officer", "arbiter"],
  // ─── the console's dashboard and ingest page (routes-activity.ts)
  "GET /api/v1/files": ["operator", "officer", "admin"],
  "GET /api/v1/formats": ["operator", "officer", "admin"],
  "GET /api/v1/traffic/daily": ["operator", "officer", "admin"],
  "GET /api/v1/traffic/closed-month": ["operator", "officer", "admin"],
};

const key = (route: { method: string; path: string }) => `${route.method.toUpperCase()} ${route.path}`;

/** The route's path with made-up but well-formed parameters. */
function urlOf(path: string): string {
  return path.replace(":agreement", "ACME-GLOBEX").replace(":period", "2026-10");
}

async function call(
  gateway: RunningGateway,
  route: (typeof ROUTES)[number],
  who: TestPrincipal | null,
): Promise<number> {
  const response = await fetch(gateway.url + urlOf(route.path), {
    method: route.method.toUpperCase(),
    headers: {
      ...headersFor(who),
      ...(route.method === "post" ? { "content-type": "application/json" } : {}),
    },
    body: route.method === "post" ? "{}" : undefined,
  });
  await response.arrayBuffer();
  return response.status;
}

describe("API authorization matrix", function () {
  let db: Database;
  let gateway: RunningGateway;

  before(async () => {
    db = await openDatabase({ dataDir: null });
    gateway = await startGateway({ node: testNode(db) });
  });
  after(async () => {
    await gateway.close();
    await db.close();
  });

  it("has an expectation for every route of the table, and a route for every expectation", () => {
    const routes = ROUTES.map(key);
    expect(
      routes.filter((r) => !(r in EXPECTED)),
      "routes without an expectation",
    ).to.deep.equal([]);
    expect(
      Object.keys(EXPECTED).filter((e) => !routes.includes(e)),
      "expectations without a route",
    ).to.deep.equal([]);
    expect(new Set(routes).size, "each method and path once").to.equal(routes.length);
  });

  for (const route of ROUTES) {
    const name = key(route);
    it(`${name}: anonymous, each role, and tokens with and without the scope`, async () => {
      const expected = EXPECTED[name]!;
      expect(EXPECTED[name], `no expectation for ${name}`).to.not.equal(undefined);
      const failures: string[] = [];
      const check = (label: string, status: number, allowed: boolean, deniedStatus: number) => {
        const ok = allowed ? status !== 401 && status !== 403 : status === deniedStatus;
        if (!ok) failures.push(`${label}: ${status}, expected ${allowed ? "allowed" : deniedStatus}`);
      };
      check("anonymous", await call(gateway, route, null), expected === "public", 401);
      for (const role of ROLES) {
        const allowed = expected === "public" || expected.includes(role);
        check(
          `session ${role}`,
          await call(gateway, route, { kind: "session", roles: [role] }),
          allowed,
          403,
        );
        if (expected === "public" || !allowed) continue;
        // A token of an allowed role: only with the route's scope.
        const other = ["nothing:read"];
        check(
          `token ${role} without ${route.scope}`,
          await call(gateway, route, { kind: "token", roles: [role], scopes: other }),
          false,
          403,
        );
        check(
          `token ${role} with ${route.scope}`,
          await call(gateway, route, { kind: "token", roles: [role], scopes: [route.scope!] }),
          true,
          403,
        );
      }
      expect(failures, name).to.deep.equal([]);
    });
  }

  it("answers 401 on every non-public route when no authenticator is configured", async () => {
    const bare = await startGateway({ node: testNode(db), authenticate: null });
    try {
      for (const route of ROUTES) {
        const status = await call(bare, route, { kind: "session", roles: [...ROLES] });
        expect(status, key(route)).to.equal(route.allow === "public" ? 200 : 401);
      }
    } finally {
      await bare.close();
    }
  });

  it("refuses a session's POST without the CSRF token, before reading its body", async () => {
    const response = await fetch(`${gateway.url}/api/v1/periods/ACME-GLOBEX/2026-10/approvals`, {
      method: "POST",
      headers: { "x-test-roles": "officer", "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).to.equal(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).to.equal("CSRF");
  });

  it("gives no role of a principal with an unknown role", async () => {
    const response = await fetch(`${gateway.url}/api/v1/partners`, { headers: { "x-test-roles": "root" } });
    expect(response.status).to.equal(403);
  });
});
