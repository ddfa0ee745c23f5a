/**
 * Interconnect traffic between carriers A and B as one list of calls, and each carrier's own CDR
 * file derived from it — the way two switches see the same calls: A's `out` is B's `in`, each side
 * with its own CDR ids, in its own switch's format (icl-csv, an Asterisk Master.csv, a FreeSWITCH
 * `mod_cdr_csv` file, with the switch's local time and dialling plan), and with the imperfections
 * real interconnects have (CDRs lost on one side, a clock running off, a batch re-sent).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import { prng } from "./generate-cdrs";

export interface Call {
  /** The call's index in the list; CDR ids derive from it (`A-7`, `B-7`). */
  index: number;
  /** `AB`: A hands the call to B (A owes B). */
  direction: "AB" | "BA";
  aNumber: string;
  bNumber: string;
  /** Answer time (the start of the billable interval); for an unanswered attempt, when it started. */
  startMs: number;
  /** Billable seconds; 0 for an unanswered attempt. */
  durationSeconds: number;
  /** False for an attempt nobody answered (both switches log it; nobody bills it). */
  answered: boolean;
  /** Seconds the call rang before it was answered or abandoned. */
  ringSeconds: number;
}

const PREFIXES = ["44", "49", "33", "34", "39", "31", "32", "41", "43", "45", "46", "47", "48", "351", "353"];

/**
 * `count` voice calls spread over the UTC month `period` (YYYYMM), seeded; about `unanswered` of them
 * (a share, default 0) are attempts nobody answered. Indexes start at `firstIndex` (default 0), so a
 * month too large to hold is generated chunk by chunk (each chunk its own seed) with distinct CDR ids.
 */
export function generateCalls(
  period: number,
  count: number,
  seed: number,
  options: { unanswered?: number; firstIndex?: number } = {},
): Call[] {
  const random = prng(seed);
  const start = Date.UTC(Math.floor(period / 100), (period % 100) - 1, 1);
  const end = Date.UTC(Math.floor(period / 100), period % 100, 1);
  const calls: Call[] = [];
  const first = options.firstIndex ?? 0;
  for (let index = first; index < first + count; index++) {
    const direction = random() < 0.6 ? "AB" : "BA";
    const prefix = PREFIXES[Math.floor(random() * PREFIXES.length)]!;
    const mobile = random() < 0.4 ? "7" : "2";
    const foreign = `+${prefix}${mobile}${String(Math.floor(random() * 1e9)).padStart(9, "0")}`;
    const domestic = `+1212${String(Math.floor(random() * 1e7)).padStart(7, "0")}`;
    calls.push({
      index,
      direction,
      // A is the US carrier: its subscribers call abroad (AB) and are called from abroad (BA).
      aNumber: direction === "AB" ? domestic : foreign,
      bNumber: direction === "AB" ? foreign : domestic,
      // Whole seconds: CDRs carry seconds, and the call key is per second.
      startMs: start + Math.floor((random() * (end - start)) / 1000) * 1000,
      durationSeconds: 1 + (Math.floor(-Math.log(1 - random()) * 150) % 3600),
      answered: true,
      ringSeconds: 0,
    });
    // Drawn only when asked for, so the calls of a given seed stay the same without attempts.
    if (options.unanswered) {
      const call = calls[calls.length - 1]!;
      call.ringSeconds = 2 + Math.floor(random() * 20);
      if (random() < options.unanswered) {
        call.answered = false;
        call.durationSeconds = 0;
        call.ringSeconds += 20;
      }
    }
  }
  return calls;
}

/** How one carrier's switch writes CDRs: its format, its clock's zone and its dialling plan. */
export interface SwitchProfile {
  format: "icl-csv" | "asterisk" | "freeswitch";
  /** IANA zone of the switch's local timestamps (Asterisk and FreeSWITCH; icl-csv writes UTC). */
  timeZone: string;
  /** How the switch writes numbers of its own country (national prefix) and abroad (international prefix). */
  numbering: { countryCode: string; nationalPrefix: string; internationalPrefix: string };
  /** The switch's name for its trunk to the partner (`SIP/<trunk>-…` channels, `from-<trunk>` contexts). */
  trunk: string;
}

export const ICL_SWITCH: SwitchProfile = {
  format: "icl-csv",
  timeZone: "UTC",
  numbering: { countryCode: "1", nationalPrefix: "1", internationalPrefix: "011" },
  trunk: "",
};

export interface SideOptions {
  /** This carrier: A or B. */
  side: "A" | "B";
  /** What this carrier's node calls the other carrier (the icl-csv `partner` column). */
  partner: string;
  /** Indexes of calls this side's switch lost. */
  lost?: ReadonlySet<number>;
  /** Added to every start time (a clock running off). */
  skewMs?: number;
  /** Tells this file's CDR ids from other files' (switches number CDRs per file or per day). */
  batch: string;
  /** The switch's format (icl-csv when absent). */
  profile?: SwitchProfile;
  /** Adds to an existing file of the same switch (no second icl-csv header). */
  append?: boolean;
}

/**
 * Writes this side's CDR file of `calls` in its switch's format and returns the rows written. CDR ids
 * derive from side, batch and call index (icl-csv `<side>-<batch>-<index>`, Asterisk uniqueid
 * `<batch>-<epoch>.<index>`, FreeSWITCH a UUID hashed from them), so a call written twice is a duplicate.
 */
