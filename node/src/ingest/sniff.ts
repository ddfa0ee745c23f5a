/**
 * What a file looks like, for the message of a file whose every row was rejected: its encoding
 * (binary, UTF-16, UTF-8, not UTF-8), its field delimiter, and which of the node's formats its
 * first lines resemble (asked of each format in the registry).
 */
import fs from "node:fs";
import { FORMATS } from "../mediation/formats/registry";

export interface FileLooks {
  encoding: "binary" | "utf-16le" | "utf-16be" | "utf-8" | "not-utf-8" | "empty";
  /** The delimiter its first lines use most consistently, when it is text. */
  delimiter: "," | ";" | "\t" | "|" | null;
  /** Formats whose first lines these look like (with `,` put back for another delimiter). */
  formats: string[];
  /** One sentence for a person. */
  description: string;
}

const SAMPLE_BYTES = 64 * 1024;
const DELIMITERS = [",", ";", "\t", "|"] as const;
const NAMES: Record<(typeof DELIMITERS)[number], string> = {
  ",": "commas",
  ";": "semicolons",
  "\t": "tabs",
  "|": "pipes",
};

/** Reads the first 64 KiB of `filePath` and says what it looks like. */
export function sniffFile(filePath: string): FileLooks {
  const handle = fs.openSync(filePath, "r");
  try {
    const buffer = Buffer.alloc(SAMPLE_BYTES);
    const n = fs.readSync(handle, buffer, 0, SAMPLE_BYTES, 0);
    return sniffBytes(buffer.subarray(0, n));
  } finally {
    fs.closeSync(handle);
  }
}

/** What some leading bytes of a file look like. */
export function sniffBytes(bytes: Buffer): FileLooks {
  if (bytes.length === 0) return looks("empty", null, [], "it is empty");
  let encoding: FileLooks["encoding"];
  let text: string;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) {
    encoding = "utf-16le";
    text = bytes.subarray(2).toString("utf16le");
  } else if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    encoding = "utf-16be";
    text = Buffer.from(bytes.subarray(2)).swap16().toString("utf16le");
  } else if (utf16WithoutBom(bytes) !== null) {
    encoding = utf16WithoutBom(bytes)!;
    text =
      encoding === "utf-16le" ? bytes.toString("utf16le") : Buffer.from(bytes).swap16().toString("utf16le");
  } else if (isBinary(bytes)) {
    return looks("binary", null, [], "it is binary, not text (a compressed or native switch file?)");
  } else {
    // A multi-byte sequence cut at the sample's end is not a fault of the file.
    const decoded = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
    const bad = (decoded.slice(0, -4).match(/\uFFFD/g) ?? []).length;
    encoding = bad > 0 ? "not-utf-8" : "utf-8";
    text = decoded;
  }
  const lines = text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .slice(0, 20)
    .filter((line) => line.trim() !== "");
  const delimiter = delimiterOf(lines);
  const asComma =
    delimiter !== null && delimiter !== "," ? lines.map((l) => l.split(delimiter).join(",")) : lines;
  const formats = FORMATS.filter((format) => format.looksLike(asComma)).map((format) => format.id);
  const parts: string[] = [];
  parts.push(
    encoding === "utf-8"
      ? "UTF-8 text"
      : encoding === "not-utf-8"
        ? "text that is not UTF-8 (Latin-1 or Windows-1252?)"
        : `${encoding.toUpperCase()} text`,
  );
  if (delimiter !== null) parts.push(`fields separated by ${NAMES[delimiter]}`);
  let description = `it is ${parts.join(" with ")}`;
  description +=
    formats.length > 0
      ? `; it looks like ${formats.join(" or ")}`
      : "; it does not look like any format the node reads";
  const fixes: string[] = [];
  if (encoding === "utf-16le" || encoding === "utf-16be" || encoding === "not-utf-8")
    fixes.push(
      `convert it to UTF-8 (iconv -f ${encoding === "not-utf-8" ? "WINDOWS-1252" : encoding.toUpperCase()} -t UTF-8)`,
    );
  if (delimiter !== null && delimiter !== ",") fixes.push("the node reads fields separated by commas");
  if (fixes.length > 0) description += ` (${fixes.join("; ")})`;
  return looks(encoding, delimiter, formats, description);
}

function looks(
  encoding: FileLooks["encoding"],
  delimiter: FileLooks["delimiter"],
  formats: string[],
  description: string,
): FileLooks {
  return { encoding, delimiter, formats, description };
}

/** UTF-16 text without a byte-order mark: every other byte zero in the ASCII range. */
function utf16WithoutBom(bytes: Buffer): "utf-16le" | "utf-16be" | null {
  const n = Math.min(bytes.length, 512) & ~1;
  if (n < 8) return null;
  let evenZero = 0;
  let oddZero = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) evenZero++;
    if (bytes[i + 1] === 0) oddZero++;
  }
  const pairs = n / 2;
  if (oddZero > pairs * 0.7 && evenZero < pairs * 0.1) return "utf-16le";
  if (evenZero > pairs * 0.7 && oddZero < pairs * 0.1) return "utf-16be";
  return null;
}

/** NUL bytes or many control characters: not text. */
function isBinary(bytes: Buffer): boolean {
  let control = 0;
  const n = Math.min(bytes.length, 8192);
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0) return true;
    if (b < 32 && b !== 9 && b !== 10 && b !== 13 && b !== 12) control++;
  }
  return control > n * 0.05;
}

/** The delimiter with the same, non-zero count on most lines (outside quotes). */
function delimiterOf(lines: readonly string[]): FileLooks["delimiter"] {
  let best: FileLooks["delimiter"] = null;
  let bestScore = 0;
  for (const d of DELIMITERS) {
    const counts = lines.map((line) => countOutsideQuotes(line, d));
    const common = mode(counts);
    if (common === 0) continue;
    const score = counts.filter((c) => c === common).length * 1000 + common;
    if (score > bestScore) {
      bestScore = score;
      best = d;
    }
  }
  return best;
}

function countOutsideQuotes(line: string, d: string): number {
  let n = 0;
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (c === d && !quoted) n++;
  }
  return n;
}

function mode(values: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = 0;
  let bestCount = 0;
  for (const [v, c] of counts) if (c > bestCount || (c === bestCount && v > best)) [best, bestCount] = [v, c];
  return best;
}
