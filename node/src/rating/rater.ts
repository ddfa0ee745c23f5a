import { InputError } from "../errors";
import type { MediatedCdr, Service } from "../mediation/types";
import { divRoundHalfUp, MONEY_SCALE, RATE_SCALE } from "../money/decimal";
import { PrefixTrie } from "./prefix-trie";
import { assembleTariffs, type Tariff, type TariffInterval } from "./tariff";
import type { TariffRow } from "./tariff-deck";
import { bandContains } from "./time-band";

export type RatingResult =
  | {
      outcome: "rated";
      destination: string;
      prefix: string;
      /** Billed seconds (voice, after increments, summed over the tariff's intervals), messages (sms) or bytes (data). */
      billed: number;
      /** Exact charge rounded half up to micro-units. */
      amount: bigint;
      /** Deck line of the tariff applied (its interval_start 0 row). */
      tariffLine: number;
      band: string | null;
    }
  | {
      outcome: "unbilled";
      /**
       * What the deck in force would have priced the called number as (same prefix, date and band
       * choice as a billed call), for statistics over every attempt; null when nothing covers it.
       */
      destination: string | null;
      prefix: string | null;
    }
  | { outcome: "rejected"; reason: "NO_RATE"; message: string };

/** An unbilled attempt that no tariff covers; shared, as each tariff's own unbilled result is. */
const UNBILLED_UNCOVERED: RatingResult = Object.freeze({
  outcome: "unbilled",
  destination: null,
  prefix: null,
});
const SCALE_GAP = 10n ** BigInt(RATE_SCALE - MONEY_SCALE);
const VOICE_DIVISOR = 60n * SCALE_GAP;
const SMS_DIVISOR = SCALE_GAP;
const DATA_DIVISOR = 1_000_000n * SCALE_GAP;

/**
 * Billed seconds of a voice call: 0 for 0 s; `first` when the call lasts at most `first`; else
 * `first` plus the rest rounded up to whole `next` increments.
 */
export function billedSeconds(duration: number, first: number, next: number): number {
  if (duration <= 0) return 0;
  if (duration <= first) return first;
  return first + Math.ceil((duration - first) / next) * next;
}

/**
 * Exact charge in micro-units, rounded half up at the 6th decimal:
 * voice `fee + rate × billed / 60`, sms `fee + rate × messages`, data `fee + rate × bytes / 10^6`.
 * Computed in integers: as doubles when every intermediate value is an exact integer below 2^53
 * (almost always, and several times faster), otherwise with bigint. Both give the same result.
 */
export function charge(service: Service, rate: bigint, connectFee: bigint, billed: number): bigint {
  const fast = chargeFast(service, Number(rate), Number(connectFee), billed);
  return fast === null ? chargeExact(service, rate, connectFee, billed) : BigInt(fast);
}

/** The bigint reference computation of {@link charge}. */
export function chargeExact(service: Service, rate: bigint, connectFee: bigint, billed: number): bigint {
  const units = BigInt(billed);
  switch (service) {
    case "voice":
      return divRoundHalfUp(connectFee * 60n + rate * units, VOICE_DIVISOR);
    case "sms":
      return divRoundHalfUp(connectFee + rate * units, SMS_DIVISOR);
    case "data":
      return divRoundHalfUp(connectFee * 1_000_000n + rate * units, DATA_DIVISOR);
  }
}

const SAFE = Number.MAX_SAFE_INTEGER;
const VOICE_DIVISOR_N = Number(VOICE_DIVISOR);
const SMS_DIVISOR_N = Number(SMS_DIVISOR);
const DATA_DIVISOR_N = Number(DATA_DIVISOR);

/**
 * {@link chargeExact} in doubles, or null when a value could leave the exact-integer range. Every
 * operand is an integer and every product and sum is checked against 2^53 before it is formed, so
 * each operation is exact (see {@link roundFast} for the division).
 */
function chargeFast(service: Service, rate: number, fee: number, billed: number): number | null {
  let scaledFee: number;
  let divisor: number;
  switch (service) {
    case "voice":
      scaledFee = fee * 60;
      divisor = VOICE_DIVISOR_N;
      break;
    case "sms":
      scaledFee = fee;
      divisor = SMS_DIVISOR_N;
      break;
    case "data":
      scaledFee = fee * 1_000_000;
      divisor = DATA_DIVISOR_N;
      break;
  }
  if (rate > SAFE || fee > SAFE || billed > SAFE || scaledFee > SAFE) return null;
  if (billed !== 0 && rate > SAFE / billed) return null;
  const usage = rate * billed;
  if (usage > SAFE - scaledFee) return null;
  return roundFast(scaledFee + usage, divisor);
}

/**
 * Half-up division of an exact integer double `dividend` (≤ 2^53 − 1) by `divisor`, or null near
 * the top of the range. Done as floor((2n + d) / 2d) with a remainder correction, so the quotient is
 * exact although the double division may round.
 */
