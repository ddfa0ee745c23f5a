/**
 * The carrier node's HTTP face. Today it serves the node-to-node protocol under `/peer/v1/` and
 * `/healthz`; the REST API and the web console for carrier staff, officers and regulators join it
 * (issue 6). Routes stay thin: the peer routes hand method, path, signature header and raw body to
 * the node's PeerServer, which does all checking.
 */
import express, { type ErrorRequestHandler, type Express } from "express";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { Logger } from "../../node/src/logger";
import type { PeerServer } from "../../node/src/reconciliation/peer-server";
import { PEER_LIMITS, PEER_PREFIX, PEER_SIGNATURE_HEADER } from "../../node/src/reconciliation/peer-wire";

export interface GatewayParts {
  logger: Logger;
  /** Answers `/peer/v1/`; without it those routes answer 503. */
  peer?: PeerServer | null;
}

export function createGateway(parts: GatewayParts): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.use(
    PEER_PREFIX,
    express.raw({ type: () => true, limit: PEER_LIMITS.requestBytes }),
    async (req, res) => {
      if (!parts.peer) {
        res.status(503).json({ error: { code: "UNAVAILABLE", message: "this node does not serve peers" } });
        return;
      }
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

  app.use((_req, res) => {
    res.status(404).json({ error: { code: "NOT_FOUND", message: "no such route" } });
  });
  const onError: ErrorRequestHandler = (error: { status?: number; type?: string }, _req, res, _next) => {
    // body-parser errors carry a status (413 too large, 400 malformed); anything else is ours.
    const status = typeof error.status === "number" && error.status < 500 ? error.status : 500;
    if (status === 500) parts.logger.error("gateway request failed", { error: String(error) });
    const message =
      status === 413 ? "the request body is too large" : status === 500 ? "internal error" : "bad request";
    res.status(status).json({ error: { code: status === 413 ? "TOO_LARGE" : "BAD_REQUEST", message } });
  };
  app.use(onError);
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
