/**
 * What every CDR format is made of: its descriptor (one per format, under this folder, listed in
 * registry.ts; the CLI, the config schema, the API, the console and the parallel rater derive
 * everything from it), the handler that turns records into {@link ParsedRow}s, and the helpers
 * the handlers share (messages, counts, match rules, switch times).
 */
import { InputError } from "../../errors";
import { normaliseNumber, type NumberNote } from "../numbers";
import { parseWallMs, zoneConverter } from "../time";
import type { Direction, MatchRule, MediationOptions, NumberingPlan, ParsedRow } from "../types";

/**
 * One record of a source, as a format reads it: fields in order, the line (file) or position
 * (table row id, stream sequence) it came from, and its text for the reject store.
 * {@link CsvRecordReader} is one; database and stream sources make their own.
 */
export interface SourceRecord {
  /** Fields `[0, count)`; the array may be reused after the handler returns: copy what you keep. */
  readonly fields: readonly string[];
  readonly count: number;
  /** Line of a file the record starts on, or a table row's id, or a stream message's sequence. */
  readonly line: number;
  /** The record's text, shortened for the reject store. */
  raw(): string;
  /** The record's whole text. */
  text(): string;
}

/**
 * Turns records into rows. Most formats emit one row per record at once; a format that pairs
 * records (FreeSWITCH `legs=ab`, Kamailio `acc` INVITE and BYE) may hold a record back and emit
 * it later, so rows can come out of file order, each with its own line. Given the same records in
 * the same order, a handler emits the same rows in the same order: ingest resumes by replaying a
 * file and skipping the rows already stored.
 */
export interface FormatHandler {
  /** Reads one record; pushes the rows it completes (none, one, or several held ones) to `out`. */
  record(record: SourceRecord, out: ParsedRow[]): void;
  /** The input ended: pushes every row still held. */
  flush(out: ParsedRow[]): void;
  /** The lowest line of a record held back, null when none (formats that pair records). */
  lowestHeldLine?(): number | null;
}

/** How a format's records are read from bytes. */
export type RecordSyntax = "csv" | "ndjson";

/** Where a format's times come from, which decides whether `mediation.timeZone` applies. */
export type TimeSemantics =
  /** ISO 8601 with an offset (or UTC without one): needs no zone. */
  | "iso"
  /** Wall-clock `YYYY-MM-DD HH:MM:SS` in the switch's zone (`mediation.timeZone`, or UTC with `useGmtTime`). */
  | "local"
  /** UTC epoch seconds: needs no zone. */
  | "epoch";

/** The cdrs columns a value the database refused can be named by (see {@link FormatDescriptor.fieldOf}). */
export type StoredField =
  | "source_key"
  | "start_time"
  | "setup_time"
  | "answer_time"
  | "end_time"
  | "duration"
  | "volume"
  | "a_number"
  | "b_number"
  | "trunk"
  | "sip_code"
  | "q850_cause"
  | "pdd_ms";

