import { InputError } from "../errors";

const MS_PER_DAY = 86_400_000;
const MS_PER_HOUR = 3_600_000;

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Two ASCII digits at `i` as a number, or -1. */
function two(text: string, i: number): number {
  const a = text.charCodeAt(i) - 48;
  const b = text.charCodeAt(i + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

/** Parses `YYYY-MM-DD` at the start of `text` into days since the epoch, or NaN. */
function parseDate(text: string): number {
  const hi = two(text, 0);
  const lo = two(text, 2);
  if (hi < 0 || lo < 0 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return NaN;
  const year = hi * 100 + lo;
  const month = two(text, 5);
  const day = two(text, 8);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return NaN;
  return daysFromCivil(year, month, day);
}

/** Parses `HH:MM` at `i` into milliseconds since midnight, or NaN (hour 0–23, minute 0–59). */
function parseHourMinute(text: string, i: number): number {
  const hour = two(text, i);
  const minute = two(text, i + 3);
  if (hour < 0 || hour > 23 || text.charCodeAt(i + 2) !== 58 || minute < 0 || minute > 59) return NaN;
  return hour * MS_PER_HOUR + minute * 60_000;
}

/**
 * Parses an ISO 8601 date or date-time to UTC epoch milliseconds, by hand (no `Date.parse`).
 * Accepts `YYYY-MM-DD`, then optionally `T`/`t`/space, `HH:MM`, `:SS`, a fraction (`.` or `,`,
 * truncated to milliseconds), and an offset `Z`, `±HH:MM`, `±HHMM` or `±HH`. No offset means UTC;
 * a bare date means midnight UTC. Seconds run 0–59 (no leap second). Returns null when invalid.
 */
export function parseIsoToUtcMs(text: string): number | null {
  const n = text.length;
  if (n < 10) return null;
  const days = parseDate(text);
  if (days !== days) return null;
  if (n === 10) return days * MS_PER_DAY;
  const sep = text.charCodeAt(10);
  if ((sep !== 84 && sep !== 116 && sep !== 32) || n < 16) return null;
  let ms = parseHourMinute(text, 11);
  if (ms !== ms) return null;
  let i = 16;
  if (i < n && text.charCodeAt(i) === 58) {
    const second = two(text, 17);
    if (second < 0 || second > 59) return null;
    ms += second * 1000;
    i = 19;
    const c = text.charCodeAt(i);
    if (i < n && (c === 46 || c === 44)) {
      i++;
      const start = i;
      let fraction = 0;
      for (; i < n; i++) {
        const d = text.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        if (i - start < 3) fraction = fraction * 10 + d;
      }
      const digits = i - start;
      if (digits === 0) return null;
      ms += digits === 1 ? fraction * 100 : digits === 2 ? fraction * 10 : fraction;
    }
  }
  let offset = 0;
  if (i < n) {
    const c = text.charCodeAt(i);
    if (c === 90 || c === 122) {
      if (i + 1 !== n) return null;
    } else if (c === 43 || c === 45) {
      const oh = two(text, i + 1);
      if (oh < 0 || oh > 23) return null;
      let om = 0;
      const rest = n - (i + 3);
      if (rest === 3 && text.charCodeAt(i + 3) === 58) om = two(text, i + 4);
      else if (rest === 2) om = two(text, i + 3);
      else if (rest !== 0) return null;
      if (om < 0 || om > 59) return null;
      offset = (c === 43 ? 1 : -1) * (oh * MS_PER_HOUR + om * 60_000);
    } else {
      return null;
    }
  }
  return days * MS_PER_DAY + ms - offset;
}

/** Parses exactly `YYYY-MM-DD HH:MM:SS` as a wall-clock time read as if UTC, or NaN. */
export function parseWallMs(text: string): number {
  if (text.length !== 19) return NaN;
  const days = parseDate(text);
  const sep = text.charCodeAt(10);
  if (days !== days || sep !== 32) return NaN;
  const ms = parseHourMinute(text, 11);
  const second = two(text, 17);
  if (ms !== ms || text.charCodeAt(16) !== 58 || second < 0 || second > 59) return NaN;
  return days * MS_PER_DAY + ms + second * 1000;
}

/** True when `timeZone` is an IANA zone name that this runtime's Intl knows. */
export function isValidTimeZone(timeZone: string): boolean {
  if (timeZone.length === 0) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}

const HOUR_CACHE_LIMIT = 200_000;

/**
 * Converts local wall-clock times of one IANA zone to UTC. Intl is consulted once per local hour
 * (the resolved offset is cached per zone and local hour), so a million rows cost a few hundred
 * Intl calls. Hours that contain a transition at a non-hour boundary (e.g. Lord Howe's 30-minute
 * shift) are marked and resolved exactly per row.
 *
 * DST rules, the same as Temporal's "compatible" disambiguation:
 * - an ambiguous local time (autumn fall-back, the hour happens twice) takes the earlier, first
 *   occurrence (the pre-transition, summer offset);
 * - a non-existent local time (spring gap) is shifted forward by the length of the gap: it is read
 *   with the offset in force before the transition, so 01:30 in London on the spring-forward day
 *   becomes 01:30 UTC, i.e. 02:30 BST.
 */
export class ZoneConverter {
  readonly timeZone: string;
  private readonly format: Intl.DateTimeFormat;
  private readonly hours = new Map<number, number>();

  constructor(timeZone: string) {
    this.timeZone = timeZone;
    this.format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  }

  /** Offset of the zone (local − UTC) in ms at a UTC instant, straight from Intl. */
  offsetAt(utcMs: number): number {
    let year = 0;
    let month = 1;
    let day = 1;
    let hour = 0;
    let minute = 0;
    let second = 0;
    for (const part of this.format.formatToParts(utcMs)) {
      const v = Number(part.value);
      switch (part.type) {
        case "year":
          year = v;
          break;
        case "month":
          month = v;
          break;
        case "day":
          day = v;
          break;
        case "hour":
          hour = v === 24 ? 0 : v;
          break;
        case "minute":
          minute = v;
          break;
        case "second":
          second = v;
          break;
        default:
          break;
      }
    }
    const wall =
      daysFromCivil(year, month, day) * MS_PER_DAY + hour * MS_PER_HOUR + minute * 60_000 + second * 1000;
    return wall - Math.floor(utcMs / 1000) * 1000;
  }

  /** Exact resolution of a wall time (read as if UTC) to a UTC instant; see the class comment for DST. */
  resolve(wallMs: number): number {
    const early = this.offsetAt(wallMs - MS_PER_DAY);
    const late = this.offsetAt(wallMs + MS_PER_DAY);
    const a = wallMs - early;
    if (early === late) {
      // No transition nearby (or one we straddle exactly); confirm and fall back to a direct probe.
      if (this.offsetAt(a) === early) return a;
      return wallMs - this.offsetAt(a);
    }
    const b = wallMs - late;
    const aValid = this.offsetAt(a) === early;
    const bValid = this.offsetAt(b) === late;
    if (aValid && bValid) return Math.min(a, b);
    if (aValid) return a;
    if (bValid) return b;
    return a; // gap: the pre-transition offset moves the time forward by the gap
  }

  /** Wall time (read as if UTC) → UTC epoch ms, cached per local hour. */
  toUtc(wallMs: number): number {
    const hour = Math.floor(wallMs / MS_PER_HOUR);
    let offset = this.hours.get(hour);
    if (offset === undefined) {
      const start = hour * MS_PER_HOUR;
      const o1 = start - this.resolve(start);
      const o2 = start + MS_PER_HOUR - 1000 - this.resolve(start + MS_PER_HOUR - 1000);
      offset = o1 === o2 ? o1 : NaN;
      if (this.hours.size >= HOUR_CACHE_LIMIT) this.hours.clear();
      this.hours.set(hour, offset);
    }
    return offset === offset ? wallMs - offset : this.resolve(wallMs);
  }
}

const converters = new Map<string, ZoneConverter>();

/** The shared converter of a zone; throws InputError for a zone name Intl does not know. */
export function zoneConverter(timeZone: string): ZoneConverter {
  let converter = converters.get(timeZone);
  if (converter === undefined) {
    if (!isValidTimeZone(timeZone)) {
      throw new InputError(`unknown time zone '${timeZone}' (expected an IANA name such as Europe/London)`, {
        field: "timeZone",
      });
    }
    converter = new ZoneConverter(timeZone);
    converters.set(timeZone, converter);
  }
  return converter;
}

/**
 * Parses `YYYY-MM-DD HH:MM:SS` as local wall time in an IANA zone to UTC epoch ms; null when the
 * text is not such a time. Ambiguous times take the first occurrence; times in a spring gap move
 * forward by the gap. Throws InputError for an unknown zone (a configuration error, not data).
 */
export function parseLocalToUtcMs(text: string, timeZone: string): number | null {
  const converter = zoneConverter(timeZone);
  const wall = parseWallMs(text);
  if (wall !== wall) return null;
  return converter.toUtc(wall);
}
