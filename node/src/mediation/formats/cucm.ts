/**
 * Cisco Unified Communications Manager CDR flat files (`cdr_<cluster>_<node>_<UTC time>_<seq>`), as
 * Cisco's "Call Reporting and Billing Administration Guide" (CDR Field Descriptions) describes them:
 * line 1 the field names (quoted, comma-separated), line 2 their data types (`INTEGER`,
 * `VARCHAR(50)`, `UNIQUEIDENTIFIER`), then one CDR per line, strings quoted. Releases add columns
 * (129 in 11.x, 133 from 12.5), so columns are read by name (any order, case-insensitive).
 *
 * Times are UTC epoch seconds: `dateTimeOrigination` (off hook, or the SETUP received),
 * `dateTimeConnect` (0 when never connected), `dateTimeDisconnect` (set even when never connected);
 * `duration` is connect to disconnect in seconds (0 when not connected, or under a second).
 * `cdrRecordType` 1 is a CDR; a CMR (2, the diagnostic media record, which Cisco writes to its own
 * `cmr_` files) or a start record (0, unused) in a CDR file is rejected as INVALID naming
 * `cdrRecordType`: it is a row of the file like any other, so counts still add up, and a CMR file
 * given as CDRs shows as entirely rejected instead of silently empty.
 *
 * The source key is `pkid`, which Cisco documents as the identifier that uniquely identifies each
 * record. The global call id (`globalCallId_ClusterID` + `globalCallID_callManagerId` +
 * `globalCallID_callId`) identifies a call, not a record: a transferred or conferenced call has
 * several CDRs sharing it, the leg identifiers are only "unique within a cluster", and `callId`
 * counters are reused after days, so keys built from them would one day reject a real call as a
 * DUPLICATE. A file without `pkid` (a trimmed export) falls back to cluster, node, call id, both
 * leg ids and the origination second.
 *
 * Cisco writes the release cause on the side that cleared and 0 on the other; the destination's
 * cause says why an attempt did not complete (busy, no answer, congestion), so it wins when both
 * are set. Causes are Q.850 (0–127, except Cisco's own 122–126) or Cisco's 32-bit codes: the
 * `CCM_SIP_…` ones carry the SIP response in the high byte and a Q.850 cause in the low bits, the
 * rest (393216 call split, 458752 conference drop, …) have no Q.850 cause. CUCM CDRs (and CMRs)
 * have no post-dial delay: `pddMs` is always null.
 */
import { dispositionOfQ850, dispositionOfSip } from "../signalling";
import type { Direction, Disposition, MatchRule, MediatedCdr, MediationOptions, ParsedRow } from "../types";
import {
  MAX_KEY_CHARS,
  col,
  compileRules,
  headerNames,
  invalid,
  matchRule,
  parseCount,
  parseEpochSeconds,
  readNumbers,
  show,
  unknownPartner,
  type CompiledRule,
  type FormatDescriptor,
  type FormatHandler,
  type SourceRecord,
} from "./format";

/** The columns this format reads, as Cisco names them (the flat file's header names). */
export const CUCM_COLUMNS = [
  "cdrRecordType",
  "globalCallID_callManagerId",
  "globalCallID_callId",
  "origLegCallIdentifier",
  "destLegIdentifier",
  "dateTimeOrigination",
  "dateTimeConnect",
  "dateTimeDisconnect",
  "duration",
  "callingPartyNumber",
  "originalCalledPartyNumber",
  "finalCalledPartyNumber",
  "origDeviceName",
  "destDeviceName",
  "origCause_value",
  "destCause_value",
  "pkid",
  "globalCallId_ClusterID",
] as const;

/** Without these a row is not a call (the key's columns are checked apart: `pkid` or the global call id). */
const REQUIRED = [
  "cdrRecordType",
  "dateTimeOrigination",
  "dateTimeConnect",
  "dateTimeDisconnect",
  "duration",
  "callingPartyNumber",
  "finalCalledPartyNumber",
] as const;
const FALLBACK_KEY = [
  "globalCallID_callManagerId",
  "globalCallID_callId",
  "origLegCallIdentifier",
  "destLegIdentifier",
] as const;

/** Spellings of the same column across releases and Cisco's own tables (lower case). */
const ALIASES: ReadonlyMap<string, string> = new Map([["destlegcallidentifier", "destlegidentifier"]]);

const CMR = "a CMR (cdrRecordType 2: a call's media statistics, not a call) is not billed";

/** A data-types row field: `INTEGER`, `VARCHAR(50)`, `UNIQUEIDENTIFIER`, `DECIMAL(10,2)`. */
const TYPE_NAME = /^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?$/;

