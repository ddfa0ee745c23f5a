/**
 * JSON as the API writes it: bigints as decimal strings (exact money, never a float) and dates as
 * ISO 8601, the same rendering `icl … --json` uses; and the period view in the shape of
 * `icl period show --json`.
 */
export { periodReference, periodViewJson } from "../../../node/src/settlement/period-json";

/** `T` after {@link jsonify}. */
export type Jsonified<T> = T extends bigint
  ? string
  : T extends Date
    ? string
    : T extends readonly (infer U)[]
      ? Jsonified<U>[]
      : T extends object
        ? { [K in keyof T]: Jsonified<T[K]> }
        : T;

/** A deep copy with bigints as decimal strings and dates as ISO 8601 strings. */
export function jsonify<T>(value: T): Jsonified<T> {
  const walk = (item: unknown): unknown => {
    if (typeof item === "bigint") return item.toString();
    if (item instanceof Date) return item.toISOString();
    if (Array.isArray(item)) return item.map(walk);
    if (item !== null && typeof item === "object") {
      return Object.fromEntries(Object.entries(item).map(([key, inner]) => [key, walk(inner)]));
    }
    return item;
  };
  return walk(value) as Jsonified<T>;
}
