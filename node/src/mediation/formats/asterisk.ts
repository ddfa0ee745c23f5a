/**
 * Asterisk `cdr_csv` (Master.csv): no header; 16 columns (Asterisk 1.4), 18 (+uniqueid, userfield:
 * 1.6–11) or 21 (+peeraccount, linkedid, sequence: 12 and later). Times are the switch's local
 * wall clock (`usegmtime=yes` makes them UTC). Asterisk 12+ writes one CDR per dial attempt: a
 * failover (CONGESTION on one trunk, then ANSWERED on the next) gives rows that share `uniqueid`
 * and `linkedid` and differ in `sequence`, so with 21 columns the source key includes `sequence`
 * and every attempt is its own record; only answered legs bill.
 */
import { createHash } from "node:crypto";
import type { Direction, Disposition, MediatedCdr, MediationOptions, ParsedRow } from "../types";
import {
  clean,
  compileRules,
  countCsvFields,
  invalid,
  localTimeParser,
  matchRule,
  parseCount,
  perRecord,
  readNumbers,
  show,
  unknownPartner,
  type CompiledRule,
  type FormatDescriptor,
  type SourceRecord,
  type TimeParser,
} from "./format";

/** Master.csv columns: 16 default, +uniqueid,userfield (18), +peeraccount,linkedid,sequence (21). */
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

/** Peer name of an Asterisk channel: `SIP/globex-0000001a` → `globex`, `PJSIP/peer-00000001` → `peer`. */
export function channelPeer(channel: string): string {
  const slash = channel.indexOf("/");
  if (slash < 0) return "";
  const dash = channel.lastIndexOf("-");
  return dash > slash ? channel.slice(slash + 1, dash) : channel.slice(slash + 1);
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
      return "FAILED";
    case "CONGESTION":
      return "CONGESTION";
    default:
      return null;
  }
}

class AsteriskReader {
  private readonly time: TimeParser;
  private fields: readonly string[] = [];
  private readonly trunkOf = (direction: Direction): string =>
    channelPeer((direction === "out" ? this.fields[6] : this.fields[5]) ?? "");

  constructor(
    private readonly options: MediationOptions,
    private readonly rules: CompiledRule[],
  ) {
    this.time = localTimeParser(options);
  }

  read(record: SourceRecord): ParsedRow {
    const n = record.count;
    if (n !== 16 && n !== 18 && n !== 21) {
      return invalid(record, null, `row has ${n} columns; Asterisk Master.csv rows have 16, 18 or 21`);
    }
    const f = record.fields;
    const startText = f[9] ?? "";
    const start = this.time(startText);
    if (start !== start)
      return invalid(record, "start", `start ${show(startText)} is not a YYYY-MM-DD HH:MM:SS time`);
    const answerText = f[10] ?? "";
    const answer = answerText === "" ? NaN : this.time(answerText);
    if (answerText !== "" && answer !== answer) {
      return invalid(record, "answer", `answer ${show(answerText)} is not a YYYY-MM-DD HH:MM:SS time`);
    }
    const endText = f[11] ?? "";
    const end = endText === "" ? NaN : this.time(endText);
    if (endText !== "" && end !== end) {
      return invalid(record, "end", `end ${show(endText)} is not a YYYY-MM-DD HH:MM:SS time`);
    }
    const durationText = clean(f[12]);
    const total = parseCount(durationText);
    if (total < 0) {
      return invalid(record, "duration", `duration ${show(durationText)} is not a whole number of seconds`);
    }
    const billsecText = clean(f[13]);
    const billsec = parseCount(billsecText);
    if (billsec < 0) {
      return invalid(record, "billsec", `billsec ${show(billsecText)} is not a whole number of seconds`);
    }
    const dispText = f[14] ?? "";
    const disposition = asteriskDisposition(dispText);
    if (disposition === null) {
      return invalid(
        record,
        "disposition",
        `disposition ${show(dispText)} is not ANSWERED, NO ANSWER, BUSY, FAILED or CONGESTION`,
      );
    }
    const numbers = readNumbers(record, this.options.numbering, f[1] ?? "", "src", f[2] ?? "", "dst");
    if ("kind" in numbers) return numbers;
    this.fields = f;
    const rule = matchRule(this.rules, f, this.trunkOf);
    if (rule === null) {
      return unknownPartner(record, `channel ${show(f[5] ?? "")}, dstchannel ${show(f[6] ?? "")}`);
    }
    let key: string;
    if (n === 21) {
      const sequence = clean(f[20]);
      const id = clean(f[16]) || clean(f[19]);
      if (id === "") return invalid(record, "uniqueid", "uniqueid and linkedid are both empty");
      if (parseCount(sequence) < 0)
        return invalid(record, "sequence", `sequence ${show(sequence)} is not a whole number`);
      key = `ast:${id}:${sequence}`;
    } else {
      const uniqueid = n === 18 ? clean(f[16]) : "";
      key =
        uniqueid !== "" ? "ast:" + uniqueid : "ast:" + createHash("sha1").update(record.text()).digest("hex");
    }
    const answered = disposition === "ANSWERED" && answer === answer;
    const trunk = this.trunkOf(rule.direction);
    const cdr: MediatedCdr = {
      key,
      partner: rule.partner,
      direction: rule.direction,
      service: "voice",
      startMs: answered ? answer : start,
      setupMs: start,
      answerMs: answer === answer ? answer : null,
      endMs: end === end ? end : null,
      duration: billsec,
      totalSeconds: total,
      volume: 0,
      aNumber: numbers.aNumber,
      bNumber: numbers.bNumber,
      disposition,
      trunk: trunk === "" ? null : trunk,
      sipCode: null,
      q850Cause: null,
      pddMs: null,
      warnings: numbers.warnings,
    };
    return { kind: "cdr", line: record.line, raw: record.raw(), cdr };
  }
}

export const asterisk: FormatDescriptor = {
  id: "asterisk",
  label: "Asterisk cdr_csv (Master.csv)",
  description:
    "Asterisk's Master.csv, no header, 16, 18 or 21 columns; local times in mediation.timeZone (UTC with " +
    "useGmtTime); partners by match rules on its columns or `trunk` (the peer of dstchannel for out, of channel " +
    "for in). Asterisk 12+ (21 columns): each dial attempt is its own record.",
  syntax: "csv",
  headerRows: 0,
  times: "local",
  partnerFromRow: false,
  columns: ASTERISK_COLUMNS,
  matchFields: [...ASTERISK_COLUMNS, "trunk"],
  catchAllField: "dst",
  sourceKey:
    "21 columns: ast:<uniqueid>:<sequence> (linkedid when uniqueid is empty); 18: ast:<uniqueid>; 16: a hash of the row",
  fieldOf: {
    start_time: "answer",
    setup_time: "start",
    answer_time: "answer",
    end_time: "end",
    duration: "billsec",
    a_number: "src",
    b_number: "dst",
    trunk: "dstchannel",
  },
  create(options) {
    const reader = new AsteriskReader(
      options,
      compileRules(options.matchRules, ASTERISK_COLUMNS, options.fileName, true),
    );
    return perRecord((record) => reader.read(record));
  },
  looksLike(lines) {
    const sample = lines.filter((line) => line.trim() !== "").slice(0, 5);
    return (
      sample.length > 0 &&
      sample.every((line) => [16, 18, 21].includes(countCsvFields(line))) &&
      sample.some((line) => /"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"/.test(line))
    );
  },
};
