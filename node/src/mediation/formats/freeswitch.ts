/**
 * FreeSWITCH `mod_cdr_csv`: no header; each row is one channel (leg) expanded from a template of
 * channel variables. The default is the shipped `example` template (15 columns; 13 without the
 * codecs); a node whose switch uses another template names its variables in order
 * (`mediation.freeswitch.template`), and the variables this format knows are read wherever they
 * are: `sip_term_status` (SIP code), `hangup_cause_q850`, `progressmsec` / `progress_mediamsec`
 * (post-dial delay), `start_epoch` / `answer_epoch` / `end_epoch` (UTC, preferred over the local
 * stamps), `direction`, `sip_gateway_name` (trunk).
 *
 * `legs` (cdr_csv.conf.xml) says which legs the switch writes: mod_cdr_csv skips a channel that has
 * an originator (a B-leg) with `a`, and one that has an originatee (an A-leg that bridged) with `b`,
 * so a `b` file also holds the A-legs that never bridged. With `a` or `b` every row is one call.
 * With `ab` both legs of a bridged call are rows of the same file, and a call must bill once: the
 * leg the partner bills (`billLeg`, default the A-leg) becomes the record and the other is rejected
 * as OTHER_LEG. The legs are paired through `bleg_uuid`, which names the originatee: the A-leg names
 * its B-leg, the B-leg's is empty. A row is held back until its other leg arrives, at most
 * {@link PAIR_WINDOW} rows later (FreeSWITCH writes each leg as it hangs up, moments apart); the
 * partner is whichever leg a match rule claims (a gateway name is on the B-leg only), and two legs
 * claimed by different partners (a transit call) are each their partner's call. An A-leg that never
 * bridged (`direction` inbound, no `bleg_uuid`) is its own call at once; a row left alone is its own
 * call, except that with `direction` the leg its partner does not bill stays the other leg.
 */
import { InputError } from "../../errors";
import { dispositionOfFreeswitchCause, dispositionOfSip, freeswitchCause } from "../signalling";
import type { Disposition, FreeswitchOptions, MediatedCdr, MediationOptions, ParsedRow } from "../types";
import {
  MAX_KEY_CHARS,
  clean,
  compileRules,
  countCsvFields,
  invalid,
  localTimeParser,
  matchRule,
  optionalInt,
  parseCount,
  parseEpochSeconds,
  readNumbers,
  show,
  unknownPartner,
  type CompiledRule,
  type FormatDescriptor,
  type FormatHandler,
  type SourceRecord,
  type TimeParser,
} from "./format";

