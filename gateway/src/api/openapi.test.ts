/**
 * `/openapi.json` is generated from the route table: every route is in it with its parameters, body
 * and response schemas and who may call it; `/docs` renders it without loading anything from elsewhere.
 */
import { expect } from "chai";
import { z } from "zod/v4";
import type { RunningGateway } from "../gateway";
import { DOCS_CSS, DOCS_HTML, DOCS_JS } from "./docs-page";
import { openApiPath } from "./openapi";
import { ROUTES } from "./route-table";
import { startGateway } from "../../../test/helpers/gateway-api";

type Operation = {
  operationId: string;
  summary: string;
  parameters: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
  "x-roles": unknown;
  "x-scope"?: string;
  security: unknown[];
};

const keys = (schema: z.ZodType | undefined) =>
  schema === undefined
    ? []
    : Object.keys(
        (z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as { properties?: object })
          .properties ?? {},
      );

describe("OpenAPI document and docs page", function () {
  let gateway: RunningGateway;
  let doc: {
    openapi: string;
    paths: Record<string, Record<string, Operation>>;
    components: Record<string, unknown>;
  };

  before(async () => {
    gateway = await startGateway({ node: null });
    const response = await fetch(`${gateway.url}/openapi.json`);
    expect(response.status).to.equal(200);
    expect(response.headers.get("content-type")).to.match(/^application\/json/);
    doc = (await response.json()) as typeof doc;
  });
  after(() => gateway.close());

  it("is OpenAPI 3.1 and lists exactly the routes of the table", () => {
    expect(doc.openapi).to.equal("3.1.0");
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    );
    expect(listed.sort()).to.deep.equal(ROUTES.map((r) => `${r.method} ${openApiPath(r.path)}`).sort());
  });

  for (const route of ROUTES) {
    it(`describes ${route.method.toUpperCase()} ${route.path} from its schemas`, () => {
      const op = doc.paths[openApiPath(route.path)]![route.method]!;
      expect(op.summary).to.equal(route.summary);
      expect(op.operationId).to.match(/^[a-z][A-Za-z0-9]+$/);
      expect(op["x-roles"]).to.deep.equal(route.allow === "public" ? "public" : [...route.allow]);
      expect(op["x-scope"]).to.equal(route.scope ?? undefined);
      expect(op.security).to.have.length(route.allow === "public" ? 0 : 2);
      const inPath = op.parameters.filter((p) => p.in === "path").map((p) => p.name);
      const inQuery = op.parameters.filter((p) => p.in === "query").map((p) => p.name);
      expect(inPath).to.deep.equal(keys(route.params));
      expect(inQuery).to.deep.equal(keys(route.query));
      for (const name of inPath) expect(route.path).to.contain(`:${name}`);
      for (const p of op.parameters) expect(p.schema, p.name).to.have.property("type");
      if (route.body) {
        const schema = op.requestBody!.content["application/json"]!.schema as { properties: object };
        expect(Object.keys(schema.properties)).to.deep.equal(keys(route.body));
      } else {
        expect(op.requestBody).to.equal(undefined);
      }
      const success = op.responses[String(route.status ?? 200)]!;
      if (route.response) {
        const schema = success.content!["application/json"]!.schema as { properties: object };
        expect(Object.keys(schema.properties)).to.deep.equal(
          Object.keys((z.toJSONSchema(route.response) as { properties: object }).properties),
        );
      } else {
        expect(Object.keys(success.content!)).to.deep.equal([route.contentType]);
      }
      if (route.params || route.query || route.body) expect(op.responses).to.have.property("400");
      if (route.allow !== "public") expect(op.responses).to.include.keys("401", "403");
    });
  }

  it("documents the error body and the two ways to authenticate", () => {
    expect(doc.components).to.have.nested.property("schemas.Error.properties.error");
    expect(doc.components).to.have.nested.property("securitySchemes.token.scheme", "bearer");
  });

  it("serves /docs with its own script and style only, under a restrictive CSP", async () => {
    const page = await fetch(`${gateway.url}/docs`);
    expect(page.status).to.equal(200);
    expect(page.headers.get("content-type")).to.match(/^text\/html/);
    const csp = page.headers.get("content-security-policy")!;
    expect(csp).to.contain("default-src 'none'").and.contain("script-src 'self'").and.not.contain("unsafe");
    for (const asset of [DOCS_HTML, DOCS_JS, DOCS_CSS]) {
      expect(asset).to.not.match(/https?:\/\//);
      expect(asset).to.not.contain("innerHTML");
    }
    for (const [path, type] of [
      ["/docs/docs.js", /^text\/javascript/],
      ["/docs/docs.css", /^text\/css/],
    ] as const) {
      const response = await fetch(gateway.url + path);
      expect(response.status, path).to.equal(200);
      expect(response.headers.get("content-type"), path).to.match(type);
    }
  });
});
