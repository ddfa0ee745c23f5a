/**
 * A fixed-window rate limit kept in memory, per client IP (as express sees it, so after `trust proxy`)
 * and per named limit. One gateway process serves one node, so memory is enough; counts restart
 * with the process.
 */
import type { Request, RequestHandler } from "express";
import { HttpError } from "../http-error";

export interface RateLimitOptions {
  /** Length of a window, milliseconds. */
  windowMs: number;
  /** Requests allowed per client and window; the next one is answered 429. */
  max: number;
  /**
   * Name of this limit (`sign-in`, `uploads`): separate limits count separately. A function instead
   * picks the bucket of a request itself (e.g. per principal).
   */
  key: string | ((req: Request) => string);
  /** The clock (tests move it). */
  now?: () => number;
}

/** Buckets held before expired ones are swept out (bounds memory under a flood of addresses). */
const SWEEP_AT = 10_000;

/**
 * Middleware answering 429 `{error:{code:"RATE_LIMITED"}}` with `Retry-After` (seconds until the window
 * ends) once a client has made `max` requests in the current window.
 * @throws TypeError at set-up for a non-positive window or a negative max.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  if (!(options.windowMs > 0) || !(options.max >= 0))
    throw new TypeError("rateLimit: windowMs > 0, max >= 0");
  const now = options.now ?? Date.now;
  const buckets = new Map<string, { start: number; count: number }>();
  const keyOf =
    typeof options.key === "function"
      ? options.key
      : (req: Request) => `${options.key as string} ${req.ip ?? req.socket.remoteAddress ?? "unknown"}`;
  return (req, res, next) => {
    const at = now();
    if (buckets.size >= SWEEP_AT) {
      for (const [key, bucket] of buckets) if (at - bucket.start >= options.windowMs) buckets.delete(key);
    }
    const key = keyOf(req);
    let bucket = buckets.get(key);
    if (!bucket || at - bucket.start >= options.windowMs) {
      bucket = { start: at, count: 0 };
      buckets.set(key, bucket);
    }
    bucket.count += 1;
    if (bucket.count > options.max) {
      const seconds = Math.max(1, Math.ceil((bucket.start + options.windowMs - at) / 1000));
      res.set("Retry-After", String(seconds));
      next(new HttpError(429, "RATE_LIMITED", `too many requests; try again in ${seconds} s`));
      return;
    }
    next();
  };
}
