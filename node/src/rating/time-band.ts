/**
 * Time bands: a tariff row may apply only on some weekdays and between two local wall-clock times
 * in the deck's zone (peak, off-peak, weekend). Local time comes from `Intl`, cached per zone and
 * quarter hour, because no zone on earth changes its UTC offset off a quarter-hour boundary.
 */

export interface TimeBand {
  /** Free-form name shown in reports, e.g. `peak`. */
  name: string;
  /** Index 0 = Monday … 6 = Sunday. */
  days: readonly boolean[];
  /** Minutes after local midnight, inclusive. */
  fromMinute: number;
  /** Minutes after local midnight, exclusive; ≤ fromMinute means the band wraps past midnight. */
  toMinute: number;
  timeZone: string;
}

const DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const QUARTER_HOUR_MS = 15 * 60 * 1000;

/** Parses `mon-fri`, `sat,sun`, `mon-wed,fri`, `all` into seven flags (Monday first); null if malformed. */
export function parseDays(text: string): boolean[] | null {
  const days: boolean[] = [false, false, false, false, false, false, false];
  const spec = text.trim().toLowerCase();
  if (spec === "" || spec === "all" || spec === "*") return days.map(() => true);
  for (const part of spec.split(",")) {
    const [fromName, toName] = part
      .trim()
      .split("-")
      .map((s) => s.trim());
    const from = DAY_NAMES.indexOf(fromName as (typeof DAY_NAMES)[number]);
    const to = toName === undefined ? from : DAY_NAMES.indexOf(toName as (typeof DAY_NAMES)[number]);
    if (from < 0 || to < 0) return null;
    for (let i = from; ; i = (i + 1) % 7) {
      days[i] = true;
      if (i === to) break;
    }
  }
  return days;
}

/** Parses `HH:MM` (00:00–24:00) into minutes after midnight; null if malformed. */
export function parseClock(text: string): number | null {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!match) return null;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (hours > 24 || minutes > 59 || (hours === 24 && minutes !== 0)) return null;
  return hours * 60 + minutes;
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, number>();

/** UTC offset of `timeZone` at the instant `utcMs`, in milliseconds (local = utc + offset). */
export function zoneOffsetMs(timeZone: string, utcMs: number): number {
  const quarter = Math.floor(utcMs / QUARTER_HOUR_MS);
  const cacheKey = `${timeZone}|${quarter}`;
  const cached = offsetCache.get(cacheKey);
  if (cached !== undefined) return cached;
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, formatter);
  }
  const at = quarter * QUARTER_HOUR_MS;
  const parts: Record<string, number> = {};
  for (const part of formatter.formatToParts(at)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  const offset = asUtc - at;
  if (offsetCache.size > 100_000) offsetCache.clear();
  offsetCache.set(cacheKey, offset);
  return offset;
}

/** True when the instant `utcMs` falls inside `band` (local weekday and wall-clock time). */
export function bandContains(band: TimeBand, utcMs: number): boolean {
  const local = utcMs + zoneOffsetMs(band.timeZone, utcMs);
  const dayMs = 86_400_000;
  const localDays = Math.floor(local / dayMs);
  // 1970-01-01 was a Thursday: index 3 with Monday = 0.
  const weekday = (((localDays + 3) % 7) + 7) % 7;
  const minute = Math.floor((local - localDays * dayMs) / 60_000);
  if (band.fromMinute < band.toMinute) {
    return band.days[weekday] === true && minute >= band.fromMinute && minute < band.toMinute;
  }
  // A band wrapping midnight (22:00–06:00) belongs to the day it starts on.
  if (minute >= band.fromMinute) return band.days[weekday] === true;
  if (minute < band.toMinute) return band.days[(weekday + 6) % 7] === true;
  return false;
}

/** True when some instant of the week lies in both bands (checked per minute of the week in UTC terms of each zone). */
export function bandsOverlap(a: TimeBand, b: TimeBand): boolean {
  // A week starting on a Monday 00:00 UTC; sampling every 15 minutes covers every band edge (HH:MM
  // edges on quarter hours are the norm; finer edges are validated as quarter-hour aligned).
  const monday = Date.UTC(2026, 0, 5);
  for (let t = monday - 86_400_000; t < monday + 8 * 86_400_000; t += QUARTER_HOUR_MS) {
    if (bandContains(a, t) && bandContains(b, t)) return true;
  }
  return false;
}
