/**
 * The gateway's errors, in one place: the one error it raises itself (HttpError, on the node's error
 * hierarchy: a refusal with its HTTP status, a machine-readable code, the message a client reads and,
 * for a validation failure, the offending field), the validation of request input with zod, and the
 * one error middleware that every router and the app mount. Every failure becomes
 * `{error:{code,message,field?}}` with the HTTP status its family deserves. What goes to the client is
 * the error's short message with file paths reduced to their base name; details, causes, stacks and
 * SQL never leave the process (they go to the log for the 500s).
 */
import path from "node:path";
import type { ErrorRequestHandler } from "express";
import type { z } from "zod/v4";
import { BaseError, ConflictError, InputError, NotFoundError, UnavailableError } from "../../node/src/errors";
import type { Logger } from "../../node/src/logger";

/** A refusal with its HTTP status; the API's and the sign-in's error middleware answer it as it says. */
export class HttpError extends BaseError {
  override name = "HttpError";
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message, { code });
  }
}

/**
 * `value` checked by `schema`. @throws HttpError 400 naming the first field at fault, e.g.
 * `query.limit` (the message says what is expected, never echoes the value).
 */
export function validate<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = [where, ...issue.path.map(String)].join(".");
  throw new HttpError(400, "INVALID_INPUT", `${field}: ${issue.message}`, field);
}

export interface ErrorBodyJson {
  error: { code: string; message: string; field?: string };
}

const MAX_MESSAGE = 300;
/** An absolute POSIX or Windows path with at least one directory, at the start of a word (not inside a URL). */
const ABSOLUTE_PATH = /(?<=^|[\s'"(=])(?:[A-Za-z]:\\|\/)(?:[^\s'"\\/]+[\\/])+[^\s'"\\/]*/g;

/**
 * `text` safe to show a client: absolute paths (POSIX or Windows) replaced by their base name, one
 * line, bounded length. Node messages are written for people and name files, ids and figures; the
 * directories a node runs from are nobody else's business.
 */
export function clientMessage(text: string): string {
  const firstLine = text.split("\n", 1)[0] ?? "";
  const noPaths = firstLine
    .replace(ABSOLUTE_PATH, (match) => path.basename(match.replace(/\\/g, "/")) || "…")
    .trim();
  return noPaths.length > MAX_MESSAGE ? `${noPaths.slice(0, MAX_MESSAGE - 1)}…` : noPaths;
}

/** The status and body of `error` as the API answers it. */
export function errorResponse(error: unknown): { status: number; body: ErrorBodyJson; internal: boolean } {
  const answer = (status: number, code: string, message: string, field?: string) => ({
    status,
    body: { error: field === undefined ? { code, message } : { code, message, field } },
    internal: false,
  });
  if (error instanceof HttpError) return answer(error.status, error.code, error.message, error.field);
  if (error instanceof InputError) {
    // InputError prefixes "file, line N, field F: "; the field is sent on its own, the file as a base name.
    return answer(400, error.code, clientMessage(error.shortMessage), error.field);
  }
  if (error instanceof NotFoundError) return answer(404, error.code, clientMessage(error.shortMessage));
  if (error instanceof ConflictError) return answer(409, error.code, clientMessage(error.shortMessage));
  if (error instanceof UnavailableError || (error instanceof BaseError && error.retryable)) {
    return answer(503, error.code, clientMessage(error.shortMessage));
  }
  if (error instanceof BaseError && error.code === "CONTRACT_REVERT") {
    // A decoded custom error (LedgerUnexpectedState(…)): the ledger refused a step, a state conflict.
    return answer(409, "CONFLICT", clientMessage(error.shortMessage));
  }
  // body-parser: malformed JSON (400), too large (413), unsupported charset (415).
  const status = (error as { status?: unknown; type?: unknown } | null)?.status;
  if (typeof status === "number" && status >= 400 && status < 500) {
    if (status === 413) return answer(413, "TOO_LARGE", "the request body is too large");
    if (status === 415)
      return answer(415, "UNSUPPORTED_MEDIA_TYPE", "the request body's encoding is not supported");
    return answer(400, "BAD_REQUEST", "the request body is not valid JSON", "body");
  }
  return { ...answer(500, "INTERNAL", "internal error"), internal: true };
}

/** The gateway's one error middleware, mounted after the routes of the API, of the sign-in and of the app. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const { status, body, internal } = errorResponse(error);
    if (internal) {
      logger.error("request failed", {
        method: req.method,
        path: req.path,
        route: (req.route as { path?: string } | undefined)?.path ?? null,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
    res.status(status).json(body);
  };
}
