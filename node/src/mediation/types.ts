/** Which party carries the call onward. `out`: we hand it to the partner (we owe); `in`: the partner hands it to us (partner owes). */
export type Direction = "in" | "out";
export type Service = "voice" | "sms" | "data";

/**
 * How a call attempt ended, the switches' words mapped onto one list:
 * - `ANSWERED`: the far end answered (billable when it lasted);
 * - `NO_ANSWER`: it rang out or the called party did not pick up;
 * - `BUSY`: the called party was busy (SIP 486/600, Q.850 17);
 * - `FAILED`: the network could not complete it (no route, unallocated number, server error);
 * - `CONGESTION`: all circuits or trunks busy (SIP 503, Q.850 34/42; Asterisk's CONGESTION);
 * - `CANCEL`: the caller hung up before an answer (SIP CANCEL, Q.850 16/31 before answer, ORIGINATOR_CANCEL).
 */
export type Disposition = "ANSWERED" | "NO_ANSWER" | "BUSY" | "FAILED" | "CONGESTION" | "CANCEL";
export const DISPOSITIONS: readonly Disposition[] = [
  "ANSWERED",
  "NO_ANSWER",
  "BUSY",
  "FAILED",
  "CONGESTION",
  "CANCEL",
];

/** A CDR format's id, as in the registry (`node/src/mediation/formats/registry.ts`). */
export type CdrFormat = string;

/**
 * Why a row did not become a billable or unbilled CDR.
 * - `INVALID`: the row cannot be read; `field` names the column.
 * - `DUPLICATE`: the same source CDR key was already seen (in this file or an earlier one).
 * - `NO_RATE`: no tariff row of the CDR's service covers its called number at its start time.
 * - `UNKNOWN_PARTNER`: no partner (or match rule) claims the row.
 * - `IMPLAUSIBLE`: the row reads, but a plausibility rule (its name in `rule`) says it cannot be billed as it is.
 * - `OTHER_LEG`: another record of a call recorded by a row of its own: the leg a partner does not bill
 *   (FreeSWITCH `legs=ab`), a Kamailio BYE paired with its INVITE, a re-INVITE, an ACK or CANCEL.
 */
export type RejectReason =
  "INVALID" | "DUPLICATE" | "NO_RATE" | "UNKNOWN_PARTNER" | "IMPLAUSIBLE" | "OTHER_LEG";
export const REJECT_REASONS: readonly RejectReason[] = [
  "INVALID",
  "DUPLICATE",
  "NO_RATE",
  "UNKNOWN_PARTNER",
  "IMPLAUSIBLE",
  "OTHER_LEG",
];

/** A CDR after mediation: every field normalised, nothing rated yet. One per call attempt. */
export interface MediatedCdr {
  /** Source CDR key, namespaced by format (`icl:<cdr_id>`, `ast:<uniqueid>:<sequence>`, `fs:<uuid>`); duplicates share it. */
  key: string;
  partner: string;
  direction: Direction;
  service: Service;
  /** Start of the billable interval, UTC epoch milliseconds: the answer time when answered, else the attempt's start. */
  startMs: number;
  /** When the attempt began (INVITE sent or received, trunk seized), UTC epoch ms; equals `startMs` when the switch records one time only. */
  setupMs: number;
  /** When the far end answered, UTC epoch ms; null when it did not (or the source does not say). */
  answerMs: number | null;
  /** When the call ended, UTC epoch ms; null when the source does not say. */
  endMs: number | null;
  /** Whole answered seconds (voice, the switch's billsec); 0 for sms and data unless the source gives one. */
  duration: number;
  /** The switch's own length of the whole attempt, setup to end, in seconds (Asterisk and FreeSWITCH `duration`); null when it gives none. */
  totalSeconds: number | null;
  /** Messages (sms) or bytes (data); 0 for voice. */
  volume: number;
  /** Calling number, E.164 digits without `+`; may be empty (withheld). */
  aNumber: string;
  /** Called number, E.164 digits without `+`; never empty. */
  bNumber: string;
  disposition: Disposition;
  /** The trunk (peer, gateway, device) the attempt used towards the partner; null when the source does not name one. */
  trunk: string | null;
  /** Final SIP response code (100–699), null when unknown. */
  sipCode: number | null;
  /** ITU-T Q.850 release cause (0–127), null when unknown. */
  q850Cause: number | null;
  /** Post-dial delay, ms: from the attempt's start to the first ringing or progress; null when unknown. */
  pddMs: number | null;
  /** Plausibility warnings (rule names) the row was stored with; null when none. */
  warnings: string[] | null;
}

/** One record read from a CDR source: either a mediated CDR or a rejected row with its reason. */
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
      /** For `IMPLAUSIBLE`: the plausibility rule that refused the row. */
      rule?: string;
      /** The source key, when the row got far enough to have one. */
      sourceKey?: string | null;
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

/** FreeSWITCH `mod_cdr_csv` settings: which legs the switch writes, and the template's variables in order. */
export interface FreeswitchOptions {
  /** `legs` of cdr_csv.conf.xml: `a` (default), `b`, or `ab` (both legs of a bridged call in one file). */
  legs: "a" | "b" | "ab";
  /** The template's channel variables in column order; absent = the `example` template (15 or 13 columns). */
  template?: readonly string[] | undefined;
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
  /** FreeSWITCH only; defaults to `{ legs: "a" }`. */
  freeswitch?: FreeswitchOptions | undefined;
  /** Which leg a partner bills when the switch writes both (FreeSWITCH `legs=ab`): partner id → `a` | `b`; default `a`. */
  billLeg?: Readonly<Record<string, "a" | "b">> | undefined;
}
