/**
 * `icl-csv`: the project's own CDR file, one header row naming the columns (any order, names
 * trimmed and case-insensitive, extra columns ignored), times in ISO 8601. The required columns
 * say who and what; the optional ones carry the signalling facts a switch can give (answer and
 * end times, SIP code, Q.850 cause, post-dial delay, trunk) for quality and fraud statistics.
 */
import { parseIsoToUtcMs } from "../time";
import { dispositionOfQ850, dispositionOfSip } from "../signalling";
import type { Disposition, MediatedCdr, NumberingPlan, ParsedRow, Service } from "../types";
import {
  MAX_KEY_CHARS,
  PARTNER_ID,
  col,
  countCsvFields,
  headerNames,
  invalid,
  optionalInt,
  parseCount,
  readNumbers,
  show,
  type FormatDescriptor,
  type FormatHandler,
  type SourceRecord,
} from "./format";

/** The columns of `icl-csv` (and the keys of `icl-json`), required ones first. */
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
  "answer_time",
  "end_time",
  "sip_code",
  "q850_cause",
  "pdd_ms",
  "trunk",
] as const;
export type IclColumn = (typeof ICL_COLUMNS)[number];
export const ICL_REQUIRED = ["cdr_id", "partner", "direction", "start_time", "b_number"] as const;

/** Longest trunk name stored. */
const MAX_TRUNK_CHARS = 128;

/** Column positions (-1 when absent); a class so the hot path reads fixed-shape fields. */
export class IclColumns {
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
  answer_time = -1;
  end_time = -1;
  sip_code = -1;
  q850_cause = -1;
  pdd_ms = -1;
  trunk = -1;
}

/** The column positions of a header's names; the names that are required but absent. */
export function iclColumnsOf(names: readonly string[]): { idx: IclColumns; missing: string[] } {
  const idx = new IclColumns();
  const byName = idx as unknown as Record<string, number>;
  names.forEach((raw, i) => {
    const name = raw.trim().toLowerCase();
    if ((ICL_COLUMNS as readonly string[]).includes(name) && byName[name] === -1) byName[name] = i;
  });
  return { idx, missing: ICL_REQUIRED.filter((c) => idx[c] < 0) };
}

/**
 * Mediates one icl row (CSV fields, or the values of an `icl-json` object laid out in
 * {@link ICL_COLUMNS} order) into a CDR or a reject. `lastPartner` skips the partner-id regex for
 * a repeat of the last valid id (files hold few partners).
 */
export class IclRowReader {
  private lastPartner: string | null = null;

  constructor(private readonly plan: NumberingPlan) {}