function roundFast(dividend: number, divisor: number): number | null {
  const twice = 2 * divisor;
  const numerator = 2 * dividend + divisor;
  // Headroom of one divisor step keeps quotient × twice below 2^53 even if the quotient rounded up.
  if (numerator > SAFE - twice) return null;
  let quotient = Math.floor(numerator / twice);
  // The division of two exact doubles may round to the next integer; the remainder says which way.
  const remainder = numerator - quotient * twice;
  if (remainder < 0) quotient -= 1;
  else if (remainder >= twice) quotient += 1;
  return quotient;
}

/**
 * Seconds of a `duration`-second call that fall in interval `k` of `intervals` (ascending starts,
 * the last open-ended); 0 when the call ends before it starts.
 */
function secondsIn(intervals: readonly TariffInterval[], k: number, duration: number): number {
  const start = intervals[k]!.start;
  if (start >= duration) return 0;
  const next = intervals[k + 1];
  return (next === undefined || next.start > duration ? duration : next.start) - start;
}

/**
 * Billed seconds of a voice call of `duration` answered seconds under a tariff's intervals: per
 * interval, the call's seconds inside it rounded up by that interval's increments (counted from the
 * interval's start, {@link billedSeconds}), summed. A deck guarantees every interval but the last is
 * a whole number of its increments long, so a call running past a boundary is billed the interval's
 * exact length in it. 0 for 0 s.
 */
export function billedVoiceSeconds(intervals: readonly TariffInterval[], duration: number): number {
  let billed = 0;
  for (let k = 0; k < intervals.length; k++) {
    const seconds = secondsIn(intervals, k, duration);
    if (seconds <= 0) break;
    const interval = intervals[k]!;
    billed += billedSeconds(seconds, interval.firstIncrement, interval.nextIncrement);
  }
  return billed;
}

/**
 * Exact charge in micro-units of a voice call of `duration` answered seconds under a tariff's
 * intervals: `fee + Σ rate_k × billed_k / 60` as ONE fraction, rounded half up once, so a call is not
 * rounded per interval. As {@link charge}: in doubles when every value stays an exact integer, else
 * with bigint ({@link voiceChargeExact}); both give the same result.
 */
export function voiceCharge(
  connectFee: bigint,
  intervals: readonly TariffInterval[],
  duration: number,
): bigint {
  const fast = voiceChargeFast(Number(connectFee), intervals, duration);
  return fast === null ? voiceChargeExact(connectFee, intervals, duration) : BigInt(fast);
}

/** The bigint reference computation of {@link voiceCharge}. */
export function voiceChargeExact(
  connectFee: bigint,
  intervals: readonly TariffInterval[],
  duration: number,
): bigint {
  let numerator = connectFee * 60n;
  for (let k = 0; k < intervals.length; k++) {
    const seconds = secondsIn(intervals, k, duration);
    if (seconds <= 0) break;
    const interval = intervals[k]!;
    numerator +=
      interval.rate * BigInt(billedSeconds(seconds, interval.firstIncrement, interval.nextIncrement));
  }
  return divRoundHalfUp(numerator, VOICE_DIVISOR);
}

function voiceChargeFast(fee: number, intervals: readonly TariffInterval[], duration: number): number | null {
  const scaledFee = fee * 60;
  if (fee > SAFE || scaledFee > SAFE) return null;
  let usage = 0;
  for (let k = 0; k < intervals.length; k++) {
    const seconds = secondsIn(intervals, k, duration);
    if (seconds <= 0) break;
    const interval = intervals[k]!;
    const billed = billedSeconds(seconds, interval.firstIncrement, interval.nextIncrement);
    // Number() of a bigint above 2^53 − 1 lands on 2^53 or more, so the range check still catches it.
    const rate = Number(interval.rate);
    if (rate > SAFE || billed > SAFE) return null;
    if (billed !== 0 && rate > SAFE / billed) return null;
    const part = rate * billed;
    // usage is exact and ≤ 2^53 − 1 here; an inexact part is ≥ 2^53 and fails this check too.
    if (part > SAFE - usage) return null;
    usage += part;
  }
  if (usage > SAFE - scaledFee) return null;
  return roundFast(scaledFee + usage, VOICE_DIVISOR_N);
}

/** A tariff in the rater's trie, with its unbilled result built once so unbilled attempts allocate nothing. */
interface Entry {
  readonly tariff: Tariff;
  readonly unbilled: RatingResult;
}

/** Voice not answered or of 0 s, and sms or data that did not go through, bill nothing: deck or no deck. */
export function isUnbilled(cdr: Pick<MediatedCdr, "disposition" | "service" | "duration">): boolean {
  return cdr.disposition !== "ANSWERED" || (cdr.service === "voice" && cdr.duration <= 0);
}

/**
 * Rates a CDR against the deck in force for its partner and direction, or, without one, leaves it
 * unbilled (an attempt that bills nothing needs no deck) or rejects it `NO_RATE`. One rule for ingest
 * and re-rating.
 */
