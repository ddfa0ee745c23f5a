/**
 * Kamailio's transaction accounting: rows of the acc module's `acc` and `missed_calls` tables
 * (Kamailio 5.x `acc-create.sql`: `id, method, from_tag, to_tag, callid, sip_code, sip_reason,
 * time`, plus the script's `db_extra` columns), as a CSV export with a header or read from the
 * table itself. Columns are read by name, in any order.
 *
 * acc accounts transactions, not calls: an answered call is an `INVITE` row with a 2xx code (its
 * `time` is when the 200 OK went through: the answer) and, later, a `BYE` row (the end). The rows
 * are paired by Call-ID and the two tags (in either order: without `detect_direction` a BYE from
 * the callee has them swapped); the call is the INVITE's row, its length the BYE's time minus the
 * INVITE's (whole seconds, rounded down as Asterisk and FreeSWITCH round billsec), and the BYE's
 * row is `OTHER_LEG`. An INVITE row with a final code of 300 or more (`failed_transaction_flag`, or
 * any row of `missed_calls`) is an unanswered attempt with that SIP code; the same attempt in both
 * tables has the same key, so a union of the two keeps one. A `MESSAGE` row is an SMS.
 *
 * Re-INVITEs, provisional (1xx, `early_media`) rows, `ACK` and `CANCEL` rows are other records of
 * a call recorded by its INVITE (`OTHER_LEG`); other methods (REGISTER, OPTIONS, …) are not
 * traffic (`INVALID`, naming `method`). A BYE with no answered INVITE before it in the source is
 * `INVALID`: its call cannot be priced. An answered INVITE is held until its BYE; one whose BYE
 * has not come within {@link MAX_CALL_HOLD_MS} of the source's newest row, or by the end of a
 * file, is `INVALID` ("no BYE"): its length is unknown. A table is read as it grows, so a call
 * still up when a read ends stays held (the ingest's checkpoint stays below it) and is paired on
 * the next read.
 */
import { dispositionOfSip } from "../signalling";
import type { MediatedCdr, MediationOptions, ParsedRow, Service } from "../types";
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
  RowTime,
  calledColumn,
} from "./kamailio";

/** The acc table's own columns, then the extras this format reads. */
export const KAMAILIO_ACC_COLUMNS = [
  "id",
  "method",
  "from_tag",
  "to_tag",
  "callid",
  "sip_code",
  "sip_reason",
  "time",
  ...KAMAILIO_EXTRAS,
] as const;

/** An answered INVITE waits this long (in the source's own time) for its BYE. */
export const MAX_CALL_HOLD_MS = 24 * 3_600_000;

/** Rejected dialogs remembered for their BYE (oldest forgotten first). */
const MAX_REFUSED = 100_000;

const REQUIRED = [
  "method",
  "from_tag",
  "to_tag",
  "callid",
  "sip_code",
  ["time", "time_attr"],
  ["dst_ouser", "dst_user"],
];

/** An answered INVITE waiting for its BYE. */
interface OpenCall {
  line: number;
  raw: string;
  cdr: MediatedCdr;
}

class KamailioAccHandler implements FormatHandler {
  private header: HeaderIndex | null = null;
  private problem: { field: string | null; message: string } | null = null;
  private rules!: KamailioRules;
  private time!: RowTime;
  private idx = { method: -1, fromTag: -1, toTag: -1, callid: -1, sipCode: -1, srcUser: -1 };
  /** Open calls by dialog (Call-ID and both tags), oldest first. */
  private readonly open = new Map<string, OpenCall>();
  /** Answered INVITEs that were rejected, by dialog → line, so their BYE says so. */
  private readonly refused = new Map<string, number>();
  /** Newest row time seen, for expiring calls whose BYE never comes. */
  private newestMs = -Infinity;

  constructor(private readonly options: MediationOptions) {
    KamailioRules.check(options, KAMAILIO_ACC_COLUMNS);
  }

  record(record: SourceRecord, out: ParsedRow[]): void {
    if (this.header === null) {
      this.readHeader(record);
      return;
    }
    if (this.problem !== null) {
      out.push(invalid(record, this.problem.field, this.problem.message));
      return;
    }
    this.read(record, out);
  }

  flush(out: ParsedRow[]): void {
    for (const call of this.open.values()) out.push(this.noBye(call, "by the end of the input"));
    this.open.clear();
  }

  lowestHeldLine(): number | null {
    for (const call of this.open.values()) return call.line;
    return null;
  }

  private readHeader(record: SourceRecord): void {
    const header = new HeaderIndex(record);
    this.header = header;
    const missing = header.missing(REQUIRED);
    if (missing.length > 0) {
      this.problem = {
        field: missing[0]!.split(" ")[0]!,
        message: `the header lacks the column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (acc's table and the db_extra columns src_user and dst_ouser)`,
      };
    }
    this.rules = new KamailioRules(this.options, header);
    this.time = new RowTime(this.options, header, "time");
    this.idx = {
      method: header.of("method"),
      fromTag: header.of("from_tag"),
      toTag: header.of("to_tag"),
      callid: header.of("callid"),
      sipCode: header.of("sip_code"),
      srcUser: header.of("src_user"),
    };
  }