/** Cisco's `CCM_SIP_…` cause codes: the high byte → the SIP response that released the call. */
// prettier-ignore
const CCM_SIP: ReadonlyMap<number, number> = new Map([
  [0x01, 400], [0x02, 401], [0x03, 402], [0x04, 403], [0x05, 404], [0x06, 405], [0x07, 406], [0x08, 407],
  [0x09, 408], [0x0b, 410], [0x0c, 411], [0x0e, 413], [0x0f, 414], [0x10, 415], [0x11, 416], [0x12, 417],
  [0x15, 420], [0x16, 421], [0x18, 423], [0x19, 424], [0x1e, 429], [0x22, 433], [0x40, 480], [0x41, 481],
  [0x42, 482], [0x43, 483], [0x44, 484], [0x45, 485], [0x46, 486], [0x47, 487], [0x48, 488], [0x4b, 491],
  [0x4d, 493], [0x54, 500], [0x56, 502], [0x57, 503], [0x58, 504], [0x59, 505], [0x5a, 513], [0xa1, 600],
  [0xa2, 603], [0xa3, 604], [0xa4, 606], [0xa7, 503],
]);

/** What a CUCM cause value says in standard terms. */
export function cucmCause(value: number): { q850: number | null; sip: number | null } {
  const sip = value >= 0x1000000 ? (CCM_SIP.get(Math.floor(value / 0x1000000)) ?? null) : null;
  // Cisco composes its codes as a feature code plus a Q.850 cause ("0x42000000 + EXCHANGE_ROUTING_ERROR").
  const low = value < 0x10000 ? value : value % 0x10000;
  const q850 = low >= 1 && low <= 127 && !(low >= 122 && low <= 126) ? low : null;
  return { q850, sip };
}

/** Column of each field this format reads (-1 when the header lacks it). */
class Columns {
  cdrrecordtype = -1;
  globalcallid_callmanagerid = -1;
  globalcallid_callid = -1;
  origlegcallidentifier = -1;
  destlegidentifier = -1;
  datetimeorigination = -1;
  datetimeconnect = -1;
  datetimedisconnect = -1;
  duration = -1;
  callingpartynumber = -1;
  originalcalledpartynumber = -1;
  finalcalledpartynumber = -1;
  origdevicename = -1;
  destdevicename = -1;
  origcause_value = -1;
  destcause_value = -1;
  pkid = -1;
  globalcallid_clusterid = -1;
}

/** Match rules with their field in lower case, as header names are compared. */
function lowerRules(rules: readonly MatchRule[]): MatchRule[] {
  return rules.map((rule) => ({ ...rule, field: rule.field.toLowerCase() }));
}

class CucmHandler implements FormatHandler {
  /** Header rows read so far (names, then types). */
  private headerRows = 0;
  private names: string[] = [];
  private idx = new Columns();
  private rules: CompiledRule[] = [];
  /** Set when the header cannot be read as a CDR header: every row is rejected with it. */
  private problem: { field: string | null; message: string } | null = null;
  private fields: readonly string[] = [];
  private readonly trunkOf = (direction: Direction): string =>
    col(this.fields, direction === "out" ? this.idx.destdevicename : this.idx.origdevicename);

  constructor(private readonly options: MediationOptions) {
    // Compiled once up front so an invalid pattern is a configuration error before anything is read.
    compileRules(
      lowerRules(options.matchRules),
      CUCM_COLUMNS.map((c) => c.toLowerCase()),
      options.fileName,
      true,
    );
  }

  record(record: SourceRecord, out: ParsedRow[]): void {
    if (this.headerRows < 2) {
      if (this.headerRows++ === 0) this.readNames(record);
      else this.readTypes(record);
      return;
    }
    if (this.problem !== null) {
      out.push(invalid(record, this.problem.field, this.problem.message));
      return;
    }
    out.push(this.read(record));
  }

  flush(): void {}

  private readNames(record: SourceRecord): void {
    this.names = record.fields.slice(0, record.count).map((name) => {
      const lower = name.trim().toLowerCase();
      return ALIASES.get(lower) ?? lower;
    });
    const byName = this.idx as unknown as Record<string, number>;
    this.names.forEach((name, i) => {
      if (byName[name] === -1) byName[name] = i;
    });
    const missing: string[] = REQUIRED.filter((name) => byName[name.toLowerCase()] === -1);
    if (this.idx.pkid < 0) {
      const lacking = FALLBACK_KEY.filter((name) => byName[name.toLowerCase()] === -1);
      if (lacking.length > 0) missing.push(`pkid (or ${lacking.join(", ")})`);
    }
    if (missing.length > 0) {
      this.problem = {
        field: missing[0]!.split(" ")[0]!,
        message: `the header lacks the required column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`,
      };
    }
    this.rules = compileRules(lowerRules(this.options.matchRules), this.names, this.options.fileName, true);
  }

