/**
 * Hostile input: SQL-injection strings in every path parameter, query parameter and text field of a
 * body, and path traversal in parameters and file-like paths. Each must be refused cleanly (400, or
 * 404 where the text is a well-formed name that does not exist), never a 500, and nothing stored: the
 * node's tables hold the same rows before and after.
 */
import { expect } from "chai";
import { z } from "zod/v4";
import { addAgreement } from "../../../node/src/db/agreements";
import { recordAlert } from "../../../node/src/db/alerts";
import type { Database } from "../../../node/src/db/database";
import { addPartner } from "../../../node/src/db/partners";
import { databaseTargets, type DatabaseTarget } from "../../../test/helpers/databases";
import type { RunningGateway } from "../gateway";
import { ROUTES } from "./route-table";
import type { ApiRoute } from "./route";
import { headersFor, rawGet, startGateway, testNode } from "../../../test/helpers/gateway-api";

const INJECTIONS = [
  "' OR 1=1 --",
  "'; DROP TABLE partners; --",
  '" OR ""="',
  "1; DELETE FROM agreements",
  "ACME' UNION SELECT secret_hex FROM agreements --",
  "1) OR (1=1",
  "%27%20OR%201%3D1",
  "\\'; TRUNCATE alerts; --",
  "x\u0000y",
];
const TRAVERSALS = [
  "../../etc/passwd",
  "..%2F..%2Fetc%2Fpasswd",
  "....//....//etc/passwd",
  "..\\..\\windows\\win.ini",
];

const TABLES = [
  "partners",
  "match_rules",
  "agreements",
  "tariff_decks",
  "ingest_files",
  "rejects",
  "cdrs",
  "alerts",
  "officer_approvals",
  "summaries",
  "discrepancy_reports",
];

const AGREEMENT_ID = "0x" + "ab".repeat(32);
/** Well-formed values for every parameter, so each case changes one field only. */
const VALID: Record<string, string> = { agreement: "ACME-GLOBEX", period: "2026-10" };

/** Everyone allowed anywhere, with the CSRF token: what is tested is input, not authorization. */
const EVERYONE = headersFor({
  kind: "session",
  roles: ["operator", "officer", "regulator", "arbiter", "admin"],
});

async function counts(db: Database): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of TABLES) {
    const { rows } = await db.query<{ n: bigint }>(`SELECT count(*)::bigint AS n FROM ${table}`);
    out[table] = String(rows[0]!.n);
  }
  return out;
}

function keysOf(schema: z.ZodType | undefined): string[] {
  if (schema === undefined) return [];
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as {
    properties?: Record<string, unknown>;
  };
  return Object.keys(json.properties ?? {});
}

function pathOf(route: ApiRoute, params: Record<string, string>): string {
  return route.path.replace(/:([A-Za-z]+)/g, (_, name: string) => encodeURIComponent(params[name] ?? ""));
}

/** A well-formed approval body whose text fields are replaced one at a time. */
const APPROVAL = {
  approval: {
    agreementId: AGREEMENT_ID,
    period: 202610,
    carrierId: "0x" + "cd".repeat(32),
    round: 0,
    partialSettlement: false,
    amountAB: "100",
    amountBA: "50",
    rootA: "0x" + "11".repeat(32),
    rootB: "0x" + "22".repeat(32),
    deadline: "2000000000",
  },
  signature: "0x" + "33".repeat(65),
};