export function rateInForce(
  deck: { deckId: number; rater: Rater } | undefined,
  cdr: MediatedCdr,
): { result: RatingResult; deckId: number | null } {
  if (deck === undefined) {
    return {
      result: isUnbilled(cdr)
        ? UNBILLED_UNCOVERED
        : {
            outcome: "rejected",
            reason: "NO_RATE",
            message: `no active tariff deck for ${cdr.partner} ${cdr.direction} (icl tariffs import)`,
          },
      deckId: null,
    };
  }
  const result = deck.rater.rate(cdr);
  const priced = result.outcome === "rated" || (result.outcome === "unbilled" && result.destination !== null);
  return { result, deckId: priced ? deck.deckId : null };
}

/**
 * Rates mediated CDRs against one tariff deck. Built once per deck (a prefix trie of tariffs per
 * service); `rate` is then O(digits of the called number) and allocation-light.
 */
export class Rater {
  private readonly tries = new Map<Service, PrefixTrie<Entry>>();
  /**
   * Scratch for the trie walk, reused by every `rate` call: rating is synchronous, so no two lookups
   * of one rater are ever in flight at once.
   */
  private readonly path: Entry[][] = [];

  /**
   * Builds the rater from a deck's rows (as {@link loadTariffDeck} or the database returns them).
   * @throws InputError naming the first line and field when the rows do not form valid tariffs
   * (a deck that passed validation always does).
   */
  constructor(rows: readonly TariffRow[]) {
    const { tariffs, problems } = assembleTariffs(rows);
    const problem = problems[0];
    if (problem) throw new InputError(problem.message, { line: problem.line, field: problem.field });
    for (const tariff of tariffs) {
      let trie = this.tries.get(tariff.service);
      if (!trie) {
        trie = new PrefixTrie<Entry>();
        this.tries.set(tariff.service, trie);
      }
      const unbilled: RatingResult = Object.freeze({
        outcome: "unbilled",
        destination: tariff.destination,
        prefix: tariff.prefix,
      });
      trie.insert(tariff.prefix, { tariff, unbilled });
    }
  }

  /**
   * Rates one CDR. Among the tariffs of the CDR's service effective at its start (UTC), the longest
   * prefix of the called number wins; within that prefix a time band containing the start beats the
   * prefix's unbanded tariff. Voice that was not answered or lasted 0 s, and sms/data that did not go
   * through, are unbilled, carrying the destination that choice gives (null when none covers the
   * number); they are never rejected. A billed CDR that no tariff covers is rejected `NO_RATE`.
   */
  rate(cdr: MediatedCdr): RatingResult {
    const found = this.choose(cdr.service, cdr.bNumber, cdr.startMs);
    if (isUnbilled(cdr)) {
      return typeof found === "object" && found !== null ? found.unbilled : UNBILLED_UNCOVERED;
    }
    if (found === null) {
      return {
        outcome: "rejected",
        reason: "NO_RATE",
        message: `no ${cdr.service} rate for ${cdr.bNumber} at ${new Date(cdr.startMs).toISOString()}`,
      };
    }
    if (typeof found === "string") {
      return {
        outcome: "rejected",
        reason: "NO_RATE",
        message: `${cdr.service} prefix ${found} has no time band covering ${new Date(cdr.startMs).toISOString()}`,
      };
    }
    const tariff = found.tariff;
    let billed: number;
    let amount: bigint;
    if (cdr.service === "voice") {
      billed = billedVoiceSeconds(tariff.intervals, cdr.duration);
      amount = voiceCharge(tariff.connectFee, tariff.intervals, cdr.duration);
    } else {
      billed = cdr.volume;
      amount = charge(cdr.service, tariff.intervals[0]!.rate, tariff.connectFee, billed);
    }
    return {
      outcome: "rated",
      destination: tariff.destination,
      prefix: tariff.prefix,
      billed,
      amount,
      tariffLine: tariff.line,
      band: tariff.band?.name ?? null,
    };
  }

  /**
   * The tariff that prices `bNumber` at `startMs`; the prefix (a string) when the longest prefix in
   * effect has only bands and none covers the time; null when no tariff of the service is in effect
   * for any prefix of the number.
   */
  private choose(service: Service, bNumber: string, startMs: number): Entry | string | null {
    const trie = this.tries.get(service);
    if (!trie) return null;
    const path = this.path;
    for (let i = trie.collect(bNumber, path) - 1; i >= 0; i--) {
      const entries = path[i]!;
      let effective = false;
      let chosen: Entry | undefined;
      for (const entry of entries) {
        const tariff = entry.tariff;
        if (tariff.effectiveFrom !== null && startMs < tariff.effectiveFrom) continue;
        if (tariff.effectiveTo !== null && startMs >= tariff.effectiveTo) continue;
        effective = true;
        if (tariff.band === null) {
          if (!chosen) chosen = entry;
        } else if (bandContains(tariff.band, startMs)) {
          chosen = entry;
          break;
        }
      }
      if (!effective) continue;
      // The longest prefix in effect decides, even when none of its bands covers the time: a shorter
      // prefix is another destination, not a fallback for this one.
      return chosen ?? entries[0]!.tariff.prefix;
    }
    return null;
  }
}