/** A CDR format: everything the node, the CLI, the API and the console know about it. */
export interface FormatDescriptor {
  /** `--format` value, config value, API value: `asterisk`. */
  readonly id: string;
  /** A person's name for it: `Asterisk cdr_csv (Master.csv)`. */
  readonly label: string;
  /** One or two sentences: what writes it and how it is read. */
  readonly description: string;
  readonly syntax: RecordSyntax;
  /**
   * Rows before the data that name or describe the columns (icl-csv 1, CUCM 2, headerless switch
   * files 0). The parallel rater hands these to every worker with each segment.
   */
  readonly headerRows: number;
  readonly times: TimeSemantics;
  /** The row names its partner and direction itself; otherwise the partners' match rules decide. */
  readonly partnerFromRow: boolean;
  /** The columns it reads, in the order the switch writes them (or, with a header, by name). */
  readonly columns: readonly string[];
  /** Columns a match rule may name (`icl partners add --match in:FIELD=REGEX`). */
  readonly matchFields: readonly string[];
  /** A field every row has, for the catch-all rule of `icl rate` without `--match`. */
  readonly catchAllField: string;
  /** How the source key (what makes a duplicate) is formed, for help and docs. */
  readonly sourceKey: string;
  /** The format's field behind each stored column, to name the field of a value the database refused. */
  readonly fieldOf: Readonly<Partial<Record<StoredField, string>>>;
  /** The handler holds records back to pair them: the parallel rater must not split such files. */
  readonly pairs?: (options: MediationOptions) => boolean;
  /**
   * Builds a handler for one source.
   * @throws InputError for a configuration problem (an invalid match-rule pattern, a bad template).
   */
  create(options: MediationOptions): FormatHandler;
  /**
   * Whether the first lines of a file look like this format (for telling a user what a file
   * that was entirely rejected looks like). `lines` are decoded, without line breaks.
   */
  looksLike(lines: readonly string[]): boolean;
}

/** Partner ids as the partners table accepts them. */
export const PARTNER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Longest source key part taken from a row (a cdr_id, a uuid): longer ones are rejected. */
export const MAX_KEY_CHARS = 256;

/** Quotes a value for a message, shortened so messages stay readable. */
export function show(value: string): string {
  return `'${value.length > 80 ? `${value.slice(0, 80)}…` : value}'`;
}

/** An `INVALID` reject of `record` naming `field`. */
export function invalid(record: SourceRecord, field: string | null, message: string): ParsedRow {
  return { kind: "reject", line: record.line, raw: record.raw(), reason: "INVALID", field, message };
}

/** Trims only when needed (the common value has no surrounding whitespace). */
export function clean(value: string | undefined): string {
  if (value === undefined) return "";
  const n = value.length;
  return n === 0 || (value.charCodeAt(0) > 32 && value.charCodeAt(n - 1) > 32) ? value : value.trim();
}

/** Field `i` of the record, cleaned; "" when the column is absent (i < 0). */
export function col(fields: readonly string[], i: number): string {
  return i < 0 ? "" : clean(fields[i]);
}