for (const target of databaseTargets()) {
  describe(`API hostile input on ${target.name}`, function () {
    let db: Database;
    let gateway: RunningGateway;
    let stored: Record<string, string>;
    const problems: string[] = [];

    const expectClean = (label: string, status: number, body: string) => {
      if (status !== 400 && status !== 404) problems.push(`${label}: status ${status}`);
      if (/SELECT|DROP|syntax|relation|stack|node_modules|\/etc\/passwd|root:/i.test(body)) {
        problems.push(`${label}: leaked ${body.slice(0, 120)}`);
      }
    };

    before(async () => {
      db = await (target as DatabaseTarget).open();
      await addPartner(db, { id: "GLOBEX", name: "Globex", matchRules: [] });
      await addAgreement(db, {
        agreementId: AGREEMENT_ID,
        name: "ACME-GLOBEX",
        partnerId: "GLOBEX",
        side: "A",
        secret: Buffer.alloc(32, 7),
      });
      await recordAlert(db, {
        agreementId: AGREEMENT_ID,
        period: 202610,
        round: 0,
        level: "warning",
        kind: "reveal-window",
        deadline: 2_000_000_000,
        message: "reveal closes soon",
      });
      gateway = await startGateway({ node: testNode(db) });
      stored = await counts(db);
    });
    after(async () => {
      await gateway.close();
      await db.close();
      await target.cleanup();
    });

    it("refuses SQL-injection strings in every path parameter and query parameter", async () => {
      for (const route of ROUTES) {
        const params = keysOf(route.params);
        const query = keysOf(route.query);
        for (const payload of INJECTIONS) {
          for (const name of params) {
            const url = gateway.url + pathOf(route, { ...VALID, [name]: payload });
            const response = await fetch(url, {
              method: route.method.toUpperCase(),
              headers: { ...EVERYONE, "content-type": "application/json" },
              body: route.method === "post" ? JSON.stringify(APPROVAL) : undefined,
            });
            expectClean(
              `${route.method} ${route.path} params.${name}=${payload}`,
              response.status,
              await response.text(),
            );
          }
          for (const name of query) {
            const url = `${gateway.url}${pathOf(route, VALID)}?${new URLSearchParams({ [name]: payload })}`;
            const response = await fetch(url, { headers: EVERYONE });
            expectClean(
              `${route.method} ${route.path} query.${name}=${payload}`,
              response.status,
              await response.text(),
            );
          }
        }
      }
      expect(problems).to.deep.equal([]);
      expect(await counts(db)).to.deep.equal(stored);
    });

    it("refuses SQL-injection strings in every text field of a body", async () => {
      const route = ROUTES.find((r) => r.method === "post")!;
      const fields: [string, (body: typeof APPROVAL, value: string) => void][] = [
        ["signature", (b, v) => (b.signature = v)],
        ...Object.keys(APPROVAL.approval)
          .filter((k) => typeof APPROVAL.approval[k as keyof typeof APPROVAL.approval] === "string")
          .map(
            (k) =>
              [
                `approval.${k}`,
                (b: typeof APPROVAL, v: string) => ((b.approval as Record<string, unknown>)[k] = v),
              ] as [string, (body: typeof APPROVAL, value: string) => void],
          ),
      ];
      for (const payload of INJECTIONS) {
        for (const [field, set] of fields) {
          const body = structuredClone(APPROVAL);
          set(body, payload);
          const response = await fetch(gateway.url + pathOf(route, VALID), {
            method: "POST",
            headers: { ...EVERYONE, "content-type": "application/json" },
            body: JSON.stringify(body),
          });
          const text = await response.text();
          expect(response.status, `${field}=${payload}`).to.equal(400);
          expect(JSON.parse(text).error.field, `${field}=${payload}`).to.equal(`body.${field}`);
        }
      }
      expect(await counts(db)).to.deep.equal(stored);
    });

    it("refuses path traversal in parameters and paths, without touching the file system", async () => {
      for (const traversal of TRAVERSALS) {
        const raw = [
          `/api/v1/periods/${traversal}/2026-10`,
          `/api/v1/periods/ACME-GLOBEX/${traversal}`,
          `/api/v1/periods/${encodeURIComponent(traversal)}/2026-10/report`,
          `/api/v1/periods/ACME-GLOBEX/${encodeURIComponent(traversal)}/report`,
          `/api/v1/rejects?file=${encodeURIComponent(traversal)}`,
          `/docs/${traversal}`,
          `/docs/${encodeURIComponent(traversal)}`,
          `/${traversal}`,
        ];
        for (const path of raw) {
          const response = await rawGet(gateway.url, path, EVERYONE);
          expectClean(`GET ${path}`, response.status, response.body);
        }
      }
      expect(problems).to.deep.equal([]);
      expect(await counts(db)).to.deep.equal(stored);
    });

    it("answers well-formed names that do not exist with 404, and the stored ones still work", async () => {
      const missing = await fetch(`${gateway.url}/api/v1/periods/NO-SUCH/2026-10/report`, {
        headers: EVERYONE,
      });
      expect(missing.status).to.equal(404);
      const partners = await fetch(`${gateway.url}/api/v1/partners`, { headers: EVERYONE });
      expect(
        ((await partners.json()) as { partners: { id: string }[] }).partners.map((p) => p.id),
      ).to.deep.equal(["GLOBEX"]);
      const agreements = await fetch(`${gateway.url}/api/v1/agreements`, { headers: EVERYONE });
      const text = await agreements.text();
      expect(text).to.contain("ACME-GLOBEX");
      expect(text, "the secret never goes out").to.not.contain("0707070707");
      expect(text).to.not.match(/secret/i);
    });
  });
}
