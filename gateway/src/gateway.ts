/**
 * The carrier node's HTTP face: the node-to-node protocol under `/peer/v1/`, `/healthz`, and the
 * REST API of the route table (gateway/src/api/route-table.ts) for carrier staff, officers,
 * regulators and arbiters, with `/openapi.json`, `/docs`, `/readyz` and `/metrics`. Routes stay
 * thin: the peer routes hand method, path, signature header and raw body to the node's PeerServer,
 * which does all checking; the API routes validate with zod and call the node.
 */
import express, { type Express, type RequestHandler } from "express";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { Logger } from "../../node/src/logger";
import type { PartnerEvidence } from "../../node/src/reconciliation/evidence-exchange";
import type { PeerServer } from "../../node/src/reconciliation/peer-server";
import { PEER_LIMITS, PEER_PREFIX, PEER_SIGNATURE_HEADER } from "../../node/src/reconciliation/peer-wire";
import type { ChainClient } from "../../node/src/chain/client";
import type { CarrierNode } from "../../node/src/node";
import { ROUTES } from "./api/route-table";
import { DEFAULT_UPLOAD_LIMITS, buildApiRouter } from "./api/router";
import { securityHeaders } from "./api/security-headers";
import { accessLog } from "./api/access-log";
import type { ApiRoute, UploadLimits } from "./api/route";
import { Metrics, countRequests } from "./metrics/metrics";
import { nodeMetrics } from "./metrics/node-metrics";
import { AUTH_PREFIX, authRouter, authenticate, requireCsrf, type AuthDeps } from "./auth";
import { consoleRouter } from "./console/serve";
import { HttpError, errorHandler } from "./http-error";

export interface GatewayParts {
  logger: Logger;
  /** Answers `/peer/v1/`; without it those routes answer 503. */
  peer?: PeerServer | null;
  /** The node the API reads; without it the API's routes answer 503 (and `/readyz` is not ready). */
  node?: CarrierNode | null;
  /**
   * Fetches a bundle the ledger names for a period from the partner's node (the running node's, see
   * NodeRunner.partnerEvidence); without it evidence this node lacks is answered as not held here.
   */
  partnerEvidence?: PartnerEvidence | null;
  /** The ledger (read-only or with the node key); without it the period routes answer 503. */
  chain?: ChainClient | null;
  /**
   * Sets `res.locals.principal` (gateway/src/auth/types.ts Principal) for a valid session or API token
   * and calls next(); anonymous requests pass without one. Absent: every non-public route answers 401.
   */
  authenticate?: RequestHandler | null;
  /** CSRF check of state-changing requests (see gateway/src/api/router.ts for the fallback). */
  csrf?: RequestHandler | null;
  /**
   * Sign-in, sessions and API tokens (gateway/src/auth/): mounts `/api/v1/auth` and, unless
   * `authenticate`/`csrf` are given, authenticates every request with it.
   */
  auth?: AuthDeps | null;
  /** The route table; tests may pass their own. Default: {@link ROUTES}. */
  routes?: readonly ApiRoute[];
  /** Counters behind `/metrics`; pass one to read them from elsewhere. */
  metrics?: Metrics;
  /** Upload sizes and rate; unset fields take {@link DEFAULT_UPLOAD_LIMITS}. */
  uploads?: Partial<UploadLimits>;
  /** Whose X-Forwarded-For to believe (config `gateway.trustProxy`); default none. */
  trustProxy?: false | number | readonly string[];
  /** Serve the web console under `/console/` (default true). */
  console?: boolean;
}

export function createGateway(parts: GatewayParts): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  if (parts.trustProxy) app.set("trust proxy", parts.trustProxy);
  const metrics = parts.metrics ?? new Metrics();
  const node = parts.node ?? null;
  const chain = parts.chain ?? null;
  app.use(securityHeaders);
  app.use(accessLog(parts.logger));
  app.use(
    countRequests(metrics, [
      { prefix: PEER_PREFIX, label: PEER_PREFIX },
      { prefix: "/healthz", label: "/healthz" },
    ]),
  );

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  const auth = parts.auth ?? null;
  const authenticateWith = parts.authenticate ?? (auth ? authenticate(auth) : undefined);
  const csrfWith = parts.csrf ?? (auth ? requireCsrf() : undefined);
  if (auth) app.use(AUTH_PREFIX, authRouter(auth));
  if (parts.console !== false) app.use(consoleRouter());

  app.use(
    buildApiRouter(
      parts.routes ?? ROUTES,
      {
        node,
        chain,
        partnerEvidence: parts.partnerEvidence ?? null,
        logger: parts.logger,
        metrics,
        collectNodeMetrics: nodeMetrics(node, chain).collect,
        uploads: { ...DEFAULT_UPLOAD_LIMITS, ...parts.uploads },
      },
      { authenticate: authenticateWith, csrf: csrfWith },
    ),
  );

  app.use(
    PEER_PREFIX,
    express.raw({ type: () => true, limit: PEER_LIMITS.requestBytes }),
    async (req, res) => {
      if (!parts.peer) throw new HttpError(503, "UNAVAILABLE", "this node does not serve peers");
      const body: Uint8Array = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const answer = await parts.peer.handle({
        method: req.method,
        path: req.originalUrl.split("?")[0]!,
        signature: req.get(PEER_SIGNATURE_HEADER),
        body,
      });
      if (answer.signature) res.set(PEER_SIGNATURE_HEADER, answer.signature);
      res.status(answer.status).type("application/json").send(answer.body);
    },
  );

  app.use((_req, _res, next) => next(new HttpError(404, "NOT_FOUND", "no such route")));
  app.use(errorHandler(parts.logger));
  return app;
}

export interface RunningGateway {
  /** `http://host:port` as bound (port 0 picks a free one). */
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Listens on `host:port` and resolves once bound. */
export function listen(app: Express, host: string, port: number): Promise<RunningGateway> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => {
      if (error) {
        reject(error);
        return;
      }
      const address = server.address() as AddressInfo;
      const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolve({
        url: `http://${shownHost}:${address.port}`,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
    server.once("error", reject);
  });
}
