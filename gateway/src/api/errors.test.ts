/**
 * The error middleware: node errors map to their statuses with `{error:{code,message,field?}}`, and
 * nothing internal reaches a client — no stack, no file path, no SQL — even when a handler fails in
 * the middle of a real database error.
 */
import { expect } from "chai";
import { z } from "zod/v4";
import { openDatabase } from "../../../node/src/db/open";
import type { Database } from "../../../node/src/db/database";
import {
  BaseError,
  ConflictError,
  InputError,
  NotFoundError,
  UnavailableError,
} from "../../../node/src/errors";
import type { RunningGateway } from "../gateway";
import { clientMessage } from "../http-error";
import { defineRoute } from "./route";
import { ROUTES } from "./route-table";
import { headersFor, startGateway, testNode } from "../../../test/helpers/gateway-api";

const ADMIN = headersFor({ kind: "session", roles: ["admin"] });
const LEAKS =
  /\/work\/|\/home\/|\/tmp\/|node_modules|\.ts:\d|at [\w.<>]+ \(|SELECT|no_such_table|secret-db-password/;

function failing(path: string, error: () => unknown) {
  return defineRoute({
    method: "get",
    path,
    summary: "fails on purpose",
    tag: "test",
    allow: ["admin"],
    scope: "test:read",
    response: z.object({}),
    handler: async () => {
      throw error();
    },
  });
}

describe("API error middleware", function () {
  let db: Database;
  let gateway: RunningGateway;

  before(async () => {
    db = await openDatabase({ dataDir: null });
    gateway = await startGateway({
      node: testNode(db),
      routes: [
        ...ROUTES,
        failing("/test/crash", () => new Error(`boom at ${__filename}:12 password=secret-db-password`)),
        failing("/test/sql", () => null),
        failing(
          "/test/input",
          () => new InputError("bad amount", { file: `${__dirname}/deck.csv`, line: 3, field: "rate" }),
        ),
        failing(
          "/test/missing",
          () => new NotFoundError("partner X does not exist", `looked in ${__dirname}`),
        ),
        failing("/test/conflict", () => new ConflictError("partner X already exists")),
        failing(
          "/test/down",
          () => new UnavailableError("the database is unavailable", { details: "SELECT 1" }),
        ),
        failing(
          "/test/base",
          () => new BaseError("database error", { code: "DB_ERROR", details: "SELECT *" }),
        ),
        defineRoute({
          method: "get",
          path: "/test/real-sql",
          summary: "a real SQL error",
          tag: "test",
          allow: ["admin"],
          scope: "test:read",
          response: z.object({}),
          handler: async ({ deps }) => {
            await deps.node!.db.query("SELECT * FROM no_such_table WHERE x = $1", ["' OR 1=1"]);
            return {};
          },
        }),
        defineRoute({
          method: "get",
          path: "/test/bad-response",
          summary: "a response that does not fit its schema",
          tag: "test",
          allow: ["admin"],
          scope: "test:read",
          response: z.object({ n: z.number() }),
          handler: async () => ({ n: "not a number" }) as unknown as { n: number },
        }),
      ],
    });
  });
  after(async () => {
    await gateway.close();
    await db.close();
  });

  const get = async (path: string) => {
    const response = await fetch(gateway.url + path, { headers: ADMIN });
    const text = await response.text();
    return { status: response.status, text, json: JSON.parse(text) as { error: Record<string, string> } };
  };

  for (const path of ["/test/crash", "/test/sql", "/test/base", "/test/real-sql", "/test/bad-response"]) {
    it(`answers an internal failure (${path}) with 500 "internal error" and nothing else`, async () => {
      const { status, text, json } = await get(path);
      expect(status).to.equal(500);
      expect(json).to.deep.equal({ error: { code: "INTERNAL", message: "internal error" } });
      expect(text).to.not.match(LEAKS);
    });
  }

  it("maps InputError to 400 with its field, the file named by base name only", async () => {
    const { status, text, json } = await get("/test/input");
    expect(status).to.equal(400);
    expect(json.error).to.deep.equal({
      code: "INVALID_INPUT",
      message: "deck.csv, line 3, field rate: bad amount",
      field: "rate",
    });
    expect(text).to.not.match(LEAKS);
  });

  it("maps NotFoundError 404, ConflictError 409, UnavailableError 503, without details", async () => {
    expect(await get("/test/missing")).to.include({ status: 404 });
    expect((await get("/test/missing")).text).to.not.match(LEAKS);
    expect((await get("/test/conflict")).json.error).to.deep.equal({
      code: "CONFLICT",
      message: "partner X already exists",
    });
    const down = await get("/test/down");
    expect(down.status).to.equal(503);
    expect(down.text).to.not.match(LEAKS);
  });

  it("answers malformed and oversized JSON bodies with 400 and 413", async () => {
    const url = `${gateway.url}/api/v1/periods/ACME/2026-10/approvals`;
    const headers = {
      ...headersFor({ kind: "session", roles: ["officer"] }),
      "content-type": "application/json",
    };
    const malformed = await fetch(url, { method: "POST", headers, body: '{"approval": ' });
    expect(malformed.status).to.equal(400);
    const text = await malformed.text();
    expect(JSON.parse(text).error).to.deep.include({ code: "BAD_REQUEST", field: "body" });
    expect(text).to.not.match(LEAKS);
    const big = await fetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify({ x: "y".repeat(200_000) }),
    });
    expect(big.status).to.equal(413);
  });

  it("answers unknown routes with a JSON 404 and sends the security headers everywhere", async () => {
    for (const path of ["/api/v1/nope", "/api/v1/partners", "/healthz", "/docs"]) {
      const response = await fetch(gateway.url + path, { headers: ADMIN });
      expect(response.headers.get("x-content-type-options"), path).to.equal("nosniff");
      expect(response.headers.get("referrer-policy"), path).to.equal("no-referrer");
      expect(response.headers.get("content-security-policy"), path).to.match(/default-src 'none'/);
      expect(response.headers.get("x-powered-by"), path).to.equal(null);
    }
    const api = await fetch(`${gateway.url}/api/v1/partners`, { headers: ADMIN });
    expect(api.headers.get("cache-control")).to.equal("no-store");
    const missing = await fetch(`${gateway.url}/api/v1/nope`);
    expect(missing.status).to.equal(404);
    expect(await missing.json()).to.deep.equal({ error: { code: "NOT_FOUND", message: "no such route" } });
  });

  it("strips absolute paths from messages but keeps URLs and figures", () => {
    expect(clientMessage("/home/ops/.icl/config.json, field chain: bad")).to.equal(
      "config.json, field chain: bad",
    );
    expect(clientMessage("open 'C:\\Users\\ops\\deck.csv' failed")).to.equal("open 'deck.csv' failed");
    expect(clientMessage("peer URL 'http://host/a/b' refused")).to.equal(
      "peer URL 'http://host/a/b' refused",
    );
    expect(clientMessage("A→B 12.5/3 EUR\n    at Object.<anonymous> (/x/y.ts:1:1)")).to.equal(
      "A→B 12.5/3 EUR",
    );
  });
});