  private readTypes(record: SourceRecord): void {
    if (this.problem !== null) return;
    const types = record.fields.slice(0, record.count).map((t) => t.trim());
    if (types.length !== this.names.length || !types.every((t) => TYPE_NAME.test(t))) {
      this.problem = {
        field: null,
        message:
          `line ${record.line} is not CUCM's data-types row (INTEGER, VARCHAR(50), …, one per column of the ` +
          `${this.names.length}-column header): the file is not a CUCM CDR flat file as Cisco writes it`,
      };
    }
  }

  /** UTC epoch seconds to ms; null for 0 or empty (CUCM's "never"); NaN when malformed. */
  private epoch(i: number): number | null {
    const text = col(this.fields, i);
    if (text === "" || text === "0") return null;
    return parseEpochSeconds(text);
  }

  private read(record: SourceRecord): ParsedRow {
    const f = record.fields;
    const idx = this.idx;
    this.fields = f;
    if (record.count !== this.names.length) {
      // A CMR line keeps the CMR layout (its own field count); every Cisco record starts with cdrRecordType.
      return col(f, 0) === "2" && record.count > 0
        ? invalid(record, "cdrRecordType", CMR)
        : invalid(record, null, `row has ${record.count} fields but the header has ${this.names.length}`);
    }
    const type = col(f, idx.cdrrecordtype);
    if (type !== "1") {
      return invalid(
        record,
        "cdrRecordType",
        type === "2"
          ? CMR
          : type === "0"
            ? "a start record (cdrRecordType 0, which CUCM does not use) is not a call"
            : `cdrRecordType ${show(type)} is not 1 (an end-of-call CDR)`,
      );
    }
    const setup = this.epoch(idx.datetimeorigination);
    if (setup === null || setup !== setup) {
      const text = col(f, idx.datetimeorigination);
      return invalid(
        record,
        "dateTimeOrigination",
        setup === null
          ? `dateTimeOrigination ${show(text)} is no time (CUCM always sets it)`
          : `dateTimeOrigination ${show(text)} is not UTC epoch seconds`,
      );
    }
    const answer = this.epoch(idx.datetimeconnect);
    if (answer !== answer) {
      return invalid(
        record,
        "dateTimeConnect",
        `dateTimeConnect ${show(col(f, idx.datetimeconnect))} is not UTC epoch seconds (or 0)`,
      );
    }
    const end = this.epoch(idx.datetimedisconnect);
    if (end !== end) {
      return invalid(
        record,
        "dateTimeDisconnect",
        `dateTimeDisconnect ${show(col(f, idx.datetimedisconnect))} is not UTC epoch seconds`,
      );
    }
    const durationText = col(f, idx.duration);
    const duration = durationText === "" ? 0 : parseCount(durationText);
    if (duration < 0) {
      return invalid(record, "duration", `duration ${show(durationText)} is not a whole number of seconds`);
    }
    const answered = answer !== null;
    if (!answered && duration > 0) {
      return invalid(
        record,
        "duration",
        `duration ${duration} but dateTimeConnect is 0 (CUCM gives a call that never connected duration 0)`,
      );
    }
    let cause = 0;
    for (const [i, name] of [
      [idx.destcause_value, "destCause_value"],
      [idx.origcause_value, "origCause_value"],
    ] as const) {
      const text = col(f, i);
      const value = text === "" ? 0 : parseCount(text);
      if (value < 0) return invalid(record, name, `${name} ${show(text)} is not a cause code`);
      if (cause === 0) cause = value;
    }
    const { q850, sip } = cucmCause(cause);
    let disposition: Disposition;
    if (answered) disposition = "ANSWERED";
    else if (sip !== null) disposition = dispositionOfSip(sip) ?? "FAILED";
    else if (q850 !== null) disposition = dispositionOfQ850(q850, false) ?? "FAILED";
    // Cisco: "When a call is abandoned, the cause code contains 0."
    else disposition = cause === 0 ? "CANCEL" : "FAILED";

    const final = col(f, idx.finalcalledpartynumber);
    const original = col(f, idx.originalcalledpartynumber);
    const bField = final === "" && original !== "" ? "originalCalledPartyNumber" : "finalCalledPartyNumber";
    const numbers = readNumbers(
      record,
      this.options.numbering,
      col(f, idx.callingpartynumber),
      "callingPartyNumber",
      final === "" ? original : final,
      bField,
    );
    if ("kind" in numbers) return numbers;

    const key = this.key(record);
    if (typeof key !== "string") return key;
    const rule = matchRule(this.rules, f, this.trunkOf);
    if (rule === null) {
      return unknownPartner(
        record,
        `origDeviceName ${show(col(f, idx.origdevicename))}, destDeviceName ${show(col(f, idx.destdevicename))}`,
      );
    }
    const trunk = this.trunkOf(rule.direction);
    const cdr: MediatedCdr = {
      key,
      partner: rule.partner,
      direction: rule.direction,
      service: "voice",
      startMs: answered ? answer : setup,
      setupMs: setup,
      answerMs: answer,
      endMs: end,
      duration: answered ? duration : 0,
      // CUCM gives no length of the whole attempt; its duration is the connected time only.
      totalSeconds: null,
      volume: 0,
      aNumber: numbers.aNumber,
      bNumber: numbers.bNumber,
      disposition,
      trunk: trunk === "" ? null : trunk,
      sipCode: sip,
      q850Cause: q850,
      pddMs: null,
      warnings: numbers.warnings,
    };
    return { kind: "cdr", line: record.line, raw: record.raw(), cdr };
  }

