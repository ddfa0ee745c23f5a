/**
 * The OpenAPI 3.1 document of the route table, generated from the same zod schemas the routes
 * validate with (zod's JSON Schema output is draft 2020-12, the dialect of OpenAPI 3.1). Request
 * schemas are rendered as the client sends them (`io: "input"`), responses as the gateway sends them.
 * Who may call a route is stated twice: as `security` (session or token with the scope) and as the
 * `x-roles` extension, which the docs page shows.
 */
import { z } from "zod/v4";
import { SESSION_COOKIE } from "../auth/secrets";
import type { ApiRoute } from "./route";
import { ErrorBody } from "./schemas";

type JsonSchema = Record<string, unknown>;

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  201: "Created",
  400: "Invalid input: the field at fault is named in `error.field`",
  401: "No principal: sign in or send an API token",
  403: "Signed in, but no role (or token scope) allows this route",
  404: "Not found",
  409: "Conflicts with the state of the period or the ledger",
  413: "Request body too large",
  500: "Internal error (details are in the server log only)",
  503: "A dependency (database, chain, evidence store) is unavailable or not configured",
};

function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io,
    target: "draft-2020-12",
    unrepresentable: "any",
  }) as JsonSchema;
  return rest;
}

/** `/api/v1/periods/:agreement/:period` → `/api/v1/periods/{agreement}/{period}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, "{$1}");
}

/** `get /api/v1/periods/:agreement/:period` → `getApiV1PeriodsAgreementPeriod`. */
export function operationId(route: Pick<ApiRoute, "method" | "path">): string {
  const words = route.path
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1));
  return route.method + words.join("");
}

function parameters(schema: z.ZodType | undefined, where: "path" | "query") {
  if (schema === undefined) return [];
  const object = jsonSchema(schema, "input") as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(object.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === "path" || (object.required ?? []).includes(name),
      ...(typeof description === "string" ? { description } : {}),
      schema: rest,
    };
  });
}

function operation(route: ApiRoute) {
  const errorContent = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };
  const statuses = new Set<number>([500, ...(route.errors ?? [])]);
  if (route.params || route.query || route.body) statuses.add(400);
  if (route.allow !== "public") {
    statuses.add(401);
    statuses.add(403);
  }
  const success = route.status ?? 200;
  const responses: Record<string, unknown> = {
    [success]: {
      description: STATUS_TEXT[success] ?? "OK",
      content: route.response
        ? { "application/json": { schema: jsonSchema(route.response, "output") } }
        : { [route.contentType ?? "text/plain"]: { schema: { type: "string" } } },
    },
  };
  for (const status of [...statuses].sort()) {
    responses[status] = { description: STATUS_TEXT[status] ?? "Error", content: errorContent };
  }
  return {
    operationId: operationId(route),
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    "x-roles": route.allow === "public" ? "public" : [...route.allow],
    ...(route.scope ? { "x-scope": route.scope } : {}),
    security: route.allow === "public" ? [] : [{ session: [] }, { token: route.scope ? [route.scope] : [] }],
    parameters: [...parameters(route.params, "path"), ...parameters(route.query, "query")],
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { "application/json": { schema: jsonSchema(route.body, "input") } },
          },
        }
      : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of `routes`. */
export function openApiDocument(routes: readonly ApiRoute[], version = "0.1.0") {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const key = openApiPath(route.path);
    paths[key] = { ...paths[key], [route.method]: operation(route) };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Interconnect Ledger node API",
      version,
      description:
        "The REST API of one carrier's node: partners, agreements, tariff decks, ingest, periods, approvals. " +
        "Amounts, counts of records and chain times are integers sent as decimal strings. Errors are " +
        "`{error:{code,message,field?}}`.",
    },
    servers: [{ url: "/" }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { Error: jsonSchema(ErrorBody, "output") },
      securitySchemes: {
        session: {
          type: "apiKey",
          in: "cookie",
          name: SESSION_COOKIE,
          description:
            "A person's session after sign-in with their Ethereum key; state-changing requests also send x-csrf-token.",
        },
        token: {
          type: "http",
          scheme: "bearer",
          description: "An API token; each route names the scope it needs.",
        },
      },
    },
  };
}
