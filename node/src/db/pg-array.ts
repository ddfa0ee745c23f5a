/**
 * PostgreSQL array literals built directly (`{1,2,NULL}`, `{"a","b\"c"}`), passed as one text
 * parameter and cast in SQL (`$1::bigint[]`). Bulk inserts send tens of thousands of values per
 * statement; the drivers' generic array serialisation costs more than the database's insert.
 */

/** Literal of an integer array (number or bigint; null allowed). */
export function intArray(values: readonly (number | bigint | null)[]): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ",";
    const value = values[i];
    out += value === null || value === undefined ? "NULL" : String(value);
  }
  return out + "}";
}

const NEEDS_ESCAPE = /["\\]/g;

/** Literal of a text array: every element quoted, `"` and `\` escaped, NUL replaced (text cannot hold it). */
export function textArray(values: readonly (string | null)[]): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ",";
    const value = values[i];
    if (value === null || value === undefined) {
      out += "NULL";
      continue;
    }
    let text = value.includes("\u0000") ? value.replaceAll("\u0000", "\uFFFD") : value;
    if (text.includes('"') || text.includes("\\")) text = text.replace(NEEDS_ESCAPE, "\\$&");
    out += '"' + text + '"';
  }
  return out + "}";
}
