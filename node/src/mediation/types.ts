/** Which party carries the call onward. `out`: we hand it to the partner (we owe); `in`: the partner hands it to us (partner owes). */
export type Direction = "in" | "out";
export type Service = "voice" | "sms" | "data";
export type Disposition = "ANSWERED" | "NO_ANSWER" | "BUSY" | "FAILED";
export type CdrFormat = "icl-csv" | "asterisk" | "freeswitch";
export const CDR_FORMATS: readonly CdrFormat[] = ["icl-csv", "asterisk", "freeswitch"];

/**
 * Why a row did not become a billable or unbilled CDR.
 * - `INVALID`: the row cannot be read; `field` names the column.
 * - `DUPLICATE`: the same source CDR key was already seen (in this file or an earlier one).
 * - `NO_RATE`: no tariff row of the CDR's service covers its called number at its start time.
 * - `UNKNOWN_PARTNER`: no partner (or match rule) claims the row.
 */
export type RejectReason = "INVALID" | "DUPLICATE" | "NO_RATE" | "UNKNOWN_PARTNER";

/** A CDR after mediation: every field normalised, nothing rated yet. */
export interface MediatedCdr {
  /** Source CDR key, namespaced by format (`icl:<cdr_id>`, `ast:<uniqueid>`, `fs:<uuid>`); duplicates share it. */
  key: string;
  partner: string;
  direction: Direction;
  service: Service;
  /** Start of the billable interval, UTC epoch milliseconds (answer time when the switch records one). */
  startMs: number;
  /** Whole answered seconds (voice); 0 for sms and data unless the source gives one. */
  duration: number;
  /** Messages (sms) or bytes (data); 0 for voice. */
  volume: number;
  /** Calling number, E.164 digits without `+`; may be empty (withheld). */
  aNumber: string;
  /** Called number, E.164 digits without `+`; never empty. */
  bNumber: string;
  disposition: Disposition;
}

/** One record read from a CDR file: either a mediated CDR or a rejected row with its reason. */
export type ParsedRow =
  | { kind: "cdr"; line: number; raw: string; cdr: MediatedCdr }
  | {
      kind: "reject";
      line: number;
      raw: string;
      reason: RejectReason;
      /** The column that could not be read, when one can be named. */
      field: string | null;
      message: string;
    };

/** How national numbers become E.164: e.g. `{ countryCode: "44", nationalPrefix: "0", internationalPrefix: "00" }`. */
export interface NumberingPlan {
  countryCode: string;
  nationalPrefix: string;
  internationalPrefix: string;
}

/**
 * Assigns a partner and direction to a switch CDR: the first rule whose `pattern` matches the
 * named `field` of the row wins. Fields are the format's column names (e.g. `dstchannel`,
 * `channel`, `accountcode` for Asterisk; `context`, `accountcode` for FreeSWITCH).
 */
export interface MatchRule {
  partner: string;
  direction: Direction;
  field: string;
  pattern: string;
}

export interface MediationOptions {
  /** Name used in messages (the file path as the user gave it). */
  fileName: string;
  /** IANA zone of the switch's local timestamps (Asterisk, FreeSWITCH); ignored when `useGmtTime`. */
  timeZone: string;
  /** Asterisk `usegmtime=yes`: timestamps are UTC. */
  useGmtTime: boolean;
  numbering: NumberingPlan;
  matchRules: readonly MatchRule[];
}
