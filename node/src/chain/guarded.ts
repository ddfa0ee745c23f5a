/**
 * The one layer every contract call of the node passes: the chain client hands out its contracts
 * wrapped here, so whatever a call throws reaches the caller as the node's error for it: a
 * retryable `UnavailableError` (`RPC_UNAVAILABLE`) when the RPC node cannot be reached (the API
 * answers 503), a decoded `ContractRevertError` when the contract refused, a `BaseError`
 * (`RPC_ERROR`) otherwise. Reads are not retried here (a page or a command answers at once that the
 * chain is down); transactions go through the TxManager, which retries.
 */
import type { BaseContract } from "ethers";
import { toChainError } from "./errors";

/** Calls whose failures are mapped: the contract's own methods and its `staticCall`, `estimateGas`…. */
function guardFunction<F extends (...args: unknown[]) => unknown>(fn: F, what: string, self: unknown): F {
  return new Proxy(fn, {
    apply(target, thisArg, args) {
      let result: unknown;
      try {
        result = Reflect.apply(target, thisArg === undefined ? self : thisArg, args);
      } catch (error) {
        throw toChainError(error, what);
      }
      return result instanceof Promise
        ? result.catch((error: unknown) => Promise.reject(toChainError(error, what)))
        : result;
    },
    get(target, property) {
      const value = Reflect.get(target, property) as unknown;
      return typeof value === "function"
        ? guardFunction(value as (...args: unknown[]) => unknown, `${what}.${String(property)}`, target)
        : value;
    },
  });
}

/**
 * `contract` with every method's failures mapped to the node's errors (see the module comment).
 * `connect` returns a guarded contract too; `interface`, `target`, `filters` are passed through.
 */
export function guardContract<C extends BaseContract>(contract: C, name: string): C {
  const passThrough = new Set<PropertyKey>(["interface", "target", "runner", "filters", "fallback"]);
  return new Proxy(contract, {
    get(target, property) {
      const value = Reflect.get(target, property) as unknown;
      if (passThrough.has(property) || typeof value !== "function") return value;
      if (property === "connect") {
        return (runner: Parameters<C["connect"]>[0]) => guardContract(target.connect(runner) as C, name);
      }
      return guardFunction(value as (...args: unknown[]) => unknown, `${name}.${String(property)}`, target);
    },
  });
}
