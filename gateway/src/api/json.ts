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

export const DAY_MS = 86_400_000;

/** Days since 1970-01-01 (the summaries' leaf day) → `2030-01-15`. */
export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** `2030-01-15` → days since 1970-01-01; NaN or a fraction for anything that is not a real day. */
export function dayNumber(text: string): number {
  return Date.parse(`${text}T00:00:00Z`) / DAY_MS;
}
