/**
 * One log line per HTTP request once answered: method, path (never the query, which may carry what a
 * log should not keep), status, milliseconds, the client's address (through `trust proxy`), and who
 * asked (the principal's address, when signed in).
 * With ICL_LOG_FORMAT=json these are pino's JSON lines, ready for a log shipper.
 */
import type { RequestHandler } from "express";
import type { Logger } from "../../../node/src/logger";
import type { Principal } from "../auth/types";

export function accessLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const path = req.path;
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const principal = res.locals.principal as Principal | undefined;
      logger.info("http request", {
        method: req.method,
        path,
        status: res.statusCode,
        ms: Math.round(ms * 10) / 10,
        ip: req.ip ?? null,
        who: principal?.address ?? null,
      });
    });
    next();
  };
}