  private read(record: SourceRecord, out: ParsedRow[]): void {
    const header = this.header!;
    const f = record.fields;
    if (record.count !== header.names.length) {
      out.push(
        invalid(record, null, `row has ${record.count} fields but the header has ${header.names.length}`),
      );
      return;
    }
    const method = col(f, this.idx.method).toUpperCase();
    const callid = col(f, this.idx.callid);
    if (callid === "") {
      out.push(invalid(record, "callid", "callid is empty"));
      return;
    }
    if (callid.length > MAX_KEY_CHARS) {
      out.push(invalid(record, "callid", `callid is longer than ${MAX_KEY_CHARS} characters`));
      return;
    }
    const codeText = col(f, this.idx.sipCode);
    const code = /^[1-6]\d\d$/.test(codeText) ? Number(codeText) : NaN;
    if (code !== code) {
      out.push(invalid(record, "sip_code", `sip_code ${show(codeText)} is not a SIP status code (100–699)`));
      return;
    }
    const time = this.time.read(f);
    if (typeof time !== "number") {
      out.push(invalid(record, time.field, time.message));
      return;
    }
    if (time > this.newestMs) {
      this.newestMs = time;
      this.expire(out);
    }
    const fromTag = col(f, this.idx.fromTag);
    const toTag = col(f, this.idx.toTag);
    const dialog = dialogKey(callid, fromTag, toTag);

    switch (method) {
      case "INVITE":
        this.invite(record, out, { callid, fromTag, toTag, dialog, code, time });
        return;
      case "BYE":
        this.bye(record, out, dialog, callid, time);
        return;
      case "MESSAGE":
        out.push(this.cdr(record, "sms", `kam:${callid}:${fromTag}:MESSAGE`, code, time));
        return;
      case "ACK":
      case "CANCEL":
      case "PRACK":
      case "UPDATE":
        out.push(
          this.otherRecord(
            record,
            `a ${method} (call-id ${callid}) belongs to the INVITE that records its call`,
          ),
        );
        return;
      default:
        out.push(
          invalid(
            record,
            "method",
            `method ${show(method)} is not a call or a message (kamailio-acc reads INVITE, BYE and MESSAGE rows)`,
          ),
        );
    }
  }

  private invite(
    record: SourceRecord,
    out: ParsedRow[],
    row: { callid: string; fromTag: string; toTag: string; dialog: string; code: number; time: number },
  ): void {
    const within = this.open.get(row.dialog);
    if (within !== undefined) {
      out.push(
        this.otherRecord(
          record,
          `a re-INVITE within the call answered on line ${within.line} (call-id ${row.callid})`,
        ),
      );
      return;
    }
    if (row.code < 200) {
      out.push(
        this.otherRecord(
          record,
          `a provisional ${row.code} report of an INVITE (acc early_media); its final reply records the attempt`,
        ),
      );
      return;
    }
    if (row.code >= 300) {
      const key = `kam:${row.callid}:${row.fromTag}:${row.toTag}:${row.code}`;
      out.push(this.cdr(record, "voice", key, row.code, row.time));
      return;
    }
    const cdr = this.cdr(
      record,
      "voice",
      `kam:${row.callid}:${row.fromTag}:${row.toTag}`,
      row.code,
      row.time,
    );
    if (cdr.kind === "reject") {
      out.push(cdr);
      this.refused.set(row.dialog, record.line);
      if (this.refused.size > MAX_REFUSED) this.refused.delete(this.refused.keys().next().value!);
      return;
    }
    this.open.set(row.dialog, { line: record.line, raw: record.raw(), cdr: cdr.cdr });
  }

  private bye(record: SourceRecord, out: ParsedRow[], dialog: string, callid: string, time: number): void {
    const call = this.open.get(dialog);
    const refused = this.refused.get(dialog);
    if (refused !== undefined) {
      this.refused.delete(dialog);
      out.push(
        this.otherRecord(
          record,
          `the BYE of the call on line ${refused}, which was rejected (call-id ${callid})`,
        ),
      );
      return;
    }
    if (call === undefined) {
      out.push(
        invalid(
          record,
          "callid",
          `BYE of call-id ${show(callid)} has no answered INVITE before it in this source: the call's start is unknown`,
        ),
      );
      return;
    }
    this.open.delete(dialog);
    const answer = call.cdr.answerMs!;
    const cdr: MediatedCdr = {
      ...call.cdr,
      endMs: time,
      duration: Math.max(0, Math.floor((time - answer) / 1000)),
    };
    out.push({ kind: "cdr", line: call.line, raw: call.raw, cdr });
    out.push(
      this.otherRecord(
        record,
        `the BYE of the call answered on line ${call.line} (call-id ${callid})`,
        cdr.key,
      ),
    );
  }

