import { InputError } from "../errors";
import type { Service } from "../mediation/types";
import { RATE_SCALE, parseScaled } from "../money/decimal";
import { parseIsoToUtcMs } from "../mediation/time";
import { assembleTariffs } from "./tariff";
import { isValidTimeZone, parseClock, parseDays, type TimeBand } from "./time-band";

/**
 * One row of a tariff deck. Rates and fees are integers scaled by 10^-RATE_SCALE of the deck's
 * currency; `rate` is per minute (voice), per message (sms) or per MB = 10^6 bytes (data). Rows that
 * differ only in `intervalStart` (and their rates and increments) are the intervals of one tariff
 * (see tariff.ts).
 */
export interface TariffRow {
  /** Line of the deck file the row came from (1 = header). */
  line: number;
  service: Service;
  /** E.164 digits. */
  prefix: string;
  destination: string;
  rate: bigint;
  connectFee: bigint;
  /** Seconds; voice only. */
  firstIncrement: number;
  /** Seconds; voice only. */
  nextIncrement: number;
  /** Second of the billable interval from which this row's rate and increments apply; 0 unless voice. */
  intervalStart: number;
  /** Inclusive, UTC epoch ms; null = since ever. */
  effectiveFrom: number | null;
  /** Exclusive, UTC epoch ms; null = until further notice. */
  effectiveTo: number | null;
  /** Null = all day, every day. */
  band: TimeBand | null;
}

export interface DeckProblem {
  line: number;
  field: string;
  message: string;
}

/** One column a deck may carry: its header name, what it means, and its default (null = required). */
export interface DeckColumn {
  name: string;
  meaning: string;
  default: string | null;
}

/**
 * Every column a deck may carry, in the order docs/RATING.md and `icl tariffs import --help` list
 * them. The first nine (without `interval_start`) are the interconnect deck carriers exchange;
 * `interval_start` (rates that change within a call, as CGRateS' rate slots) and the five band
 * columns are this project's addition.
 */
export const DECK_COLUMNS: readonly DeckColumn[] = [
  { name: "service", meaning: "voice, sms or data", default: "voice" },
  { name: "prefix", meaning: "E.164 digits of the called number; a leading + is dropped", default: null },
  { name: "destination", meaning: "name shown in reports and summaries", default: null },
  {
    name: "rate",
    meaning: "per minute (voice), per message (sms), per MB = 10^6 bytes (data); up to 12 decimals",
    default: null,
  },
  {
    name: "connect_fee",
    meaning: "per rated CDR, up to 12 decimals; only on a tariff's interval_start 0 row",
    default: "0",
  },
  { name: "first_increment", meaning: "voice: seconds of the first billed block", default: "1" },
  { name: "next_increment", meaning: "voice: seconds of every later billed block", default: "1" },
  {
    name: "interval_start",
    meaning: "voice: second of the call from which this row's rate and increments apply",
    default: "0",
  },
  {
    name: "effective_from",
    meaning: "inclusive; ISO date or date-time (no offset = UTC)",
    default: "since ever",
  },
  { name: "effective_to", meaning: "exclusive; same form", default: "until further notice" },
  {
    name: "time_band",
    meaning: "band name (peak, night, ...); empty = the row applies at all times",
    default: "",
  },
  { name: "days", meaning: "mon-fri, sat,sun, mon-wed,fri or all", default: "all" },
  { name: "time_from", meaning: "local HH:MM on a quarter hour, inclusive", default: "00:00" },
  {
    name: "time_to",
    meaning: "local HH:MM on a quarter hour, exclusive; <= time_from wraps past midnight",
    default: "24:00",
  },
  { name: "timezone", meaning: "IANA zone of days, time_from and time_to", default: "UTC" },
];
const COLUMN_NAMES: ReadonlySet<string> = new Set(DECK_COLUMNS.map((column) => column.name));
const REQUIRED = DECK_COLUMNS.filter((column) => column.default === null).map((column) => column.name);
const SERVICES: readonly Service[] = ["voice", "sms", "data"];
const MAX_INCREMENT = 86_400;
/** A day: no real call outlasts it, and it keeps every second count far below 2^53. */
const MAX_INTERVAL_START = 86_400;