  read(record: SourceRecord, idx: IclColumns): ParsedRow {
    const f = record.fields;
    const cdrId = col(f, idx.cdr_id);
    if (cdrId.length === 0) return invalid(record, "cdr_id", "cdr_id is empty");
    if (cdrId.length > MAX_KEY_CHARS)
      return invalid(record, "cdr_id", `cdr_id is longer than ${MAX_KEY_CHARS} characters`);
    const partner = col(f, idx.partner);
    if (partner !== this.lastPartner && !PARTNER_ID.test(partner)) {
      return invalid(
        record,
        "partner",
        `partner ${show(partner)} is not a partner id (letter or digit, then letters, digits, '_', '.', '-'; at most 64)`,
      );
    }
    let direction = col(f, idx.direction);
    if (direction !== "out" && direction !== "in") {
      const given = direction;
      direction = direction.toLowerCase();
      if (direction !== "out" && direction !== "in") {
        return invalid(record, "direction", `direction ${show(given)} is neither 'out' nor 'in'`);
      }
    }
    let service = col(f, idx.service);
    if (service === "") service = "voice";
    else if (service !== "voice" && service !== "sms" && service !== "data") {
      const given = service;
      service = service.toLowerCase();
      if (service !== "voice" && service !== "sms" && service !== "data") {
        return invalid(record, "service", `service ${show(given)} is not voice, sms or data`);
      }
    }
    const startText = col(f, idx.start_time);
    const setupMs = parseIsoToUtcMs(startText);
    if (setupMs === null) {
      return invalid(record, "start_time", `start_time ${show(startText)} is not an ISO 8601 date-time`);
    }
    const durationText = col(f, idx.duration);
    const duration = durationText === "" ? 0 : parseCount(durationText);
    if (duration < 0) {
      return invalid(record, "duration", `duration ${show(durationText)} is not a whole number of seconds`);
    }
    const volumeText = col(f, idx.volume);
    let volume = volumeText === "" ? (service === "sms" ? 1 : 0) : parseCount(volumeText);
    if (volume < 0) {
      return invalid(
        record,
        "volume",
        `volume ${show(volumeText)} is not a whole number of messages or bytes`,
      );
    }
    if (service === "voice") volume = 0;
    const numbers = readNumbers(
      record,
      this.plan,
      col(f, idx.a_number),
      "a_number",
      col(f, idx.b_number),
      "b_number",
    );
    if ("kind" in numbers) return numbers;

    // The optional signalling columns: absent in most files, so each costs one index test.
    let answerMs: number | null = null;
    let endMs: number | null = null;
    let sipCode: number | null = null;
    let q850Cause: number | null = null;
    let pddMs: number | null = null;
    let trunk: string | null = null;
    if (idx.answer_time >= 0) {
      const text = col(f, idx.answer_time);
      if (text !== "") {
        answerMs = parseIsoToUtcMs(text);
        if (answerMs === null)
          return invalid(record, "answer_time", `answer_time ${show(text)} is not an ISO 8601 date-time`);
      }
    }
    if (idx.end_time >= 0) {
      const text = col(f, idx.end_time);
      if (text !== "") {
        endMs = parseIsoToUtcMs(text);
        if (endMs === null)
          return invalid(record, "end_time", `end_time ${show(text)} is not an ISO 8601 date-time`);
      }
    }
    if (idx.sip_code >= 0) {
      sipCode = optionalInt(col(f, idx.sip_code), 100, 699);
      if (sipCode !== sipCode)
        return invalid(
          record,
          "sip_code",
          `sip_code ${show(col(f, idx.sip_code))} is not a SIP code (100–699)`,
        );
    }
    if (idx.q850_cause >= 0) {
      q850Cause = optionalInt(col(f, idx.q850_cause), 0, 127);
      if (q850Cause !== q850Cause)
        return invalid(
          record,
          "q850_cause",
          `q850_cause ${show(col(f, idx.q850_cause))} is not a Q.850 cause (0–127)`,
        );
    }
    if (idx.pdd_ms >= 0) {
      pddMs = optionalInt(col(f, idx.pdd_ms), 0, 3_600_000);
      if (pddMs !== pddMs)
        return invalid(
          record,
          "pdd_ms",
          `pdd_ms ${show(col(f, idx.pdd_ms))} is not a whole number of milliseconds (at most an hour)`,
        );
    }
    if (idx.trunk >= 0) {
      const text = col(f, idx.trunk);
      if (text.length > MAX_TRUNK_CHARS)
        return invalid(record, "trunk", `trunk is longer than ${MAX_TRUNK_CHARS} characters`);
      trunk = text === "" ? null : text;
    }

    const dispText = col(f, idx.disposition);
    let disposition: Disposition | null;
    if (dispText !== "") disposition = iclDisposition(dispText);
    else if (sipCode !== null && sipCode >= 200) disposition = dispositionOfSip(sipCode);
    else if (q850Cause !== null) disposition = dispositionOfQ850(q850Cause, answerMs !== null);
    else disposition = "ANSWERED";
    if (disposition === null) {
      return invalid(
        record,
        "disposition",
        `disposition ${show(dispText)} is not ANSWERED, NO_ANSWER, BUSY, FAILED, CONGESTION or CANCEL`,
      );
    }
    this.lastPartner = partner;
    const answered = disposition === "ANSWERED";
    const cdr: MediatedCdr = {
      key: "icl:" + cdrId,
      partner,
      direction: direction as "in" | "out",
      service: service as Service,
      // With an answer time, start_time is the attempt's start and billing starts at the answer.
      startMs: answered && answerMs !== null ? answerMs : setupMs,
      setupMs,
      answerMs: answerMs ?? (answered && idx.answer_time < 0 ? setupMs : null),
      endMs,
      duration,
      totalSeconds: null,
      volume,
      aNumber: numbers.aNumber,
      bNumber: numbers.bNumber,
      disposition,
      trunk,
      sipCode,
      q850Cause,
      pddMs,
      warnings: numbers.warnings,
    };
    return { kind: "cdr", line: record.line, raw: record.raw(), cdr };
  }
}

