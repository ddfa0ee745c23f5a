import { mediateStream } from "../../node/src/mediation/mediate";
import type { CdrFormat, MatchRule, MediationOptions, ParsedRow } from "../../node/src/mediation/types";

export const UK_PLAN = { countryCode: "44", nationalPrefix: "0", internationalPrefix: "00" };

export function options(over: Partial<MediationOptions> = {}, rules: MatchRule[] = []): MediationOptions {
  return {
    fileName: "test.csv",
    timeZone: "Europe/London",
    useGmtTime: false,
    numbering: UK_PLAN,
    matchRules: rules,
    ...over,
  };
}

export async function* chunksOf(parts: readonly (Buffer | string)[]): AsyncGenerator<Buffer | string> {
  for (const part of parts) yield part;
}

/** Runs mediateStream over the given chunks and flattens the batches. */
export async function collect(
  input: string | Buffer | readonly (Buffer | string)[],
  format: CdrFormat,
  opts: MediationOptions = options(),
  batchSize?: number,
): Promise<ParsedRow[]> {
  const parts = typeof input === "string" || Buffer.isBuffer(input) ? [input] : input;
  const rows: ParsedRow[] = [];
  for await (const batch of mediateStream(chunksOf(parts), format, opts, batchSize)) rows.push(...batch);
  return rows;
}

/** Quotes a CSV field when it needs it (RFC 4180). */
export function csvField(value: string, always = false): string {
  return always || /[",\r\n]/.test(value) || value.trim() !== value
    ? `"${value.replace(/"/g, '""')}"`
    : value;
}

/**
 * Reference (non-streaming, obviously-correct) record splitter with the reader's rules: returns one
 * entry per non-blank record, true when the record is well formed.
 */
export function referenceRecords(text: string): boolean[] {
  return referenceRecordLines(text).map((r) => r.ok);
}

/** {@link referenceRecords} with each record's start line. */
export function referenceRecordLines(text: string): { ok: boolean; line: number }[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const out: { ok: boolean; line: number }[] = [];
  const lineAt = (pos: number): number => {
    let line = 1;
    for (let k = text.indexOf("\n"); k >= 0 && k < pos; k = text.indexOf("\n", k + 1)) line++;
    return line;
  };
  const len = text.length;
  let i = 0;
  const afterLine = (from: number): number => {
    const nl = text.indexOf("\n", from);
    return nl < 0 ? len : nl + 1;
  };
  while (i < len) {
    const nl = text.indexOf("\n", i);
    const line = text.slice(i, nl < 0 ? len : nl).replace(/\r$/, "");
    if (/^[ \t]*$/.test(line)) {
      i = afterLine(i);
      continue;
    }
    const start = i;
    let j = i;
    let ok: boolean | null = null;
    while (ok === null) {
      if (text[j] === '"') {
        let k = j + 1;
        let close = -1;
        for (;;) {
          const q = text.indexOf('"', k);
          if (q < 0) break;
          if (text[q + 1] === '"') {
            k = q + 2;
            continue;
          }
          close = q;
          break;
        }
        if (close < 0) {
          ok = false;
          i = afterLine(start);
          break;
        }
        j = close + 1;
        if (j >= len) {
          ok = true;
          i = len;
        } else if (text[j] === ",") {
          j++;
        } else if (text[j] === "\n") {
          ok = true;
          i = j + 1;
        } else if (text[j] === "\r" && (j + 1 >= len || text[j + 1] === "\n")) {
          ok = true;
          i = j + 1 >= len ? len : j + 2;
        } else {
          ok = false;
          i = afterLine(start);
        }
      } else {
        const comma = text.indexOf(",", j);
        const end = text.indexOf("\n", j);
        if (comma >= 0 && (end < 0 || comma < end)) {
          j = comma + 1;
        } else {
          ok = true;
          i = end < 0 ? len : end + 1;
        }
      }
    }
    out.push({ ok, line: lineAt(start) });
  }
  return out;
}