/**
 * Parses a tariff deck (CSV text, header row) and validates every row and the deck as a whole
 * (unknown columns, the intervals of each tariff, overlapping tariffs for one prefix). Returns the
 * rows (one per valid deck line) and every problem found, so a validation report can list them all
 * at once.
 */
export function parseTariffDeck(text: string): { rows: TariffRow[]; problems: DeckProblem[] } {
  const records = splitCsv(text);
  const problems: DeckProblem[] = [];
  const rows: TariffRow[] = [];
  const header = records.shift();
  if (!header) return { rows, problems: [{ line: 1, field: "header", message: "the deck is empty" }] };
  const columns = header.fields.map((name) => name.trim().toLowerCase());
  for (const name of columns) {
    if (!COLUMN_NAMES.has(name)) {
      problems.push({ line: header.line, field: name, message: `unknown column '${name}'` });
    }
  }
  for (const name of REQUIRED) {
    if (!columns.includes(name)) {
      problems.push({ line: header.line, field: name, message: `the header lacks the column '${name}'` });
    }
  }
  if (problems.length > 0) return { rows, problems };

  for (const record of records) {
    const get = (name: string): string => {
      const index = columns.indexOf(name);
      return index < 0 ? "" : (record.fields[index] ?? "").trim();
    };
    const rowProblems: DeckProblem[] = [];
    const fail = (field: string, message: string) => rowProblems.push({ line: record.line, field, message });
    if (record.fields.length !== columns.length) {
      fail("row", `has ${record.fields.length} fields; the header has ${columns.length}`);
      problems.push(...rowProblems);
      continue;
    }

    const serviceText = get("service").toLowerCase() || "voice";
    const service = SERVICES.find((s) => s === serviceText);
    if (!service) fail("service", `'${get("service")}' is not voice, sms or data`);

    const prefix = get("prefix").replace(/^\+/, "");
    if (!/^\d{1,15}$/.test(prefix)) fail("prefix", `'${get("prefix")}' is not 1–15 digits`);
    const destination = get("destination");
    if (destination === "") fail("destination", "is empty");

    const rate = parseScaled(get("rate"), RATE_SCALE);
    if (rate === null || rate < 0n) {
      fail("rate", `'${get("rate")}' is not a non-negative decimal with at most ${RATE_SCALE} places`);
    }
    const feeText = get("connect_fee") || "0";
    const connectFee = parseScaled(feeText, RATE_SCALE);
    if (connectFee === null || connectFee < 0n) {
      fail("connect_fee", `'${feeText}' is not a non-negative decimal with at most ${RATE_SCALE} places`);
    }

    const increment = (name: string): number => {
      const text = get(name) || "1";
      const value = /^\d+$/.test(text) ? Number(text) : NaN;
      if (!(value >= 1 && value <= MAX_INCREMENT))
        fail(name, `'${text}' is not a whole number of seconds from 1 to ${MAX_INCREMENT}`);
      return value;
    };
    const firstIncrement = increment("first_increment");
    const nextIncrement = increment("next_increment");
    const startText = get("interval_start") || "0";
    const intervalStart = /^\d+$/.test(startText) ? Number(startText) : NaN;
    if (!(intervalStart >= 0 && intervalStart <= MAX_INTERVAL_START)) {
      fail(
        "interval_start",
        `'${startText}' is not a whole number of seconds from 0 to ${MAX_INTERVAL_START}`,
      );
    } else if (intervalStart !== 0 && service !== undefined && service !== "voice") {
      // Messages and bytes have no "within the call" to change rates in.
      fail("interval_start", `is ${intervalStart}, but only voice rows may start a later interval`);
    }

    const instant = (name: string): number | null => {
      const text = get(name);
      if (text === "") return null;
      const ms = parseIsoToUtcMs(text);
      if (ms === null) fail(name, `'${text}' is not an ISO 8601 date or date-time`);
      return ms;
    };
    const effectiveFrom = instant("effective_from");
    const effectiveTo = instant("effective_to");
    if (effectiveFrom !== null && effectiveTo !== null && effectiveTo <= effectiveFrom) {
      fail("effective_to", "is not after effective_from");
    }

    const band = parseBand(get, fail);
    if (rowProblems.length > 0 || !service || rate === null || connectFee === null) {
      problems.push(...rowProblems);
      continue;
    }
    rows.push({
      line: record.line,
      service,
      prefix,
      destination,
      rate,
      connectFee,
      firstIncrement,
      nextIncrement,
      intervalStart,
      effectiveFrom,
      effectiveTo,
      band,
    });
  }
  problems.push(...assembleTariffs(rows).problems);
  return { rows, problems };
}