/** The disposition words icl files use (any case; `NO ANSWER` as Asterisk writes it). */
export function iclDisposition(text: string): Disposition | null {
  switch (text) {
    case "ANSWERED":
    case "NO_ANSWER":
    case "BUSY":
    case "FAILED":
    case "CONGESTION":
    case "CANCEL":
      return text;
    default: {
      const upper = text.toUpperCase();
      if (upper === "NO ANSWER") return "NO_ANSWER";
      if (upper === "CANCELLED" || upper === "CANCELED") return "CANCEL";
      return upper !== text ? iclDisposition(upper) : null;
    }
  }
}

class IclCsvHandler implements FormatHandler {
  private idx: IclColumns | null = null;
  private headerCount = 0;
  private missing: string[] = [];
  private readonly rows: IclRowReader;

  constructor(plan: NumberingPlan) {
    this.rows = new IclRowReader(plan);
  }

  record(record: SourceRecord, out: ParsedRow[]): void {
    const idx = this.idx;
    if (idx === null) {
      const { idx: header, missing } = iclColumnsOf(record.fields.slice(0, record.count));
      this.idx = header;
      this.headerCount = record.count;
      this.missing = missing;
      return;
    }
    const missing = this.missing[0];
    if (missing !== undefined) {
      out.push(
        invalid(
          record,
          missing,
          `the header lacks the required column${this.missing.length > 1 ? "s" : ""} ${this.missing.join(", ")}`,
        ),
      );
      return;
    }
    if (record.count !== this.headerCount) {
      out.push(
        invalid(record, null, `row has ${record.count} fields but the header has ${this.headerCount}`),
      );
      return;
    }
    out.push(this.rows.read(record, idx));
  }

  flush(): void {}
}

export const iclCsv: FormatDescriptor = {
  id: "icl-csv",
  label: "icl-csv (the node's own CSV)",
  description:
    "A header row naming the columns (any order), one CDR per row, ISO 8601 times. Required: " +
    `${ICL_REQUIRED.join(", ")}; optional: service, duration, volume, a_number, disposition, answer_time, ` +
    "end_time, sip_code, q850_cause, pdd_ms, trunk. With answer_time, start_time is the attempt's start.",
  syntax: "csv",
  headerRows: 1,
  times: "iso",
  partnerFromRow: true,
  columns: ICL_COLUMNS,
  matchFields: ["partner"],
  catchAllField: "partner",
  sourceKey: "icl:<cdr_id>",
  fieldOf: {
    source_key: "cdr_id",
    start_time: "start_time",
    setup_time: "start_time",
    answer_time: "answer_time",
    end_time: "end_time",
    duration: "duration",
    volume: "volume",
    a_number: "a_number",
    b_number: "b_number",
    trunk: "trunk",
    sip_code: "sip_code",
    q850_cause: "q850_cause",
    pdd_ms: "pdd_ms",
  },
  create: (options) => new IclCsvHandler(options.numbering),
  looksLike(lines) {
    const first = lines.find((line) => line.trim() !== "");
    if (first === undefined) return false;
    const names = headerNames(first);
    return ICL_REQUIRED.every((name) => names.includes(name)) && countCsvFields(first) === names.length;
  },
};
