import { createHash } from "node:crypto";
import { InputError } from "../errors";
import type { CsvRecordReader } from "./csv-reader";
import { normaliseNumber } from "./numbers";
import { parseIsoToUtcMs, parseWallMs, zoneConverter, type ZoneConverter } from "./time";
import type {
  CdrFormat,
  Direction,
  Disposition,
  MatchRule,
  MediatedCdr,
  MediationOptions,
  NumberingPlan,
  ParsedRow,
  Service,
} from "./types";

/** Turns one CSV record into a ParsedRow; null when the record is not a row (the icl-csv header). */
export interface FormatHandler {
  record(reader: CsvRecordReader): ParsedRow | null;
}

/** Columns of the canonical `icl-csv` format. */
export const ICL_COLUMNS = [
  "cdr_id",
  "partner",
  "direction",
  "service",
  "start_time",
  "duration",
  "volume",
  "a_number",
  "b_number",
  "disposition",
] as const;
export const ICL_REQUIRED = ["cdr_id", "partner", "direction", "start_time", "b_number"] as const;

/** Asterisk `cdr_csv` Master.csv columns: 16 default, +uniqueid,userfield (18), +peeraccount,linkedid,sequence (21). */
export const ASTERISK_COLUMNS = [
  "accountcode",
  "src",
  "dst",
  "dcontext",
  "clid",
  "channel",
  "dstchannel",
  "lastapp",
  "lastdata",
  "start",
  "answer",
  "end",
  "duration",
  "billsec",
  "disposition",
  "amaflags",
  "uniqueid",
  "userfield",
  "peeraccount",
  "linkedid",
  "sequence",
] as const;

/** FreeSWITCH `mod_cdr_csv` `example` template columns (the 13-column fallback drops the codecs). */
export const FREESWITCH_COLUMNS = [
  "caller_id_name",
  "caller_id_number",
  "destination_number",
  "context",
  "start_stamp",
  "answer_stamp",
  "end_stamp",
  "duration",
  "billsec",
  "hangup_cause",
  "uuid",
  "bleg_uuid",
  "accountcode",
  "read_codec",
  "write_codec",
] as const;

const PARTNER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const MAX_KEY_CHARS = 256;

/** Quotes a value for a message, shortened so messages stay readable. */
function show(value: string): string {
  return `'${value.length > 80 ? `${value.slice(0, 80)}…` : value}'`;
}

function invalid(reader: CsvRecordReader, field: string | null, message: string): ParsedRow {
  return { kind: "reject", line: reader.line, raw: reader.raw(), reason: "INVALID", field, message };
}

/** Trims only when needed (the common value has no surrounding whitespace). */
function clean(value: string | undefined): string {
  if (value === undefined) return "";
  const n = value.length;
  return n === 0 || (value.charCodeAt(0) > 32 && value.charCodeAt(n - 1) > 32) ? value : value.trim();
}

/** Field `i` of the record, cleaned; "" when the column is absent (i < 0). */
function col(fields: readonly string[], i: number): string {
  return i < 0 ? "" : clean(fields[i]);
}