/**
 * Parses and validates a deck, throwing when anything is wrong.
 * @throws InputError naming the deck file, the first bad line and field, with every problem in `details`.
 */
export function loadTariffDeck(text: string, fileName: string): TariffRow[] {
  const { rows, problems } = parseTariffDeck(text);
  const first = problems[0];
  if (first) {
    throw new InputError(first.message, {
      file: fileName,
      line: first.line,
      field: first.field,
      details:
        problems.length > 1
          ? problems.map((p) => `  ${fileName}, line ${p.line}, field ${p.field}: ${p.message}`).join("\n")
          : undefined,
    });
  }
  if (rows.length === 0) throw new InputError("the deck has no rows", { file: fileName, line: 1 });
  return rows;
}

function parseBand(
  get: (name: string) => string,
  fail: (field: string, message: string) => void,
): TimeBand | null {
  const name = get("time_band");
  const daysText = get("days");
  const fromText = get("time_from");
  const toText = get("time_to");
  const zone = get("timezone") || "UTC";
  if (name === "" && daysText === "" && fromText === "" && toText === "") return null;
  if (name === "") fail("time_band", "is empty but the row has band columns (days, time_from, time_to)");
  const days = parseDays(daysText);
  if (!days) fail("days", `'${daysText}' is not a day list like mon-fri or sat,sun`);
  const fromMinute = parseClock(fromText || "00:00");
  if (fromMinute === null || fromMinute % 15 !== 0)
    fail("time_from", `'${fromText}' is not HH:MM on a quarter hour`);
  const toMinute = parseClock(toText || "24:00");
  if (toMinute === null || toMinute % 15 !== 0) fail("time_to", `'${toText}' is not HH:MM on a quarter hour`);
  if (!isValidTimeZone(zone)) fail("timezone", `'${zone}' is not an IANA time zone`);
  if (!days || fromMinute === null || toMinute === null) return null;
  return {
    name,
    days,
    fromMinute,
    toMinute: toMinute === fromMinute ? fromMinute + 1440 : toMinute,
    timeZone: zone,
  };
}

/** Minimal RFC 4180 reader for small files held in memory (decks); CDR files stream through mediation. */
export function splitCsv(text: string): { line: number; fields: string[] }[] {
  const records: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = "";
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let fieldStarted = false;
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === "" && !fieldStarted))
      records.push({ line: recordLine, fields });
    fields = [];
    field = "";
    fieldStarted = false;
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (quoted) {
      if (c === '"') {
        if (body[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === "\n") line++;
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
      fieldStarted = true;
    } else if (c === ",") {
      fields.push(field);
      field = "";
      fieldStarted = true;
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && body[i + 1] === "\n") i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (field !== "" || fields.length > 0 || fieldStarted) endRecord();
  return records;
}
