/**
 * `icl-json`: one JSON object per CDR with icl-csv's column names as keys (the streaming format:
 * one object per line of a file, or one per message on a NATS JetStream subject). Values may be
 * strings or numbers; unknown keys are ignored; a missing key is an empty column.
 */
import type { ParsedRow } from "../types";
import { ICL_COLUMNS, ICL_REQUIRED, IclRowReader, iclColumnsOf, iclCsv, type IclColumns } from "./icl-csv";
import { invalid, type FormatDescriptor, type FormatHandler, type SourceRecord } from "./format";

/** The longest JSON text of one CDR read. */
const MAX_JSON_CHARS = 16_384;

/** An icl-json object laid out as the fields of an icl-csv row in {@link ICL_COLUMNS} order. */
class JsonRecord implements SourceRecord {
  readonly fields: string[] = new Array<string>(ICL_COLUMNS.length).fill("");
  readonly count = ICL_COLUMNS.length;
  line = 0;
  private source = "";

  set(line: number, text: string, object: Record<string, unknown>): void {
    this.line = line;
    this.source = text;
    for (let i = 0; i < ICL_COLUMNS.length; i++) {
      const value = object[ICL_COLUMNS[i]!];
      this.fields[i] =
        typeof value === "string"
          ? value
          : typeof value === "number" || typeof value === "bigint"
            ? String(value)
            : "";
    }
  }

  raw(): string {
    return this.source.length > 2048 ? this.source.slice(0, 2048) : this.source;
  }

  text(): string {
    return this.source;
  }
}

/** Which key holds a value that is neither a string, a number nor null. */
function badValue(object: Record<string, unknown>): string | null {
  for (const name of ICL_COLUMNS) {
    const value = object[name];
    if (value !== undefined && value !== null && typeof value !== "string" && typeof value !== "number")
      return name;
  }
  return null;
}

class IclJsonHandler implements FormatHandler {
  private readonly idx: IclColumns = iclColumnsOf(ICL_COLUMNS).idx;
  private readonly rows: IclRowReader;
  private readonly json = new JsonRecord();

  constructor(options: Parameters<FormatDescriptor["create"]>[0]) {
    this.rows = new IclRowReader(options.numbering);
  }

  record(record: SourceRecord, out: ParsedRow[]): void {
    const text = record.fields[0] ?? "";
    if (text.length > MAX_JSON_CHARS) {
      out.push(invalid(record, null, `the JSON object is longer than ${MAX_JSON_CHARS} characters`));
      return;
    }
    let object: unknown;
    try {
      object = JSON.parse(text);
    } catch (error) {
      out.push(invalid(record, null, `not JSON: ${(error as Error).message}`));
      return;
    }
    if (typeof object !== "object" || object === null || Array.isArray(object)) {
      out.push(invalid(record, null, "not a JSON object (one CDR object per line or message)"));
      return;
    }
    const values = object as Record<string, unknown>;
    const wrong = badValue(values);
    if (wrong !== null) {
      out.push(invalid(record, wrong, `${wrong} must be a string or a number`));
      return;
    }
    for (const name of ICL_REQUIRED) {
      if (values[name] === undefined || values[name] === null) {
        out.push(invalid(record, name, `the object has no ${name}`));
        return;
      }
    }
    this.json.set(record.line, text, values);
    out.push(this.rows.read(this.json, this.idx));
  }

  flush(): void {}
}

export const iclJson: FormatDescriptor = {
  id: "icl-json",
  label: "icl-json (one JSON object per CDR)",
  description:
    "One JSON object per line (a file) or per message (a NATS JetStream subject), with icl-csv's column " +
    "names as keys; the streaming format.",
  syntax: "ndjson",
  headerRows: 0,
  times: "iso",
  partnerFromRow: true,
  columns: ICL_COLUMNS,
  matchFields: ["partner"],
  catchAllField: "partner",
  sourceKey: "icl:<cdr_id> (the same key as icl-csv: a CDR sent both ways is one CDR)",
  // The same names as icl-csv: a field the database refuses is named the same in both.
  fieldOf: iclCsv.fieldOf,

  create: (options) => new IclJsonHandler(options),
  looksLike(lines) {
    const first = lines.find((line) => line.trim() !== "");
    if (first === undefined || !first.trim().startsWith("{")) return false;
    try {
      const object = JSON.parse(first) as Record<string, unknown>;
      return typeof object === "object" && object !== null && "cdr_id" in object;
    } catch {
      return false;
    }
  },
};
