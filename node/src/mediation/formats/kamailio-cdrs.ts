/**
 * Kamailio's dialog-based CDRs: rows of the acc module's `acc_cdrs` table, which it writes when a
 * dialog the dialog module tracks ends (`cdr_enable`; Kamailio 5.x `acc-create.sql`: `id,
 * start_time, end_time, duration`, plus the script's `cdr_extra` columns), as a CSV export with a
 * header or read from the table itself. One row is one call attempt. Columns by name, any order.
 *
 * The format expects `modparam("acc", "cdr_start_on_confirmed", 1)`: `start_time` is then the
 * answer and `duration` (seconds with milliseconds) the answered time, billed as whole seconds
 * rounded down as switches round billsec. (With Kamailio's default, 0, `start_time` is the
 * INVITE and `duration` includes the ringing; the rows do not say which, so the setting is a
 * requirement of this format.) A failed dialog (`cdr_on_failed`, the default) has `duration` 0.
 * A `sip_code` extra (e.g. a `$dlg_var` the script sets from the final reply) gives the attempt's
 * SIP code and disposition; without it a row is ANSWERED when its duration is above 0, FAILED
 * otherwise.
 *
 * The source key is the Call-ID (`cdr_extra` `callid=$ci`, one CDR per dialog), else the table's
 * `id`. Numbers, addresses and partners as in `kamailio-acc` (see ./kamailio.ts).
 */
import { dispositionOfSip } from "../signalling";
import type { MediatedCdr, MediationOptions, ParsedRow } from "../types";
import {
  MAX_KEY_CHARS,
  col,
  countCsvFields,
  headerNames,
  invalid,
  readNumbers,
  show,
  unknownPartner,
  type FormatDescriptor,
  type FormatHandler,
  type SourceRecord,
} from "./format";
import {
  HeaderIndex,
  KAMAILIO_EXTRAS,
  KAMAILIO_MATCH_FIELDS,
  KamailioRules,
  calledColumn,
  wallTimeParser,
} from "./kamailio";

/** The acc_cdrs table's own columns, then the extras this format reads. */
export const KAMAILIO_CDRS_COLUMNS = [
  "id",
  "start_time",
  "end_time",
  "duration",
  "callid",
  "sip_code",
  ...KAMAILIO_EXTRAS,
] as const;

const REQUIRED = ["start_time", "end_time", "duration", ["callid", "id"], ["dst_ouser", "dst_user"]];

/** Seconds as acc writes `duration` (a REAL: `3.005`, `0`). */
const SECONDS = /^\d{1,9}(\.\d{1,6})?$/;

class KamailioCdrsHandler implements FormatHandler {
  private header: HeaderIndex | null = null;
  private problem: { field: string | null; message: string } | null = null;
  private rules!: KamailioRules;
  private readonly wall: (text: string) => number;
  private idx = { id: -1, start: -1, end: -1, duration: -1, callid: -1, sipCode: -1, srcUser: -1 };

  constructor(private readonly options: MediationOptions) {
    KamailioRules.check(options, KAMAILIO_CDRS_COLUMNS);
    this.wall = wallTimeParser(options);
  }

  record(record: SourceRecord, out: ParsedRow[]): void {
    if (this.header === null) {
      this.readHeader(record);
      return;
    }
    out.push(
      this.problem !== null ? invalid(record, this.problem.field, this.problem.message) : this.read(record),
    );
  }

  flush(): void {}

  private readHeader(record: SourceRecord): void {
    const header = new HeaderIndex(record);
    this.header = header;
    const missing = header.missing(REQUIRED);
    if (missing.length > 0) {
      this.problem = {
        field: missing[0]!.split(" ")[0]!,
        message: `the header lacks the column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (acc_cdrs and the cdr_extra columns callid, src_user and dst_ouser)`,
      };
    }
    this.rules = new KamailioRules(this.options, header);
    this.idx = {
      id: header.of("id"),
      start: header.of("start_time"),
      end: header.of("end_time"),
      duration: header.of("duration"),
      callid: header.of("callid"),
      sipCode: header.of("sip_code"),
      srcUser: header.of("src_user"),
    };
  }

  private time(record: SourceRecord, index: number, field: string): number | ParsedRow {
    const text = col(record.fields, index);
    const ms = this.wall(text);
    return ms === ms
      ? ms
      : invalid(
          record,
          field,
          `${field} ${show(text)} is not a time (YYYY-MM-DD HH:MM:SS, as acc writes it)`,
        );
  }