export function writeSideCdrs(file: string, calls: readonly Call[], options: SideOptions): number {
  const profile = options.profile ?? ICL_SWITCH;
  const fd = fs.openSync(file, options.append ? "a" : "w");
  let rows = 0;
  let buffer = profile.format === "icl-csv" && !options.append ? `${ICL_HEADER}\n` : "";
  const local = localTime(profile.timeZone);
  try {
    for (const call of calls) {
      if (options.lost?.has(call.index)) continue;
      const ours = (call.direction === "AB") === (options.side === "A") ? "out" : "in";
      const answerMs = call.startMs + (options.skewMs ?? 0);
      if (profile.format === "icl-csv") {
        const start = new Date(answerMs).toISOString().replace(".000Z", "Z");
        buffer +=
          `${cdrId(options.side, options.batch, call)},${options.partner},${ours},voice,${start},${call.durationSeconds},,` +
          `${call.aNumber},${call.bNumber},${call.answered ? "ANSWERED" : "NO_ANSWER"}\n`;
      } else {
        const begin = local(answerMs - call.ringSeconds * 1000);
        const answer = call.answered ? local(answerMs) : "";
        const end = local(answerMs + call.durationSeconds * 1000);
        const total = call.ringSeconds + call.durationSeconds;
        const a = dialled(call.aNumber, profile);
        const b = dialled(call.bNumber, profile);
        const channel = `SIP/${profile.trunk}-${hex8(call.index)}`;
        const subscriber = `SIP/sub${call.index % 997}-${hex8(call.index + 1)}`;
        if (profile.format === "asterisk") {
          const uniqueid = `${options.batch.toLowerCase()}-${Math.floor(answerMs / 1000)}.${call.index}`;
          const [src, dst] = ours === "out" ? [subscriber, channel] : [channel, subscriber];
          const disposition = call.answered ? "ANSWERED" : "NO ANSWER";
          buffer +=
            `"","${a}","${b}","${ours === "out" ? "outbound" : "from-" + profile.trunk}","""${a}"" <${a}>",` +
            `"${src}","${dst}","Dial","${dst}/${b},60","${begin}","${answer}","${end}",${total},${call.durationSeconds},` +
            `"${disposition}","DOCUMENTATION","${uniqueid}",""\n`;
        } else {
          const uuid = uuidOf(`${options.side}-${options.batch}-${call.index}`);
          const context = ours === "out" ? "default" : `from-${profile.trunk}`;
          const account = ours === "out" ? `${profile.trunk}-out` : "";
          const cause = call.answered ? "NORMAL_CLEARING" : "NO_ANSWER";
          buffer +=
            `"${a}","${call.aNumber}","${b}","${context}","${begin}","${answer}","${end}",${total},` +
            `${call.durationSeconds},"${cause}","${uuid}","","${account}","PCMA","PCMA"\n`;
        }
      }
      rows++;
      if (buffer.length > 1 << 20) {
        fs.writeSync(fd, buffer);
        buffer = "";
      }
    }
    fs.writeSync(fd, buffer);
  } finally {
    fs.closeSync(fd);
  }
  return rows;
}

const ICL_HEADER =
  "cdr_id,partner,direction,service,start_time,duration,volume,a_number,b_number,disposition";

/** An E.164 number (`+4930…`) as a switch of `profile`'s country dials it (`030…` at home, `00…` abroad). */
export function dialled(e164: string, profile: SwitchProfile): string {
  const digits = e164.replace(/^\+/, "");
  const { countryCode, nationalPrefix, internationalPrefix } = profile.numbering;
  return digits.startsWith(countryCode)
    ? nationalPrefix + digits.slice(countryCode.length)
    : internationalPrefix + digits;
}

/** `YYYY-MM-DD HH:MM:SS` wall time in `timeZone`, with the zone's offset looked up once per hour. */
function localTime(timeZone: string): (ms: number) => string {
  const format = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  const offsets = new Map<number, number>();
  return (ms) => {
    const hour = Math.floor(ms / 3_600_000);
    let offset = offsets.get(hour);
    if (offset === undefined) {
      const parts = Object.fromEntries(format.formatToParts(hour * 3_600_000).map((p) => [p.type, p.value]));
      const wall = Date.UTC(
        +parts.year!,
        +parts.month! - 1,
        +parts.day!,
        +parts.hour!,
        +parts.minute!,
        +parts.second!,
      );
      offset = wall - hour * 3_600_000;
      offsets.set(hour, offset);
    }
    return new Date(ms + offset).toISOString().slice(0, 19).replace("T", " ");
  };
}

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, "0");

/** A stable version-4-shaped UUID from a name (FreeSWITCH names every call leg by a UUID). */
function uuidOf(name: string): string {
  const h = crypto.createHash("sha1").update(name).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A seeded choice of about `fraction` of the calls. */
export function chooseLost(calls: readonly Call[], fraction: number, seed: number): Set<number> {
  const random = prng(seed);
  return new Set(calls.filter(() => random() < fraction).map((call) => call.index));
}

export function cdrId(side: "A" | "B", batch: string, call: Pick<Call, "index">): string {
  return `${side}-${batch}-${call.index}`;
}