  /** `cucm:<pkid>`, else `cucm:<cluster>:<node>:<call id>:<orig leg>:<dest leg>:<origination>`. */
  private key(record: SourceRecord): string | ParsedRow {
    const f = record.fields;
    const idx = this.idx;
    const pkid = col(f, idx.pkid);
    if (pkid !== "") {
      if (pkid.length > MAX_KEY_CHARS)
        return invalid(record, "pkid", `pkid is longer than ${MAX_KEY_CHARS} characters`);
      return "cucm:" + pkid;
    }
    const parts = [col(f, idx.globalcallid_clusterid)];
    for (const [i, name] of [
      [idx.globalcallid_callmanagerid, "globalCallID_callManagerId"],
      [idx.globalcallid_callid, "globalCallID_callId"],
      [idx.origlegcallidentifier, "origLegCallIdentifier"],
      [idx.destlegidentifier, "destLegIdentifier"],
    ] as const) {
      const text = col(f, i);
      if (i < 0 || parseCount(text) < 0) {
        return invalid(
          record,
          idx.pkid >= 0 ? "pkid" : name,
          `${idx.pkid >= 0 ? "pkid is empty and " : ""}${name} ${show(text)} is not a whole number: the CDR has no key`,
        );
      }
      parts.push(text);
    }
    parts.push(col(f, idx.datetimeorigination));
    if (parts[0]!.length > MAX_KEY_CHARS)
      return invalid(
        record,
        "globalCallId_ClusterID",
        `globalCallId_ClusterID is longer than ${MAX_KEY_CHARS} characters`,
      );
    return "cucm:" + parts.join(":");
  }
}

export const cucm: FormatDescriptor = {
  id: "cucm",
  label: "Cisco CUCM CDR flat file",
  description:
    "Cisco Unified CM's cdr_* flat files: a row of field names and a row of data types, then one CDR per row, " +
    "columns read by name (any release, any order); UTC epoch seconds; partners by match rules on any column or " +
    "`trunk` (destDeviceName for out, origDeviceName for in: the gateway or SIP trunk). CMR rows are rejected.",
  syntax: "csv",
  headerRows: 2,
  times: "epoch",
  partnerFromRow: false,
  columns: CUCM_COLUMNS,
  matchFields: [
    "trunk",
    "origDeviceName",
    "destDeviceName",
    "callingPartyNumber",
    "originalCalledPartyNumber",
    "finalCalledPartyNumber",
    "callingPartyNumberPartition",
    "finalCalledPartyNumberPartition",
    "huntPilotDN",
    "globalCallId_ClusterID",
  ],
  catchAllField: "cdrRecordType",
  sourceKey:
    "cucm:<pkid> (Cisco's unique record id); without a pkid column cucm:<globalCallId_ClusterID>:" +
    "<globalCallID_callManagerId>:<globalCallID_callId>:<origLegCallIdentifier>:<destLegIdentifier>:<dateTimeOrigination>",
  fieldOf: {
    source_key: "pkid",
    start_time: "dateTimeConnect",
    setup_time: "dateTimeOrigination",
    answer_time: "dateTimeConnect",
    end_time: "dateTimeDisconnect",
    duration: "duration",
    a_number: "callingPartyNumber",
    b_number: "finalCalledPartyNumber",
    trunk: "destDeviceName",
    sip_code: "destCause_value",
    q850_cause: "destCause_value",
  },
  create: (options) => new CucmHandler(options),
  looksLike(lines) {
    const sample = lines.filter((line) => line.trim() !== "");
    const names = sample[0] === undefined ? [] : headerNames(sample[0]);
    return (
      ["cdrrecordtype", "globalcallid_callid", "datetimeorigination"].every((name) => names.includes(name)) &&
      sample[1] !== undefined &&
      sample[1].split(",").every((type) => TYPE_NAME.test(type.trim()))
    );
  },
};
