import type { MediatedCdr, Service } from "../mediation/types";
import { divRoundHalfUp, MONEY_SCALE, RATE_SCALE } from "../money/decimal";
import { PrefixTrie } from "./prefix-trie";
import { bandContains } from "./time-band";
import type { TariffRow } from "./tariff-deck";

export type RatingResult =
  | {
      outcome: "rated";
      destination: string;
      prefix: string;
      /** Billed seconds (voice, after increments), messages (sms) or bytes (data). */
      billed: number;
      /** Exact charge rounded half up to micro-units. */
      amount: bigint;
      /** Deck line of the tariff row applied. */
      tariffLine: number;
      band: string | null;
    }
  | { outcome: "unbilled" }
  | { outcome: "rejected"; reason: "NO_RATE"; message: string };

const UNBILLED: RatingResult = { outcome: "unbilled" };
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
 * each operation is exact; the half-up division is done as floor((2n + d) / 2d) with a remainder
 * correction, so the quotient is exact too.
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
  const twice = 2 * divisor;
  const numerator = 2 * (scaledFee + usage) + divisor;
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
 * Rates mediated CDRs against one tariff deck. Built once per deck (a prefix trie per service);
 * `rate` is then O(digits of the called number) and allocation-light.
 */
export class Rater {
  private readonly tries = new Map<Service, PrefixTrie<TariffRow>>();

  constructor(rows: readonly TariffRow[]) {
    for (const row of rows) {
      let trie = this.tries.get(row.service);
      if (!trie) {
        trie = new PrefixTrie<TariffRow>();
        this.tries.set(row.service, trie);
      }
      trie.insert(row.prefix, row);
    }
  }

  /**
   * Rates one CDR. Voice that was not answered or lasted 0 s, and sms/data that did not go through,
   * are unbilled. Otherwise: among the rows of the CDR's service effective at its start (UTC), the
   * longest prefix of the called number wins; within that prefix a time band containing the start
   * beats the prefix's unbanded row.
   */
  rate(cdr: MediatedCdr): RatingResult {
    if (cdr.disposition !== "ANSWERED") return UNBILLED;
    if (cdr.service === "voice" && cdr.duration <= 0) return UNBILLED;
    const trie = this.tries.get(cdr.service);
    if (trie) {
      for (const rows of trie.candidates(cdr.bNumber)) {
        let effective = false;
        let chosen: TariffRow | undefined;
        for (const row of rows) {
          if (row.effectiveFrom !== null && cdr.startMs < row.effectiveFrom) continue;
          if (row.effectiveTo !== null && cdr.startMs >= row.effectiveTo) continue;
          effective = true;
          if (row.band === null) {
            if (!chosen) chosen = row;
          } else if (bandContains(row.band, cdr.startMs)) {
            chosen = row;
            break;
          }
        }
        if (!effective) continue;
        if (!chosen) {
          return {
            outcome: "rejected",
            reason: "NO_RATE",
            message: `${cdr.service} prefix ${rows[0]!.prefix} has no time band covering ${new Date(cdr.startMs).toISOString()}`,
          };
        }
        const billed =
          cdr.service === "voice"
            ? billedSeconds(cdr.duration, chosen.firstIncrement, chosen.nextIncrement)
            : cdr.volume;
        return {
          outcome: "rated",
          destination: chosen.destination,
          prefix: chosen.prefix,
          billed,
          amount: charge(cdr.service, chosen.rate, chosen.connectFee, billed),
          tariffLine: chosen.line,
          band: chosen.band?.name ?? null,
        };
      }
    }
    return {
      outcome: "rejected",
      reason: "NO_RATE",
      message: `no ${cdr.service} rate for ${cdr.bNumber} at ${new Date(cdr.startMs).toISOString()}`,
    };
  }
}
