/**
 * Exponential backoff for RPC calls: transient faults (connection refused or reset, timeouts, 5xx)
 * are retried with growing, jittered pauses until `maxElapsedMs`; anything else is thrown at once,
 * mapped by `toChainError` (a revert arrives as a named ContractRevertError).
 */
import { UnavailableError } from "../errors";
import type { Logger } from "../logger";
import { toChainError } from "./errors";

export interface RetryOptions {
  /** First pause in ms (default 200). */
  initialMs?: number;
  /** Longest pause in ms (default 5 000). */
  maxMs?: number;
  /** Give up after this long in ms (default 10 minutes); the last error is thrown. */
  maxElapsedMs?: number;
  /** Stops waiting early; the call then throws an UnavailableError. */
  signal?: AbortSignal;
}

/**
 * Runs `call` until it succeeds or fails for good.
 * @throws ContractRevertError or BaseError at once for non-transient failures; UnavailableError when
 * the RPC node stays unreachable for `maxElapsedMs` or `signal` aborts.
 */
export async function withRetry<T>(
  what: string,
  call: () => Promise<T>,
  options: RetryOptions & { logger: Logger },
): Promise<T> {
  const initial = options.initialMs ?? 200;
  const max = options.maxMs ?? 5_000;
  const deadline = Date.now() + (options.maxElapsedMs ?? 600_000);
  let pause = initial;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (raw) {
      const error = toChainError(raw, what);
      if (!error.retryable) throw error;
      if (Date.now() + pause > deadline || options.signal?.aborted) {
        throw new UnavailableError(`the chain node stayed unreachable (${what})`, {
          code: "RPC_UNAVAILABLE",
          details: `gave up after ${attempt} attempts: ${error.details ?? error.shortMessage}`,
          cause: error,
        });
      }
      options.logger.warn("chain RPC call failed; retrying", {
        call: what,
        attempt,
        retryInMs: pause,
        error: error.shortMessage,
      });
      await sleep(pause * (0.75 + Math.random() * 0.5), options.signal);
      pause = Math.min(max, pause * 2);
    }
  }
}

/** Resolves after `ms` (early when `signal` aborts). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