  /** The CDR of an INVITE or MESSAGE row: numbers, partner, disposition from the SIP code. */
  private cdr(record: SourceRecord, service: Service, key: string, code: number, time: number): ParsedRow {
    const f = record.fields;
    const called = calledColumn(this.header!, f);
    const numbers = readNumbers(
      record,
      this.options.numbering,
      col(f, this.idx.srcUser),
      "src_user",
      called.text,
      called.field,
    );
    if ("kind" in numbers) return numbers;
    const rule = this.rules.match(f);
    if (rule === null) return unknownPartner(record, this.rules.describe(f));
    const answered = code < 300;
    const trunk = this.rules.trunk(f, rule.direction);
    const cdr: MediatedCdr = {
      key,
      partner: rule.partner,
      direction: rule.direction,
      service,
      startMs: time,
      // acc records when a transaction completed, not when the INVITE arrived.
      setupMs: time,
      answerMs: answered && service === "voice" ? time : null,
      endMs: service === "voice" ? (answered ? null : time) : null,
      duration: 0,
      totalSeconds: null,
      volume: service === "sms" ? 1 : 0,
      aNumber: numbers.aNumber,
      bNumber: numbers.bNumber,
      disposition: dispositionOfSip(code) ?? "FAILED",
      trunk: trunk === "" ? null : trunk,
      sipCode: code,
      q850Cause: null,
      pddMs: null,
      warnings: numbers.warnings,
    };
    return { kind: "cdr", line: record.line, raw: record.raw(), cdr };
  }

  private otherRecord(record: SourceRecord, message: string, sourceKey?: string): ParsedRow {
    return {
      kind: "reject",
      line: record.line,
      raw: record.raw(),
      reason: "OTHER_LEG",
      field: null,
      message,
      sourceKey: sourceKey ?? null,
    };
  }

  private noBye(call: OpenCall, when: string): ParsedRow {
    return {
      kind: "reject",
      line: call.line,
      raw: call.raw,
      reason: "INVALID",
      field: "callid",
      message: `the call answered at ${new Date(call.cdr.answerMs!).toISOString()} has no BYE ${when}: its length is unknown, so it is not billed`,
      sourceKey: call.cdr.key,
    };
  }

  /** Gives up on calls whose BYE has not come within the hold window of the newest row. */
  private expire(out: ParsedRow[]): void {
    for (const [dialog, call] of this.open) {
      if (call.cdr.answerMs! >= this.newestMs - MAX_CALL_HOLD_MS) break;
      this.open.delete(dialog);
      out.push(this.noBye(call, `within ${MAX_CALL_HOLD_MS / 3_600_000} h`));
    }
  }
}

/** A dialog: the Call-ID and both tags, in either order. */
function dialogKey(callid: string, tagA: string, tagB: string): string {
  return tagA <= tagB ? `${callid}\u0000${tagA}\u0000${tagB}` : `${callid}\u0000${tagB}\u0000${tagA}`;
}

export const kamailioAcc: FormatDescriptor = {
  id: "kamailio-acc",
  label: "Kamailio acc / missed_calls",
  description:
    "Rows of Kamailio's acc and missed_calls tables (CSV with a header, or the table itself with --from postgres://): " +
    "an answered INVITE paired with its BYE by Call-ID and tags is one call, a failed INVITE an attempt with its SIP code, " +
    "MESSAGE an SMS; numbers from the db_extra columns src_user and dst_ouser (or dst_user); times in mediation.timeZone; " +
    "partners by match rules on any column or `trunk` (src_ip for in, dst_ip for out, or a trunk column).",
  syntax: "csv",
  headerRows: 1,
  times: "local",
  partnerFromRow: false,
  columns: KAMAILIO_ACC_COLUMNS,
  matchFields: KAMAILIO_MATCH_FIELDS,
  catchAllField: "method",
  sourceKey:
    "kam:<callid>:<from_tag>:<to_tag> for a call (its INVITE), kam:<callid>:<from_tag>:<to_tag>:<sip_code> for a failed attempt, " +
    "kam:<callid>:<from_tag>:MESSAGE for a message",
  fieldOf: {
    source_key: "callid",
    start_time: "time",
    setup_time: "time",
    answer_time: "time",
    end_time: "time",
    a_number: "src_user",
    b_number: "dst_ouser",
    trunk: "dst_ip",
    sip_code: "sip_code",
  },
  pairs: () => true,
  create: (options) => new KamailioAccHandler(options),
  looksLike(lines) {
    const sample = lines.filter((line) => line.trim() !== "");
    const names = sample[0] === undefined ? [] : headerNames(sample[0]);
    return (
      ["method", "from_tag", "to_tag", "callid", "sip_code"].every((name) => names.includes(name)) &&
      (sample[1] === undefined || countCsvFields(sample[1]) === names.length)
    );
  },
};