/** The shipped `example` template's variables (the 13-column fallback drops the codecs). */
export const FREESWITCH_EXAMPLE = [
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

/** Variables this format reads when a template has them (the rest are there for match rules). */
export const FREESWITCH_KNOWN = [
  ...FREESWITCH_EXAMPLE,
  "direction",
  "sip_term_status",
  "hangup_cause_q850",
  "progressmsec",
  "progress_mediamsec",
  "start_epoch",
  "answer_epoch",
  "end_epoch",
  "sip_gateway_name",
] as const;

/** A variable a template must have: without them a row is not a call. */
const REQUIRED = ["destination_number", "uuid", "duration", "billsec", "hangup_cause"] as const;

/** How many rows later a held `legs=ab` row is taken as a call on its own. */
export const PAIR_WINDOW = 2000;

const VARIABLE = /^[a-z_][a-z0-9_]{0,63}$/;

/** Column of each known variable in a template (-1 when absent). */
class Columns {
  caller_id_number = -1;
  destination_number = -1;
  context = -1;
  start_stamp = -1;
  answer_stamp = -1;
  end_stamp = -1;
  duration = -1;
  billsec = -1;
  hangup_cause = -1;
  uuid = -1;
  bleg_uuid = -1;
  accountcode = -1;
  direction = -1;
  sip_term_status = -1;
  hangup_cause_q850 = -1;
  progressmsec = -1;
  progress_mediamsec = -1;
  start_epoch = -1;
  answer_epoch = -1;
  end_epoch = -1;
  sip_gateway_name = -1;
}

/** The template's columns; @throws InputError for a template that lacks a required variable. */
export function templateColumns(template: readonly string[], fileName: string): Columns {
  const idx = new Columns();
  const byName = idx as unknown as Record<string, number>;
  template.forEach((name, i) => {
    if (!VARIABLE.test(name)) {
      throw new InputError(`the FreeSWITCH template variable ${show(name)} is not a channel variable name`, {
        file: fileName,
        field: "mediation.freeswitch.template",
      });
    }
    if (byName[name] === -1) byName[name] = i;
  });
  for (const name of REQUIRED) {
    if (byName[name] === -1) {
      throw new InputError(`the FreeSWITCH template has no ${name} column`, {
        file: fileName,
        field: "mediation.freeswitch.template",
        details: `A CDR needs ${REQUIRED.join(", ")}; the template is: ${template.join(", ")}`,
      });
    }
  }
  return idx;
}

/** One leg as read: the call facts, and the partner its own row matches (null: none). */
interface Leg {
  line: number;
  raw: string;
  uuid: string;
  blegUuid: string;
  /** From `direction`: inbound = A-leg, outbound = B-leg; null when the template has no direction. */
  isA: boolean | null;
  cdr: Omit<MediatedCdr, "partner" | "direction">;
  rule: CompiledRule | null;
  unknownDetail: string;
  /** Order of arrival, for the pairing window. */
  seq: number;
}

class FreeswitchHandler implements FormatHandler {
  private readonly time: TimeParser;
  private readonly idx: Columns;
  private readonly widths: readonly number[];
  private readonly rules: CompiledRule[];
  private readonly legs: FreeswitchOptions["legs"];
  private seq = 0;
  /** `legs=ab` rows waiting for their other leg, by uuid, oldest first. */
  private readonly pending = new Map<string, Leg>();
  /** The same rows by the B-leg uuid they name. */
  private readonly byBleg = new Map<string, Leg>();

  constructor(private readonly options: MediationOptions) {
    this.time = localTimeParser(options);
    this.legs = options.freeswitch?.legs ?? "a";
    const template = options.freeswitch?.template;
    const columns = template ?? FREESWITCH_EXAMPLE;
    this.idx = templateColumns(columns, options.fileName);
    this.widths = template ? [template.length] : [15, 13];
    this.rules = compileRules(options.matchRules, columns, options.fileName, false);
  }

  record(record: SourceRecord, out: ParsedRow[]): void {
    const leg = this.read(record);
    if (!("uuid" in leg)) {
      out.push(leg);
      return;
    }
    if (this.legs !== "ab") {
      out.push(this.finish(leg, leg.rule));
      return;
    }
    if (this.pending.has(leg.uuid)) {
      // Held under its uuid already: a second copy of the same leg (its key is the same), never a new leg.
      out.push({
        kind: "reject",
        line: leg.line,
        raw: leg.raw,
        reason: "DUPLICATE",
        field: "uuid",
        message: `uuid ${leg.uuid} repeats the leg on line ${this.pending.get(leg.uuid)!.line}`,
        sourceKey: leg.cdr.key,
      });
    } else if (leg.isA === true && leg.blegUuid === "") {
      // An A-leg that never bridged: no B-leg will name it (a B-leg's bleg_uuid is empty), so it is its own call.
      out.push(this.finish(leg, leg.rule));
    } else {
      this.pair(leg, out);
    }
    this.expire(out);
  }

  lowestHeldLine(): number | null {
    // Rows are held in arrival order, and they arrive in line order.
    for (const leg of this.pending.values()) return leg.line;
    return null;
  }

  flush(out: ParsedRow[]): void {
    for (const leg of this.pending.values()) out.push(this.lone(leg));
    this.pending.clear();
    this.byBleg.clear();
  }

  /** The leg `partner` bills when the switch writes both. */
  private billed(partner: string): "a" | "b" {
    return this.options.billLeg?.[partner] ?? "a";
  }

  /**
   * `legs=ab`: pairs the row with a held one through `bleg_uuid`, or holds it. FreeSWITCH's
   * `${bleg_uuid}` is the uuid of the channel's originatee (the leg it bridged to), so the A-leg
   * names its B-leg and the B-leg's is empty: the leg that names the other is the A-leg.
   */
  private pair(leg: Leg, out: ParsedRow[]): void {
    const named = leg.blegUuid === "" ? undefined : this.pending.get(leg.blegUuid);
    const naming = this.byBleg.get(leg.uuid);
    const other = named ?? naming;
    if (other === undefined) {
      this.pending.set(leg.uuid, leg);
      if (leg.blegUuid !== "") this.byBleg.set(leg.blegUuid, leg);
      return;
    }
    this.release(other);
    let a: Leg;
    let b: Leg;
    if (named !== undefined && other.blegUuid === leg.uuid) {
      // Both name each other: the inbound one, else the one created first, else the earlier row.
      const legFirst =
        leg.isA !== null && leg.isA !== other.isA ? leg.isA : leg.cdr.setupMs < other.cdr.setupMs;
      [a, b] = legFirst ? [leg, other] : [other, leg];
    } else if (named !== undefined) {
      [a, b] = [leg, other];
    } else {
      [a, b] = [other, leg];
    }
    const rows: ParsedRow[] = [];
    if (a.rule !== null && b.rule !== null && a.rule.partner !== b.rule.partner) {
      // A transit call, in from one partner and out to another: each leg is its own partner's call.
      rows.push(this.finish(a, a.rule), this.finish(b, b.rule));
    } else {
      // The partner may be recognisable on one leg only (sip_gateway_name is set on the B-leg).
      const rule = a.rule ?? b.rule;
      const billed = rule === null ? "a" : this.billed(rule.partner);
      const [kept, dropped] = billed === "a" ? [a, b] : [b, a];
      rows.push(
        this.finish(kept, rule, dropped),
        rule === null ? this.finish(dropped, null) : this.otherLeg(dropped, rule.partner, billed),
      );
    }
    rows.sort((x, y) => x.line - y.line);
    out.push(...rows);
  }

  private release(leg: Leg): void {
    this.pending.delete(leg.uuid);
    if (leg.blegUuid !== "" && this.byBleg.get(leg.blegUuid) === leg) this.byBleg.delete(leg.blegUuid);
  }

  /** Rows held longer than the window are calls on their own. */
  private expire(out: ParsedRow[]): void {
    for (const leg of this.pending.values()) {
      if (this.seq - leg.seq <= PAIR_WINDOW) break;
      this.release(leg);
      out.push(this.lone(leg));
    }
  }

  /**
   * A held leg whose other leg never came (a failed B-leg attempt, or the other leg rotated into
   * another file). When `direction` says which leg it is, the leg the partner does not bill stays
   * the other leg, so a call whose legs straddle two files is still billed once; without it, the row
   * is a call of its own.
   */
  private lone(leg: Leg): ParsedRow {
    const rule = leg.rule;
    if (rule === null || leg.isA === null) return this.finish(leg, rule);
    const billed = this.billed(rule.partner);
    return (leg.isA ? billed === "a" : billed === "b")
      ? this.finish(leg, rule)
      : this.otherLeg(leg, rule.partner, billed);
  }

  /** The leg's CDR for `rule`'s partner; the trunk towards the partner may be named on the other leg only. */
  private finish(leg: Leg, rule: CompiledRule | null, other?: Leg): ParsedRow {
    if (rule === null) return unknownPartnerOf(leg);
    return {
      kind: "cdr",
      line: leg.line,
      raw: leg.raw,
      cdr: {
        ...leg.cdr,
        partner: rule.partner,
        direction: rule.direction,
        trunk: leg.cdr.trunk ?? other?.cdr.trunk ?? null,
      },
    };
  }

  private otherLeg(leg: Leg, partner: string, billed: "a" | "b"): ParsedRow {
    const which = billed === "a" ? "B" : "A";
    return {
      kind: "reject",
      line: leg.line,
      raw: leg.raw,
      reason: "OTHER_LEG",
      field: null,
      message:
        // The uuid is this row's own: the recorded leg may be in another row, or another file.
        `the ${which}-leg (uuid ${leg.uuid}) of a call whose ${billed.toUpperCase()}-leg is recorded; ` +
        `${partner} bills the ${billed.toUpperCase()}-leg (mediation.partners.${partner}.billLeg)`,
      sourceKey: leg.cdr.key,
    };
  }

  private read(record: SourceRecord): Leg | ParsedRow {
    const n = record.count;
    if (!this.widths.includes(n)) {
      return invalid(
        record,
        null,
        this.options.freeswitch?.template
          ? `row has ${n} columns; the configured template has ${this.widths[0]}`
          : `row has ${n} columns; FreeSWITCH example-template rows have 15 or 13`,
      );
    }
    const f = record.fields;
    const idx = this.idx;
    const get = (i: number): string => (i < 0 ? "" : clean(f[i]));

    // Times: each one's UTC epoch when the template has it, else its local stamp (a template may
    // hold start_epoch but answer_stamp). FreeSWITCH writes an epoch of 0 for a time that never came.
    const stamp = (kind: "start" | "answer" | "end"): number | null | ParsedRow => {
      const epochIndex = idx[`${kind}_epoch`];
      const epoch = epochIndex >= 0;
      const name = epoch ? `${kind}_epoch` : `${kind}_stamp`;
      const text = get(epoch ? epochIndex : idx[`${kind}_stamp`]);
      if (text === "" || (epoch && text === "0"))
        return kind === "start" ? invalid(record, name, `${name} is empty`) : null;
      const ms = epoch ? parseEpochSeconds(text) : this.time(text);
      if (ms !== ms) {
        return invalid(
          record,
          name,
          epoch
            ? `${name} ${show(text)} is not UTC epoch seconds`
            : `${name} ${show(text)} is not a YYYY-MM-DD HH:MM:SS time`,
        );
      }
      return ms;
    };
    const start = stamp("start");
    if (typeof start !== "number") return start ?? invalid(record, null, "no start time"); // never null: empty is a reject
    const answer = stamp("answer");
    if (answer !== null && typeof answer === "object") return answer;
    const end = stamp("end");
    if (end !== null && typeof end === "object") return end;

    const durationText = get(idx.duration);
    const total = parseCount(durationText);
    if (total < 0) {
      return invalid(record, "duration", `duration ${show(durationText)} is not a whole number of seconds`);
    }
    const billsecText = get(idx.billsec);
    const billsec = parseCount(billsecText);
    if (billsec < 0) {
      return invalid(record, "billsec", `billsec ${show(billsecText)} is not a whole number of seconds`);
    }
    const answered = answer !== null;
    if (!answered && billsec > 0) {
      return invalid(
        record,
        "billsec",
        `billsec ${billsec} but answer_stamp is empty (an unanswered call bills nothing)`,
      );
    }
    const cause = get(idx.hangup_cause);
    let sipCode: number | null = null;
    if (idx.sip_term_status >= 0) {
      sipCode = optionalInt(get(idx.sip_term_status), 100, 699);
      if (sipCode !== sipCode)
        return invalid(
          record,
          "sip_term_status",
          `sip_term_status ${show(get(idx.sip_term_status))} is not a SIP code`,
        );
    }
    let q850Cause: number | null = null;
    if (idx.hangup_cause_q850 >= 0) {
      q850Cause = optionalInt(get(idx.hangup_cause_q850), 0, 127);
      if (q850Cause !== q850Cause)
        return invalid(
          record,
          "hangup_cause_q850",
          `hangup_cause_q850 ${show(get(idx.hangup_cause_q850))} is not a Q.850 cause (0–127)`,
        );
    } else {
      const numeric = freeswitchCause(cause);
      q850Cause = numeric !== null && numeric < 128 ? numeric : null;
    }
    const disposition: Disposition = answered
      ? "ANSWERED"
      : sipCode !== null && sipCode >= 300
        ? (dispositionOfSip(sipCode) ?? "FAILED")
        : dispositionOfFreeswitchCause(cause);
    let pddMs: number | null = null;
    for (const i of [idx.progressmsec, idx.progress_mediamsec]) {
      if (i < 0 || pddMs !== null) continue;
      const value = optionalInt(get(i), 0, 3_600_000);
      if (value !== value) {
        const name = i === idx.progressmsec ? "progressmsec" : "progress_mediamsec";
        return invalid(record, name, `${name} ${show(get(i))} is not a whole number of milliseconds`);
      }
      // FreeSWITCH writes 0 when the leg never saw progress.
      if (value !== null && value > 0) pddMs = value;
    }
    const uuid = get(idx.uuid);
    if (uuid === "") return invalid(record, "uuid", "uuid is empty");
    if (uuid.length > MAX_KEY_CHARS)
      return invalid(record, "uuid", `uuid is longer than ${MAX_KEY_CHARS} characters`);
    const numbers = readNumbers(
      record,
      this.options.numbering,
      idx.caller_id_number < 0 ? "" : (f[idx.caller_id_number] ?? ""),
      "caller_id_number",
      f[idx.destination_number] ?? "",
      "destination_number",
    );
    if ("kind" in numbers) return numbers;
    const directionText = get(idx.direction).toLowerCase();
    const trunk = get(idx.sip_gateway_name);
    this.seq++;
    return {
      line: record.line,
      raw: record.raw(),
      uuid,
      blegUuid: get(idx.bleg_uuid),
      isA: directionText === "inbound" ? true : directionText === "outbound" ? false : null,
      rule: matchRule(this.rules, f, null),
      unknownDetail: `context ${show(get(idx.context))}, accountcode ${show(get(idx.accountcode))}`,
      seq: this.seq,
      cdr: {
        key: "fs:" + uuid,
        service: "voice",
        startMs: answered ? answer : start,
        setupMs: start,
        answerMs: answer,
        endMs: end,
        duration: answered ? billsec : 0,
        totalSeconds: total,
        volume: 0,
        aNumber: numbers.aNumber,
        bNumber: numbers.bNumber,
        disposition,
        trunk: trunk === "" ? null : trunk,
        sipCode,
        q850Cause,
        pddMs,
        warnings: numbers.warnings,
      },
    };
  }
}

function unknownPartnerOf(leg: Leg): ParsedRow {
  const row = unknownPartner({ line: leg.line, raw: () => leg.raw } as SourceRecord, leg.unknownDetail);
  return row.kind === "reject" ? { ...row, sourceKey: leg.cdr.key } : row;
}

export const freeswitch: FormatDescriptor = {
  id: "freeswitch",
  label: "FreeSWITCH mod_cdr_csv",
  description:
    "FreeSWITCH's cdr_csv files, no header: the example template (15 or 13 columns) or the template named in " +
    "mediation.freeswitch.template; local stamps in mediation.timeZone, or UTC epochs; partners by match rules " +
    "on the template's variables. mediation.freeswitch.legs says which legs the switch writes (a, b or ab): " +
    "with ab a call bills once, on the leg the partner bills (billLeg, default a).",
  syntax: "csv",
  headerRows: 0,
  times: "local",
  partnerFromRow: false,
  columns: FREESWITCH_EXAMPLE,
  matchFields: FREESWITCH_KNOWN,
  catchAllField: "destination_number",
  sourceKey: "fs:<uuid> (of the leg that bills)",
  fieldOf: {
    start_time: "answer_stamp",
    setup_time: "start_stamp",
    answer_time: "answer_stamp",
    end_time: "end_stamp",
    duration: "billsec",
    a_number: "caller_id_number",
    b_number: "destination_number",
    trunk: "sip_gateway_name",
    sip_code: "sip_term_status",
    q850_cause: "hangup_cause_q850",
    pdd_ms: "progressmsec",
  },
  pairs: (options) => (options.freeswitch?.legs ?? "a") === "ab",
  create: (options) => new FreeswitchHandler(options),
  looksLike(lines) {
    const sample = lines.filter((line) => line.trim() !== "").slice(0, 5);
    return (
      sample.length > 0 &&
      sample.every((line) => [13, 15].includes(countCsvFields(line))) &&
      sample.some((line) => /"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"/.test(line)) &&
      sample.some((line) => /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i.test(line))
    );
  },
};