/** Non-negative decimal integer (at most 15 digits), or -1. */
function parseCount(text: string): number {
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

function numberMessage(field: string, value: string): string {
  return `${field} ${show(value)} is not a phone number (E.164 needs 1–15 digits, optionally written with +, 00 or the national prefix)`;
}

interface CompiledRule {
  partner: string;
  direction: Direction;
  /** Column index; -1 for the `trunk` pseudo-field; -2 for a field the format does not have (never matches). */
  index: number;
  re: RegExp;
}

/** Compiles match rules once; an invalid pattern is a configuration error (InputError). */
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

/** Peer name of an Asterisk channel: `SIP/globex-0000001a` → `globex`, `IAX2/peer-123` → `peer`. */
export function channelPeer(channel: string): string {
  const slash = channel.indexOf("/");
  if (slash < 0) return "";
  const dash = channel.lastIndexOf("-");
  return dash > slash ? channel.slice(slash + 1, dash) : channel.slice(slash + 1);
}

type TimeParser = (text: string) => number;

function localTimeParser(options: MediationOptions): TimeParser {
  if (options.useGmtTime) return parseWallMs;
  const zone: ZoneConverter = zoneConverter(options.timeZone);
  return (text) => {
    const wall = parseWallMs(text);
    return wall === wall ? zone.toUtc(wall) : NaN;
  };
}

/** Column positions of an icl-csv header (-1 when absent); a class so the hot path reads fixed-shape fields. */
class IclColumns {
  cdr_id = -1;
  partner = -1;
  direction = -1;
  service = -1;
  start_time = -1;
  duration = -1;
  volume = -1;
  a_number = -1;
  b_number = -1;
  disposition = -1;
}

class IclHandler implements FormatHandler {
  private idx: IclColumns | null = null;
  private lastPartner: string | null = null;
  private headerCount = 0;
  private missing: string[] = [];

  constructor(private readonly plan: NumberingPlan) {}

  private setHeader(reader: CsvRecordReader): void {
    const idx = new IclColumns();
    const byName = idx as unknown as Record<string, number>;
    for (let i = 0; i < reader.count; i++) {
      const name = (reader.fields[i] ?? "").trim().toLowerCase();
      if ((ICL_COLUMNS as readonly string[]).includes(name) && byName[name] === -1) byName[name] = i;
    }
    this.idx = idx;
    this.headerCount = reader.count;
    this.missing = ICL_REQUIRED.filter((c) => idx[c] < 0);
  }

  record(reader: CsvRecordReader): ParsedRow | null {
    const idx = this.idx;
    if (idx === null) {
      this.setHeader(reader);
      return null;
    }
    const missing = this.missing[0];
    if (missing !== undefined) {
      return invalid(
        reader,
        missing,
        `the header lacks the required column${this.missing.length > 1 ? "s" : ""} ${this.missing.join(", ")}`,
      );
    }
    const f = reader.fields;
    if (reader.count !== this.headerCount) {
      return invalid(reader, null, `row has ${reader.count} fields but the header has ${this.headerCount}`);
    }
    const cdrId = col(f, idx.cdr_id);
    if (cdrId.length === 0) return invalid(reader, "cdr_id", "cdr_id is empty");
    if (cdrId.length > MAX_KEY_CHARS)
      return invalid(reader, "cdr_id", `cdr_id is longer than ${MAX_KEY_CHARS} characters`);
    const partner = col(f, idx.partner);
    // Files hold few partners: skip the regex when the id equals the last valid one.
    if (partner !== this.lastPartner && !PARTNER_ID.test(partner)) {
      return invalid(
        reader,
        "partner",
        `partner ${show(partner)} is not a partner id (letter or digit, then letters, digits, '_', '.', '-'; at most 64)`,
      );
    }
    let direction = col(f, idx.direction);
    if (direction !== "out" && direction !== "in") {
      const given = direction;
      direction = direction.toLowerCase();
      if (direction !== "out" && direction !== "in") {
        return invalid(reader, "direction", `direction ${show(given)} is neither 'out' nor 'in'`);
      }
    }
    let service = col(f, idx.service);
    if (service === "") service = "voice";
    else if (service !== "voice" && service !== "sms" && service !== "data") {
      const given = service;
      service = service.toLowerCase();
      if (service !== "voice" && service !== "sms" && service !== "data") {
        return invalid(reader, "service", `service ${show(given)} is not voice, sms or data`);
      }
    }
    const startText = col(f, idx.start_time);
    const startMs = parseIsoToUtcMs(startText);
    if (startMs === null) {
      return invalid(reader, "start_time", `start_time ${show(startText)} is not an ISO 8601 date-time`);
    }
    const durationText = col(f, idx.duration);
    const duration = durationText === "" ? 0 : parseCount(durationText);
    if (duration < 0) {
      return invalid(reader, "duration", `duration ${show(durationText)} is not a whole number of seconds`);
    }
    const volumeText = col(f, idx.volume);
    let volume = volumeText === "" ? (service === "sms" ? 1 : 0) : parseCount(volumeText);
    if (volume < 0) {
      return invalid(
        reader,
        "volume",
        `volume ${show(volumeText)} is not a whole number of messages or bytes`,
      );
    }
    if (service === "voice") volume = 0;
    const aText = col(f, idx.a_number);
    let aNumber = "";
    if (aText !== "") {
      const a = normaliseNumber(aText, this.plan);
      if (a === null) return invalid(reader, "a_number", numberMessage("a_number", aText));
      aNumber = a;
    }
    const bText = col(f, idx.b_number);
    if (bText === "") return invalid(reader, "b_number", "b_number is empty");
    const bNumber = normaliseNumber(bText, this.plan);
    if (bNumber === null) return invalid(reader, "b_number", numberMessage("b_number", bText));
    const dispText = col(f, idx.disposition);
    const disposition = dispText === "" ? "ANSWERED" : iclDisposition(dispText);
    if (disposition === null) {
      return invalid(
        reader,
        "disposition",
        `disposition ${show(dispText)} is not ANSWERED, NO_ANSWER, BUSY or FAILED`,
      );
    }
    this.lastPartner = partner;
    const cdr: MediatedCdr = {
      key: "icl:" + cdrId,
      partner,
      direction: direction as Direction,
      service: service as Service,
      startMs,
      duration,
      volume,
      aNumber,
      bNumber,
      disposition,
    };
    return { kind: "cdr", line: reader.line, raw: reader.raw(), cdr };
  }
}

function iclDisposition(text: string): Disposition | null {
  switch (text) {
    case "ANSWERED":
    case "NO_ANSWER":
    case "BUSY":
    case "FAILED":
      return text;
    default: {
      const upper = text.toUpperCase();
      if (upper === "NO ANSWER") return "NO_ANSWER";
      return upper !== text ? iclDisposition(upper) : null;
    }
  }
}

function matchRule(
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

function unknownPartner(reader: CsvRecordReader, detail: string): ParsedRow {
  return {
    kind: "reject",
    line: reader.line,
    raw: reader.raw(),
    reason: "UNKNOWN_PARTNER",
    field: null,
    message: `no match rule claims this row (${detail})`,
  };
}

class AsteriskHandler implements FormatHandler {
  private readonly rules: CompiledRule[];
  private readonly time: TimeParser;
  private fields: readonly string[] = [];
  private readonly trunk = (direction: Direction): string =>
    channelPeer((direction === "out" ? this.fields[6] : this.fields[5]) ?? "");

  constructor(
    private readonly options: MediationOptions,
    rules: CompiledRule[],
  ) {
    this.rules = rules;
    this.time = localTimeParser(options);
  }

  record(reader: CsvRecordReader): ParsedRow | null {
    const n = reader.count;
    if (n !== 16 && n !== 18 && n !== 21) {
      return invalid(reader, null, `row has ${n} columns; Asterisk Master.csv rows have 16, 18 or 21`);
    }
    const f = reader.fields;
    const startText = f[9] ?? "";
    const start = this.time(startText);
    if (start !== start)
      return invalid(reader, "start", `start ${show(startText)} is not a YYYY-MM-DD HH:MM:SS time`);
    const answerText = f[10] ?? "";
    const answer = answerText === "" ? start : this.time(answerText);
    if (answer !== answer) {
      return invalid(reader, "answer", `answer ${show(answerText)} is not a YYYY-MM-DD HH:MM:SS time`);
    }
    const endText = f[11] ?? "";
    const end = endText === "" ? 0 : this.time(endText);
    if (end !== end) {
      return invalid(reader, "end", `end ${show(endText)} is not a YYYY-MM-DD HH:MM:SS time`);
    }
    const durationText = clean(f[12]);
    if (parseCount(durationText) < 0) {
      return invalid(reader, "duration", `duration ${show(durationText)} is not a whole number of seconds`);
    }
    const billsecText = clean(f[13]);
    const billsec = parseCount(billsecText);
    if (billsec < 0) {
      return invalid(reader, "billsec", `billsec ${show(billsecText)} is not a whole number of seconds`);
    }
    const dispText = f[14] ?? "";
    const disposition = asteriskDisposition(dispText);
    if (disposition === null) {
      return invalid(
        reader,
        "disposition",
        `disposition ${show(dispText)} is not ANSWERED, NO ANSWER, BUSY, FAILED or CONGESTION`,
      );
    }
    const src = f[1] ?? "";
    let aNumber = "";
    if (clean(src) !== "") {
      const a = normaliseNumber(src, this.options.numbering);
      if (a === null) return invalid(reader, "src", numberMessage("src", src));
      aNumber = a;
    }
    const dst = f[2] ?? "";
    if (clean(dst) === "") return invalid(reader, "dst", "dst is empty");
    const bNumber = normaliseNumber(dst, this.options.numbering);
    if (bNumber === null) return invalid(reader, "dst", numberMessage("dst", dst));
    this.fields = f;
    const rule = matchRule(this.rules, f, this.trunk);
    if (rule === null) {
      return unknownPartner(reader, `channel ${show(f[5] ?? "")}, dstchannel ${show(f[6] ?? "")}`);
    }
    const uniqueid = n >= 18 ? (f[16] ?? "") : "";
    const key =
      uniqueid !== "" ? "ast:" + uniqueid : "ast:" + createHash("sha1").update(reader.text()).digest("hex");
    const cdr: MediatedCdr = {
      key,
      partner: rule.partner,
      direction: rule.direction,
      service: "voice",
      startMs: answer,
      duration: billsec,
      volume: 0,
      aNumber,
      bNumber,
      disposition,
    };
    return { kind: "cdr", line: reader.line, raw: reader.raw(), cdr };
  }
}

function asteriskDisposition(text: string): Disposition | null {
  if (text === "ANSWERED") return "ANSWERED";
  switch (clean(text).toUpperCase()) {
    case "ANSWERED":
      return "ANSWERED";
    case "NO ANSWER":
    case "NO_ANSWER":
      return "NO_ANSWER";
    case "BUSY":
      return "BUSY";
    case "FAILED":
    case "CONGESTION":
      return "FAILED";
    default:
      return null;
  }
}

class FreeswitchHandler implements FormatHandler {
  private readonly time: TimeParser;

  constructor(
    private readonly options: MediationOptions,
    private readonly rules: CompiledRule[],
  ) {
    this.time = localTimeParser(options);
  }

  record(reader: CsvRecordReader): ParsedRow | null {
    const n = reader.count;
    if (n !== 13 && n !== 15) {
      return invalid(reader, null, `row has ${n} columns; FreeSWITCH example-template rows have 13 or 15`);
    }
    const f = reader.fields;
    const startText = f[4] ?? "";
    const start = this.time(startText);
    if (start !== start) {
      return invalid(
        reader,
        "start_stamp",
        `start_stamp ${show(startText)} is not a YYYY-MM-DD HH:MM:SS time`,
      );
    }
    const answerText = f[5] ?? "";
    const answered = answerText !== "";
    const answer = answered ? this.time(answerText) : start;
    if (answer !== answer) {
      return invalid(
        reader,
        "answer_stamp",
        `answer_stamp ${show(answerText)} is not a YYYY-MM-DD HH:MM:SS time`,
      );
    }
    const endText = f[6] ?? "";
    const end = endText === "" ? 0 : this.time(endText);
    if (end !== end) {
      return invalid(reader, "end_stamp", `end_stamp ${show(endText)} is not a YYYY-MM-DD HH:MM:SS time`);
    }
    const durationText = clean(f[7]);
    if (parseCount(durationText) < 0) {
      return invalid(reader, "duration", `duration ${show(durationText)} is not a whole number of seconds`);
    }
    const billsecText = clean(f[8]);
    const billsec = parseCount(billsecText);
    if (billsec < 0) {
      return invalid(reader, "billsec", `billsec ${show(billsecText)} is not a whole number of seconds`);
    }
    if (!answered && billsec > 0) {
      return invalid(
        reader,
        "billsec",
        `billsec ${billsec} but answer_stamp is empty (an unanswered call bills nothing)`,
      );
    }
    const cause = clean(f[9]);
    const disposition = answered ? "ANSWERED" : freeswitchDisposition(cause);
    const uuid = clean(f[10]);
    if (uuid === "") return invalid(reader, "uuid", "uuid is empty");
    if (uuid.length > MAX_KEY_CHARS)
      return invalid(reader, "uuid", `uuid is longer than ${MAX_KEY_CHARS} characters`);
    const src = f[1] ?? "";
    let aNumber = "";
    if (clean(src) !== "") {
      const a = normaliseNumber(src, this.options.numbering);
      if (a === null) return invalid(reader, "caller_id_number", numberMessage("caller_id_number", src));
      aNumber = a;
    }
    const dst = f[2] ?? "";
    if (clean(dst) === "") return invalid(reader, "destination_number", "destination_number is empty");
    const bNumber = normaliseNumber(dst, this.options.numbering);
    if (bNumber === null)
      return invalid(reader, "destination_number", numberMessage("destination_number", dst));
    const rule = matchRule(this.rules, f, null);
    if (rule === null) {
      return unknownPartner(reader, `context ${show(f[3] ?? "")}, accountcode ${show(f[12] ?? "")}`);
    }
    const cdr: MediatedCdr = {
      key: "fs:" + uuid,
      partner: rule.partner,
      direction: rule.direction,
      service: "voice",
      startMs: answer,
      duration: answered ? billsec : 0,
      volume: 0,
      aNumber,
      bNumber,
      disposition,
    };
    return { kind: "cdr", line: reader.line, raw: reader.raw(), cdr };
  }
}

/** Disposition of an unanswered FreeSWITCH call from its hangup cause. */
function freeswitchDisposition(cause: string): Disposition {
  switch (cause.toUpperCase()) {
    case "USER_BUSY":
      return "BUSY";
    case "NO_ANSWER":
    case "NO_USER_RESPONSE":
    case "ORIGINATOR_CANCEL":
    case "ALLOTTED_TIMEOUT":
      return "NO_ANSWER";
    default:
      return "FAILED";
  }
}

/**
 * Builds the handler of a format, validating configuration up front: an invalid match-rule regex
 * or an unknown time zone (switch formats, unless `useGmtTime`) throws InputError.
 */
export function createHandler(format: CdrFormat, options: MediationOptions): FormatHandler {
  switch (format) {
    case "icl-csv":
      return new IclHandler(options.numbering);
    case "asterisk":
      return new AsteriskHandler(
        options,
        compileRules(options.matchRules, ASTERISK_COLUMNS, options.fileName, true),
      );
    case "freeswitch":
      return new FreeswitchHandler(
        options,
        compileRules(options.matchRules, FREESWITCH_COLUMNS, options.fileName, false),
      );
    default:
      throw new InputError(
        `unknown CDR format '${String(format)}' (expected icl-csv, asterisk or freeswitch)`,
        {
          file: options.fileName,
        },
      );
  }
}
