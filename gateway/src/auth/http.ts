/**
 * How the auth routes and middleware answer failures: one JSON shape, `{error: {code, message}}`,
 * with a fixed message per case and never a stack trace, path or database text.
 */
import type { ErrorRequestHandler, Response } from "express";
import type { z } from "zod";
import { BaseError } from "../../../node/src/errors";
import { HttpError } from "../http-error";
import type { Logger } from "../../../node/src/logger";

/** Writes `{error: {code, message}}` with `status`. */
export function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

/**
 * Validates a request body with `schema`.
 * @throws HttpError 400 `INVALID_INPUT` naming the first offending field.
 */
export function parseBody<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new HttpError(400, "INVALID_INPUT", `${issue.path.join(".") || "body"}: ${issue.message}`);
}

/**
 * Error middleware of the auth router: HttpError as it says; a retryable node error as 503; a
 * body-parser refusal (status < 500) as 400/413; everything else logged and answered 500 "internal".
 */
export function authErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (error instanceof HttpError) {
      sendError(res, error.status, error.code, error.shortMessage);
      return;
    }
    if (error instanceof BaseError && error.retryable) {
      logger.warn("auth dependency unavailable", { code: error.code, error: error.shortMessage });
      sendError(res, 503, "UNAVAILABLE", "a service the sign-in depends on is unavailable; try again");
      return;
    }
    const status = (error as { status?: unknown } | null)?.status;
    if (typeof status === "number" && status >= 400 && status < 500) {
      if (status === 413) sendError(res, 413, "TOO_LARGE", "the request body is too large");
      else sendError(res, 400, "BAD_REQUEST", "the request body is not valid JSON");
      return;
    }
    logger.error("auth request failed", { error: String(error) });
    sendError(res, 500, "INTERNAL", "internal error");
  };
}