  private read(record: SourceRecord): ParsedRow {
    const header = this.header!;
    const f = record.fields;
    const idx = this.idx;
    if (record.count !== header.names.length)
      return invalid(
        record,
        null,
        `row has ${record.count} fields but the header has ${header.names.length}`,
      );
    const key = this.key(record);
    if (typeof key !== "string") return key;
    const start = this.time(record, idx.start, "start_time");
    if (typeof start !== "number") return start;
    const end = this.time(record, idx.end, "end_time");
    if (typeof end !== "number") return end;
    const durationText = col(f, idx.duration);
    if (!SECONDS.test(durationText))
      return invalid(record, "duration", `duration ${show(durationText)} is not a number of seconds`);
    const seconds = Number(durationText);
    const codeText = col(f, idx.sipCode);
    let code: number | null = null;
    if (codeText !== "") {
      if (!/^[1-6]\d\d$/.test(codeText))
        return invalid(record, "sip_code", `sip_code ${show(codeText)} is not a SIP status code (100–699)`);
      code = Number(codeText);
    }
    const answered = code !== null ? code >= 200 && code < 300 : seconds > 0;
    if (!answered && seconds > 0)
      return invalid(
        record,
        "duration",
        `duration ${durationText} on an attempt whose sip_code ${code} says it was not answered`,
      );

    const called = calledColumn(header, f);
    const numbers = readNumbers(
      record,
      this.options.numbering,
      col(f, idx.srcUser),
      "src_user",
      called.text,
      called.field,
    );
    if ("kind" in numbers) return numbers;
    const rule = this.rules.match(f);
    if (rule === null) return unknownPartner(record, this.rules.describe(f));
    const trunk = this.rules.trunk(f, rule.direction);
    const cdr: MediatedCdr = {
      key,
      partner: rule.partner,
      direction: rule.direction,
      service: "voice",
      startMs: start,
      setupMs: start,
      answerMs: answered ? start : null,
      endMs: end,
      duration: answered ? Math.floor(seconds) : 0,
      totalSeconds: null,
      volume: 0,
      aNumber: numbers.aNumber,
      bNumber: numbers.bNumber,
      disposition: code !== null ? (dispositionOfSip(code) ?? "FAILED") : answered ? "ANSWERED" : "FAILED",
      trunk: trunk === "" ? null : trunk,
      sipCode: code,
      q850Cause: null,
      pddMs: null,
      warnings: numbers.warnings,
    };
    return { kind: "cdr", line: record.line, raw: record.raw(), cdr };
  }

  /** `kamcdr:<callid>`, else `kamcdr:id:<id>`. */
  private key(record: SourceRecord): string | ParsedRow {
    const callid = col(record.fields, this.idx.callid);
    if (callid.length > MAX_KEY_CHARS)
      return invalid(record, "callid", `callid is longer than ${MAX_KEY_CHARS} characters`);
    if (callid !== "") return `kamcdr:${callid}`;
    const id = col(record.fields, this.idx.id);
    if (!/^\d{1,19}$/.test(id)) {
      return invalid(
        record,
        this.idx.callid >= 0 ? "callid" : "id",
        `${this.idx.callid >= 0 ? "callid is empty and " : ""}id ${show(id)} is not a row id: the CDR has no key`,
      );
    }
    return `kamcdr:id:${id}`;
  }
}

export const kamailioCdrs: FormatDescriptor = {
  id: "kamailio-cdrs",
  label: "Kamailio acc_cdrs (dialog CDRs)",
  description:
    "Rows of Kamailio's acc_cdrs table, one per dialog (CSV with a header, or the table itself with --from postgres://), " +
    "written with cdr_start_on_confirmed 1: start_time the answer, duration the answered seconds; callid, src_user and " +
    "dst_ouser from cdr_extra; times in mediation.timeZone; partners by match rules as for kamailio-acc.",
  syntax: "csv",
  headerRows: 1,
  times: "local",
  partnerFromRow: false,
  columns: KAMAILIO_CDRS_COLUMNS,
  matchFields: KAMAILIO_MATCH_FIELDS,
  catchAllField: "start_time",
  sourceKey: "kamcdr:<callid> (cdr_extra callid=$ci), else kamcdr:id:<id>",
  fieldOf: {
    source_key: "callid",
    start_time: "start_time",
    setup_time: "start_time",
    answer_time: "start_time",
    end_time: "end_time",
    duration: "duration",
    a_number: "src_user",
    b_number: "dst_ouser",
    trunk: "dst_ip",
    sip_code: "sip_code",
  },
  create: (options) => new KamailioCdrsHandler(options),
  looksLike(lines) {
    const sample = lines.filter((line) => line.trim() !== "");
    const names = sample[0] === undefined ? [] : headerNames(sample[0]);
    return (
      ["start_time", "end_time", "duration"].every((name) => names.includes(name)) &&
      !names.includes("method") &&
      (sample[1] === undefined || countCsvFields(sample[1]) === names.length)
    );
  },
};