/** Non-negative decimal integer (at most 15 digits), or -1. */
export function parseCount(text: string): number {
  const n = text.length;
  if (n === 0 || n > 15) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** An optional whole number within [min, max]: null for "", NaN when present but not such a number. */
export function optionalInt(text: string, min: number, max: number): number | null {
  if (text === "") return null;
  const v = parseCount(text);
  return v < min || v > max ? NaN : v;
}

/** The message for a value that is not a phone number. */
export function numberMessage(field: string, value: string): string {
  return `${field} ${show(value)} is not a phone number (E.164 needs 1–15 digits, optionally written with +, 00 or the national prefix)`;
}

/**
 * Normalises the calling and called numbers of a row, or returns the reject naming the field.
 * A withheld calling number (empty) is allowed; the called number is required. Sets
 * `warnings` when a number had its national prefix in brackets (`+44 (0)20…`).
 */
export function readNumbers(
  record: SourceRecord,
  plan: NumberingPlan,
  aText: string,
  aField: string,
  bText: string,
  bField: string,
): { aNumber: string; bNumber: string; warnings: string[] | null } | ParsedRow {
  const note: NumberNote = { trunkPrefixInBrackets: false };
  let aNumber = "";
  if (clean(aText) !== "") {
    const a = normaliseNumber(aText, plan, note);
    if (a === null) return invalid(record, aField, numberMessage(aField, aText));
    aNumber = a;
  }
  if (clean(bText) === "") return invalid(record, bField, `${bField} is empty`);
  const bNumber = normaliseNumber(bText, plan, note);
  if (bNumber === null) return invalid(record, bField, numberMessage(bField, bText));
  return { aNumber, bNumber, warnings: note.trunkPrefixInBrackets ? ["trunk_prefix_in_brackets"] : null };
}

/** A compiled match rule. */
export interface CompiledRule {
  partner: string;
  direction: Direction;
  /** Column index; -1 for the `trunk` pseudo-field; -2 for a field the format does not have (never matches). */
  index: number;
  re: RegExp;
}

/**
 * Compiles match rules once against a format's columns; `trunk` allows the `trunk` pseudo-field.
 * @throws InputError for an invalid pattern (a configuration error).
 */
export function compileRules(
  rules: readonly MatchRule[],
  columns: readonly string[],
  fileName: string,
  trunk: boolean,
): CompiledRule[] {
  return rules.map((rule, i) => {
    let re: RegExp;
    try {
      re = new RegExp(rule.pattern);
    } catch (e) {
      throw new InputError(
        `match rule ${i + 1} (partner ${rule.partner}, field ${rule.field}) has an invalid pattern ${show(rule.pattern)}: ${(e as Error).message}`,
        { file: fileName, field: "matchRules", cause: e },
      );
    }
    const column = columns.indexOf(rule.field);
    const index = column >= 0 ? column : trunk && rule.field === "trunk" ? -1 : -2;
    return { partner: rule.partner, direction: rule.direction, index, re };
  });
}

/** The first rule whose field matches, or null. `trunk` gives the trunk pseudo-field per direction. */
export function matchRule(
  rules: readonly CompiledRule[],
  fields: readonly string[],
  trunk: ((direction: Direction) => string) | null,
): CompiledRule | null {
  for (const rule of rules) {
    const value =
      rule.index >= 0
        ? (fields[rule.index] ?? "")
        : rule.index === -1 && trunk
          ? trunk(rule.direction)
          : null;
    if (value !== null && rule.re.test(value)) return rule;
  }
  return null;
}

/** The reject of a row no match rule claims. */
export function unknownPartner(record: SourceRecord, detail: string): ParsedRow {
  return {
    kind: "reject",
    line: record.line,
    raw: record.raw(),
    reason: "UNKNOWN_PARTNER",
    field: null,
    message: `no match rule claims this row (${detail})`,
  };
}

/** Parses a switch's wall-clock time to UTC epoch ms (NaN when malformed). */
export type TimeParser = (text: string) => number;

/** The parser of `YYYY-MM-DD HH:MM:SS` in the options' zone (UTC with `useGmtTime`). */
export function localTimeParser(options: MediationOptions): TimeParser {
  if (options.useGmtTime) return parseWallMs;
  const zone = zoneConverter(options.timeZone);
  return (text) => {
    const wall = parseWallMs(text);
    return wall === wall ? zone.toUtc(wall) : NaN;
  };
}

/** UTC epoch seconds (as a switch writes them: digits, optionally a fraction) to ms; NaN when malformed. */
export function parseEpochSeconds(text: string): number {
  if (!/^\d{1,12}(\.\d{1,6})?$/.test(text)) return NaN;
  const dot = text.indexOf(".");
  if (dot < 0) return Number(text) * 1000;
  const fraction = (text.slice(dot + 1) + "000").slice(0, 3);
  return Number(text.slice(0, dot)) * 1000 + Number(fraction);
}

/** A one-row-per-record handler from a function: the shape of most formats. */
export function perRecord(read: (record: SourceRecord) => ParsedRow | null): FormatHandler {
  return {
    record(record, out) {
      const row = read(record);
      if (row !== null) out.push(row);
    },
    flush() {},
  };
}

/** Splits a CSV line of a header (names, maybe quoted) for `looksLike` checks. */
export function headerNames(line: string): string[] {
  return line.split(",").map((name) => name.trim().replace(/^"|"$/g, "").trim().toLowerCase());
}

/** Counts the fields of a CSV line, honouring quotes (for `looksLike` checks). */
export function countCsvFields(line: string): number {
  let n = 1;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (c === 44 && !quoted) n++;
  }
  return n;
}
