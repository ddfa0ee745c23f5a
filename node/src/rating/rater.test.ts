import { expect } from "chai";
import fc from "fast-check";
import { InputError } from "../errors";
import type { MediatedCdr } from "../mediation/types";
import { formatMicros } from "../money/decimal";
import {
  Rater,
  billedSeconds,
  billedVoiceSeconds,
  charge,
  chargeExact,
  voiceCharge,
  voiceChargeExact,
  type RatingResult,
} from "./rater";
import type { TariffInterval } from "./tariff";
import { loadTariffDeck } from "./tariff-deck";

const HEADER =
  "service,prefix,destination,rate,connect_fee,first_increment,next_increment,effective_from,effective_to,time_band,days,time_from,time_to,timezone";

function rater(...rows: string[]): Rater {
  return new Rater(loadTariffDeck([HEADER, ...rows].join("\n"), "deck.csv"));
}

/** Decks with rates that change within a call: the interval rows differ only in interval_start. */
const INTERVAL_HEADER =
  "service,prefix,destination,rate,connect_fee,first_increment,next_increment,interval_start";

function intervalRater(...rows: string[]): Rater {
  return new Rater(loadTariffDeck([INTERVAL_HEADER, ...rows].join("\n"), "deck.csv"));
}

/** A mediated CDR; answered calls were answered at their start (the start of the billable interval). */
function cdr(overrides: Partial<MediatedCdr>): MediatedCdr {
  const merged: MediatedCdr = {
    key: "icl:1",
    partner: "GLOBEX",
    direction: "out",
    service: "voice",
    startMs: Date.parse("2026-10-07T12:00:00Z"),
    setupMs: 0,
    answerMs: null,
    endMs: null,
    duration: 60,
    totalSeconds: null,
    volume: 0,
    aNumber: "12125550100",
    bNumber: "442079460000",
    disposition: "ANSWERED",
    trunk: null,
    sipCode: null,
    q850Cause: null,
    pddMs: null,
    warnings: null,
    ...overrides,
  };
  return {
    ...merged,
    setupMs: overrides.setupMs ?? merged.startMs,
    answerMs:
      overrides.answerMs !== undefined
        ? overrides.answerMs
        : merged.disposition === "ANSWERED"
          ? merged.startMs
          : null,
  };
}

function rated(r: Rater, c: MediatedCdr) {
  const result = r.rate(c);
  if (result.outcome !== "rated") throw new Error(`expected rated, got ${JSON.stringify(result)}`);
  return { ...result, amount: formatMicros(result.amount) };
}

describe("rating: increments", () => {
  // first 30, next 6
  const cases: [number, number][] = [
    [0, 0],
    [1, 30],
    [29, 30],
    [30, 30],
    [31, 36],
    [36, 36],
    [37, 42],
    [3600, 3600],
  ];
  for (const [duration, billed] of cases) {
    it(`30/6 bills ${duration} s as ${billed} s`, () =>
      expect(billedSeconds(duration, 30, 6)).to.equal(billed));
  }
  it("60/60 bills 61 s as 120 s and 1/1 bills exactly", () => {
    expect(billedSeconds(61, 60, 60)).to.equal(120);
    expect(billedSeconds(61, 1, 1)).to.equal(61);
  });
  it("a 0 s answered call is unbilled, not rated at the first increment", () => {
    expect(rater("voice,44,UK,0.01,0,30,6,,,,,,,").rate(cdr({ duration: 0 })).outcome).to.equal("unbilled");
  });
  it("unanswered voice, sms and data are unbilled", () => {
    const r = rater("voice,44,UK,0.01,0,30,6,,,,,,,", "sms,44,UK SMS,0.01,,,,,,,,,,");
    for (const disposition of ["NO_ANSWER", "BUSY", "FAILED", "CONGESTION", "CANCEL"] as const) {
      expect(r.rate(cdr({ disposition })).outcome).to.equal("unbilled");
      expect(r.rate(cdr({ disposition, service: "sms", volume: 1 })).outcome).to.equal("unbilled");
    }
  });
});

describe("rating: charges (hand-checked)", () => {
  it("voice: connect fee + rate × billed / 60", () => {
    // 0.0310/min, 37 s on 30/6 → 42 s → 0.0310 × 42 / 60 = 0.0217; + fee 0.0015 = 0.0232
    const r = rater("voice,447,UK Mobile,0.0310,0.0015,30,6,,,,,,,");
    expect(rated(r, cdr({ bNumber: "447700900123", duration: 37 }))).to.include({
      billed: 42,
      amount: "0.023200",
    });
  });
  it("sms: connect fee + rate × messages", () => {
    const r = rater("sms,44,UK SMS,0.0150,0.001,,,,,,,,,");
    expect(rated(r, cdr({ service: "sms", volume: 3, duration: 0 }))).to.include({
      billed: 3,
      amount: "0.046000",
    });
  });
  it("data: connect fee + rate × bytes / 10^6", () => {
    // 0.004 per MB × 2 500 001 bytes = 0.010000004 → 0.010000
    const r = rater("data,44,UK Data,0.004,0,,,,,,,,,");
    expect(rated(r, cdr({ service: "data", volume: 2_500_001, duration: 0 }))).to.include({
      billed: 2_500_001,
      amount: "0.010000",
    });
  });
  it("rounds half up at the 6th decimal", () => {
    // 0.0000125/min × 60 s... 1 s on 1/1 at 0.00003/min = 0.0000005 exactly → rounds up to 0.000001
    const r = rater("voice,44,UK,0.00003,0,1,1,,,,,,,");
    expect(rated(r, cdr({ duration: 1 })).amount).to.equal("0.000001");
    // 0.0000004999… stays 0: 0.000029999/min × 1 s = 0.00000049998…
    const below = rater("voice,44,UK,0.000029999,0,1,1,,,,,,,");
    expect(rated(below, cdr({ duration: 1 })).amount).to.equal("0.000000");
    // 2 s at 0.00003 = 0.000001 exactly; 3 s = 0.0000015 → 0.000002
    expect(rated(r, cdr({ duration: 3 })).amount).to.equal("0.000002");
  });
  it("is exact where floating point is not (0.1 + 0.2 per message)", () => {
    const r = rater("sms,44,UK SMS,0.1,0.2,,,,,,,,,");
    expect(rated(r, cdr({ service: "sms", volume: 1 })).amount).to.equal("0.300000");
  });
  it("charge() of a long call at a high rate stays exact (no float)", () => {
    // 123.456789012345/min × 86 400 s = 177 777.776177777 ... exactly 177777.77617777 (rounded)
    expect(formatMicros(charge("voice", 123_456_789_012_345n, 0n, 86_400))).to.equal("177777.776178");
  });
});

describe("rating: prefix and dates", () => {
  const deck = rater(
    "voice,44,UK Fixed,0.0080,0,60,60,,,,,,,",
    "voice,447,UK Mobile,0.0310,0,30,6,,2026-10-15,,,,,",
    "voice,447,UK Mobile,0.0290,0,30,6,2026-10-15,,,,,,",
    "voice,4477009,UK Mobile Special,0.1000,0,1,1,2026-10-10,2026-10-20,,,,,",
  );
  it("takes the longest matching prefix", () => {
    expect(rated(deck, cdr({ bNumber: "442079460000" })).prefix).to.equal("44");
    expect(rated(deck, cdr({ bNumber: "447400000000" })).prefix).to.equal("447");
  });
  it("skips a longer prefix that is not in effect at the call's start", () => {
    expect(
      rated(deck, cdr({ bNumber: "447700900123", startMs: Date.parse("2026-10-09T23:59:59Z") })).prefix,
    ).to.equal("447");
    expect(
      rated(deck, cdr({ bNumber: "447700900123", startMs: Date.parse("2026-10-10T00:00:00Z") })).prefix,
    ).to.equal("4477009");
    expect(
      rated(deck, cdr({ bNumber: "447700900123", startMs: Date.parse("2026-10-20T00:00:00Z") })).prefix,
    ).to.equal("447");
  });
  it("applies the rate change at the boundary: effective_from inclusive, effective_to exclusive", () => {
    const before = rated(
      deck,
      cdr({ bNumber: "447400000000", startMs: Date.parse("2026-10-14T23:59:59Z"), duration: 60 }),
    );
    const at = rated(
      deck,
      cdr({ bNumber: "447400000000", startMs: Date.parse("2026-10-15T00:00:00Z"), duration: 60 }),
    );
    expect(before.amount).to.equal("0.031000");
    expect(at.amount).to.equal("0.029000");
  });
  it("compares in UTC a start time given in another offset", () => {
    // 01:30 at +02:00 on the 15th is 23:30 UTC on the 14th: still the old rate.
    const start = Date.parse("2026-10-15T01:30:00+02:00");
    expect(rated(deck, cdr({ bNumber: "447400000000", startMs: start, duration: 60 })).amount).to.equal(
      "0.031000",
    );
    // 19:00 at -05:00 on the 14th is 00:00 UTC on the 15th: the new rate.
    const later = Date.parse("2026-10-14T19:00:00-05:00");
    expect(rated(deck, cdr({ bNumber: "447400000000", startMs: later, duration: 60 })).amount).to.equal(
      "0.029000",
    );
  });
  it("rejects NO_RATE when no prefix matches or none is in effect", () => {
    expect(deck.rate(cdr({ bNumber: "81312345678" }))).to.include({ outcome: "rejected", reason: "NO_RATE" });
    const dated = rater("voice,49,DE,0.01,0,1,1,2026-11-01,,,,,,");
    expect(dated.rate(cdr({ bNumber: "4930123456" }))).to.include({ outcome: "rejected", reason: "NO_RATE" });
    expect(deck.rate(cdr({ service: "sms", volume: 1 }))).to.include({
      outcome: "rejected",
      reason: "NO_RATE",
    });
  });
});

describe("rating: time bands", () => {
  const deck = rater(
    "voice,49,DE Peak,0.0120,0,1,1,,,peak,mon-fri,08:00,18:00,Europe/Berlin",
    "voice,49,DE Off-peak,0.0090,0,1,1,,,,,,,",
    "voice,33,FR Night,0.0010,0,1,1,,,night,all,22:00,06:00,Europe/Paris",
    "voice,33,FR Day,0.0100,0,1,1,,,day,all,06:00,22:00,Europe/Paris",
  );
  const at = (iso: string, bNumber: string) =>
    rated(deck, cdr({ bNumber, startMs: Date.parse(iso), duration: 60 }));
  it("uses the band's local time (CEST in October, CET after the change)", () => {
    expect(at("2026-10-05T06:00:00Z", "4930").destination).to.equal("DE Peak"); // Mon 08:00 CEST
    expect(at("2026-10-05T05:59:59Z", "4930").destination).to.equal("DE Off-peak"); // Mon 07:59:59 CEST
    expect(at("2026-10-05T16:00:00Z", "4930").destination).to.equal("DE Off-peak"); // Mon 18:00 CEST: end exclusive
    expect(at("2026-11-02T07:00:00Z", "4930").destination).to.equal("DE Peak"); // Mon 08:00 CET
    expect(at("2026-11-02T06:30:00Z", "4930").destination).to.equal("DE Off-peak"); // Mon 07:30 CET
  });
  it("falls back to the unbanded row at weekends", () => {
    expect(at("2026-10-10T10:00:00Z", "4930").destination).to.equal("DE Off-peak"); // Saturday
  });
  it("handles a band that wraps midnight", () => {
    expect(at("2026-10-05T21:30:00Z", "3312").destination).to.equal("FR Night"); // 23:30 CEST
    expect(at("2026-10-05T02:00:00Z", "3312").destination).to.equal("FR Night"); // 04:00 CEST
    expect(at("2026-10-05T04:00:00Z", "3312").destination).to.equal("FR Day"); // 06:00 CEST
  });
  it("rejects NO_RATE when a prefix has only bands and none covers the time", () => {
    const peakOnly = rater("voice,49,DE Peak,0.0120,0,1,1,,,peak,mon-fri,08:00,18:00,Europe/Berlin");
    const result = peakOnly.rate(cdr({ bNumber: "4930", startMs: Date.parse("2026-10-10T10:00:00Z") }));
    expect(result).to.include({ outcome: "rejected", reason: "NO_RATE" });
  });
});

describe("rating: rates that change within a call (hand-checked)", () => {
  // First minute at 0.20/min in 60 s blocks, then 0.10/min by the second.
  const twoStep = intervalRater("voice,44,UK,0.20,0,60,60,0", "voice,44,UK,0.10,0,1,1,60");
  const call = (r: Rater, duration: number) => rated(r, cdr({ duration }));

  it("bills a call inside the first interval by the first interval's increments only", () => {
    // 30 s → one 60 s block: 0.20 × 60 / 60 = 0.200000
    expect(call(twoStep, 30)).to.include({ billed: 60, amount: "0.200000", tariffLine: 2 });
  });
  it("bills a call that ends exactly on the boundary as the first interval alone", () => {
    expect(call(twoStep, 60)).to.include({ billed: 60, amount: "0.200000" });
  });
  it("rounds the exact total once: 61 s = 0.20 + 0.10 / 60 = 0.2016666… → 0.201667", () => {
    expect(call(twoStep, 61)).to.include({ billed: 61, amount: "0.201667" });
  });
  it("150 s = 60 s at 0.20 + 90 s at 0.10: 0.20 + 0.15 = 0.350000", () => {
    expect(call(twoStep, 150)).to.include({ billed: 150, amount: "0.350000" });
  });
  it("rounds once per CDR, not once per interval", () => {
    // 1 s at 0.00003/min = 0.0000005 in each interval: 0.000001 in all, where rounding each part would give 0.000002.
    const halves = intervalRater("voice,44,UK,0.00003,0,1,1,0", "voice,44,UK,0.00003,0,1,1,1");
    expect(call(halves, 2)).to.include({ billed: 2, amount: "0.000001" });
  });

  // 0–60 s at 0.30 in 60 s blocks; 60–300 s at 0.12 in 30 s blocks; from 300 s at 0.06 by the second.
  const threeStep = intervalRater(
    "voice,49,DE,0.30,0,60,60,0",
    "voice,49,DE,0.12,0,30,30,60",
    "voice,49,DE,0.06,0,1,1,300",
  );
  const de = (duration: number) => rated(threeStep, cdr({ bNumber: "4930123456", duration }));
  it("three intervals, increments counted from each interval's start", () => {
    // 45 s → 60: 0.300000
    expect(de(45)).to.include({ billed: 60, amount: "0.300000" });
    // 100 s → 60 + (40 → 60): 0.30 + 0.12 = 0.420000
    expect(de(100)).to.include({ billed: 120, amount: "0.420000" });
    // 299 s → 60 + (239 → 240, never past the boundary): 0.30 + 0.12 × 4 = 0.780000
    expect(de(299)).to.include({ billed: 300, amount: "0.780000" });
    // 300 s ends on the second boundary: the same
    expect(de(300)).to.include({ billed: 300, amount: "0.780000" });
    // 301 s → 60 + 240 + 1: 0.30 + 0.48 + 0.06 / 60 = 0.781000
    expect(de(301)).to.include({ billed: 301, amount: "0.781000" });
    // 400 s → 60 + 240 + 100: 0.30 + 0.48 + 0.10 = 0.880000
    expect(de(400)).to.include({ billed: 400, amount: "0.880000" });
  });

  it("charges the connect fee once, with the interval-0 row", () => {
    // 0.05/min 30/6 plus a 0.01 fee up to 120 s, then 0.02/min 6/6.
    const fee = intervalRater("voice,33,FR,0.05,0.01,30,6,0", "voice,33,FR,0.02,0,6,6,120");
    const fr = (duration: number) => rated(fee, cdr({ bNumber: "33612345678", duration }));
    // 10 s → 30: 0.01 + 0.025 = 0.035000
    expect(fr(10)).to.include({ billed: 30, amount: "0.035000" });
    // 130 s → 120 + (10 → 12): 0.01 + 0.05 × 2 + 0.02 × 12 / 60 = 0.01 + 0.10 + 0.004 = 0.114000
    expect(fr(130)).to.include({ billed: 132, amount: "0.114000" });
    expect(fee.rate(cdr({ bNumber: "33612345678", duration: 0 }))).to.deep.equal({
      outcome: "unbilled",
      destination: "FR",
      prefix: "33",
    });
  });

  it("gives the worked example of docs/RATING.md", () => {
    const example = intervalRater(
      "voice,44,UK,0.20,0.01,60,60,0",
      "voice,44,UK,0.10,0,1,1,60",
      "voice,44,UK,0.06,0,30,30,600",
    );
    const table: [number, number, string][] = [
      [30, 60, "0.210000"],
      [60, 60, "0.210000"],
      [61, 61, "0.211667"],
      [150, 150, "0.360000"],
      [601, 630, "1.140000"],
    ];
    for (const [duration, billed, amount] of table) {
      expect(call(example, duration), `${duration} s`).to.include({ billed, amount });
    }
  });
  it("refuses to build from rows that do not form valid tariffs", () => {
    const [row] = loadTariffDeck([INTERVAL_HEADER, "voice,44,UK,0.10,0,1,1,0"].join("\n"), "deck.csv");
    expect(() => new Rater([{ ...row!, intervalStart: 60 }])).to.throw(InputError, /interval_start 0/);
  });
  it("names the interval-0 row as the tariff line whatever the rows' order", () => {
    const shuffled = intervalRater("voice,44,UK,0.10,0,1,1,60", "voice,44,UK,0.20,0,60,60,0");
    expect(call(shuffled, 61)).to.include({ billed: 61, amount: "0.201667", tariffLine: 3 });
  });

  it("keeps a tariff's intervals apart from another period's and another band's", () => {
    const HEADER_ALL =
      "service,prefix,destination,rate,connect_fee,first_increment,next_increment,interval_start,effective_from,effective_to,time_band,days,time_from,time_to,timezone";
    const deck = new Rater(
      loadTariffDeck(
        [
          HEADER_ALL,
          "voice,44,UK,0.20,0,60,60,0,,2026-10-15,,,,,",
          "voice,44,UK,0.10,0,1,1,60,,2026-10-15,,,,,",
          "voice,44,UK,0.60,0,60,60,0,2026-10-15,,,,,,",
          "voice,44,UK Peak,0.90,0,60,60,0,2026-10-15,,peak,mon-fri,08:00,18:00,Europe/London",
          "voice,44,UK Peak,0.30,0,1,1,120,2026-10-15,,peak,mon-fri,08:00,18:00,Europe/London",
        ].join("\n"),
        "deck.csv",
      ),
    );
    const at = (iso: string) => rated(deck, cdr({ startMs: Date.parse(iso), duration: 150 }));
    // Before the change: 0.20 + 0.10 × 90 / 60 = 0.350000
    expect(at("2026-10-14T12:00:00Z")).to.include({ amount: "0.350000", tariffLine: 2 });
    // After, off-peak (Saturday): one interval, 150 s → 180 s at 0.60 = 1.800000
    expect(at("2026-10-17T12:00:00Z")).to.include({ billed: 180, amount: "1.800000", tariffLine: 4 });
    // After, peak (Monday 13:00 BST): 120 s at 0.90 + 30 s at 0.30 = 1.80 + 0.15 = 1.950000
    expect(at("2026-10-19T12:00:00Z")).to.include({ billed: 150, amount: "1.950000", band: "peak" });
  });
});

describe("rating: destinations of unbilled attempts", () => {
  const deck = rater(
    "voice,44,UK Fixed,0.0080,0,60,60,,,,,,,",
    "voice,4477009,UK Mobile Special,0.1000,0,1,1,2026-10-10,2026-10-20,,,,,",
    "voice,49,DE Peak,0.0120,0,1,1,,,peak,mon-fri,08:00,18:00,Europe/Berlin",
    "voice,49,DE Off-peak,0.0090,0,1,1,,,,,,,",
    "voice,39,IT Peak,0.0120,0,1,1,,,peak,mon-fri,08:00,18:00,Europe/Rome",
    "sms,44,UK SMS,0.0150,,,,,,,,,,",
  );
  const attempt = (overrides: Partial<MediatedCdr>) =>
    deck.rate(cdr({ disposition: "NO_ANSWER", ...overrides }));

  it("carries the destination the deck in force would have priced the number with", () => {
    expect(attempt({ bNumber: "442079460000" })).to.deep.equal({
      outcome: "unbilled",
      destination: "UK Fixed",
      prefix: "44",
    });
    for (const disposition of ["BUSY", "FAILED", "CONGESTION", "CANCEL"] as const) {
      expect(attempt({ disposition, bNumber: "442079460000" })).to.include({ destination: "UK Fixed" });
    }
    // An answered call of 0 s too.
    expect(deck.rate(cdr({ duration: 0 }))).to.include({ outcome: "unbilled", destination: "UK Fixed" });
  });
  it("makes the same longest-prefix, effective-date and band choice as a billed call", () => {
    const mobile = { bNumber: "447700900123" };
    expect(attempt({ ...mobile, startMs: Date.parse("2026-10-09T23:59:59Z") })).to.include({ prefix: "44" });
    expect(attempt({ ...mobile, startMs: Date.parse("2026-10-10T00:00:00Z") })).to.include({
      prefix: "4477009",
      destination: "UK Mobile Special",
    });
    expect(attempt({ bNumber: "4930", startMs: Date.parse("2026-10-05T06:00:00Z") })).to.include({
      destination: "DE Peak",
    });
    expect(attempt({ bNumber: "4930", startMs: Date.parse("2026-10-10T10:00:00Z") })).to.include({
      destination: "DE Off-peak",
    });
    expect(attempt({ service: "sms", volume: 1 })).to.include({ destination: "UK SMS" });
  });
  it("is null, never NO_RATE, when nothing covers the number at that time", () => {
    const nothing = { outcome: "unbilled", destination: null, prefix: null };
    expect(attempt({ bNumber: "81312345678" })).to.deep.equal(nothing);
    // Italy has only a peak band: Saturday is covered by no row.
    expect(attempt({ bNumber: "39061234", startMs: Date.parse("2026-10-10T10:00:00Z") })).to.deep.equal(
      nothing,
    );
    expect(attempt({ service: "data", volume: 1 })).to.deep.equal(nothing);
  });
  it("allocates nothing per unbilled attempt: one shared result per tariff", () => {
    expect(attempt({ key: "icl:1" })).to.equal(attempt({ key: "icl:2", bNumber: "44113" }));
    expect(attempt({ bNumber: "81" })).to.equal(attempt({ bNumber: "82" }));
  });
  it("names what a billed call of the same number and time would have been rated as", () => {
    const arbitrary = fc.record({
      service: fc.constantFrom("voice", "sms", "data") as fc.Arbitrary<MediatedCdr["service"]>,
      bNumber: fc.constantFrom("442079460000", "447700900123", "4930", "39061234", "81312345678"),
      startMs: fc.integer({
        min: Date.parse("2026-10-01T00:00:00Z"),
        max: Date.parse("2026-10-31T00:00:00Z"),
      }),
    });
    fc.assert(
      fc.property(arbitrary, (spec) => {
        const billed = deck.rate(cdr({ ...spec, duration: 60, volume: 1 }));
        const unbilled = deck.rate(cdr({ ...spec, disposition: "NO_ANSWER" }));
        const expected: RatingResult =
          billed.outcome === "rated"
            ? { outcome: "unbilled", destination: billed.destination, prefix: billed.prefix }
            : { outcome: "unbilled", destination: null, prefix: null };
        expect(unbilled).to.deep.equal(expected);
      }),
    );
  });
});

describe("rating: properties", () => {
  const deck = rater(
    "voice,44,UK,0.0080,0.0005,60,60,,,,,,,",
    "voice,447,UK Mobile,0.0311,0,30,6,,,,,,,",
    "sms,44,UK SMS,0.015,,,,,,,,,,",
    "data,44,UK Data,0.004,,,,,,,,,,",
  );
  const arbitraryCdr = fc.record({
    service: fc.constantFrom("voice", "sms", "data") as fc.Arbitrary<MediatedCdr["service"]>,
    duration: fc.nat({ max: 20_000 }),
    volume: fc.nat({ max: 50_000_000 }),
    bNumber: fc.constantFrom("442079460000", "447700900123", "447", "4412"),
    disposition: fc.constantFrom("ANSWERED", "ANSWERED", "NO_ANSWER") as fc.Arbitrary<
      MediatedCdr["disposition"]
    >,
  });
  const total = (cdrs: MediatedCdr[]) =>
    cdrs.reduce((sum, c) => {
      const r = deck.rate(c);
      return r.outcome === "rated" ? sum + r.amount : sum;
    }, 0n);

  it("is order-independent: any permutation gives the same total", () => {
    const cdrsAndPermutation = fc
      .array(arbitraryCdr, { maxLength: 60 })
      .map((specs) => specs.map((s, i) => cdr({ ...s, key: `icl:${i}` })))
      .chain((cdrs) =>
        fc.tuple(
          fc.constant(cdrs),
          fc.shuffledSubarray(cdrs, { minLength: cdrs.length, maxLength: cdrs.length }),
        ),
      );
    fc.assert(
      fc.property(cdrsAndPermutation, ([cdrs, shuffled]) => {
        expect(total(shuffled)).to.equal(total(cdrs));
      }),
    );
  });
  it("totals equal the sum of the parts split anywhere", () => {
    fc.assert(
      fc.property(fc.array(arbitraryCdr, { maxLength: 60 }), fc.nat(), (specs, cut) => {
        const cdrs = specs.map((s, i) => cdr({ ...s, key: `icl:${i}` }));
        const at = cdrs.length === 0 ? 0 : cut % cdrs.length;
        expect(total(cdrs.slice(0, at)) + total(cdrs.slice(at))).to.equal(total(cdrs));
      }),
    );
  });
  it("the double-precision fast path equals the bigint computation for any rate, fee and usage", () => {
    const service = fc.constantFrom("voice", "sms", "data") as fc.Arbitrary<MediatedCdr["service"]>;
    const pico = fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 13n }), fc.bigInt({ min: 0n, max: 10n ** 20n }));
    const usage = fc.oneof(fc.nat({ max: 100_000 }), fc.nat({ max: Number.MAX_SAFE_INTEGER }));
    fc.assert(
      fc.property(service, pico, pico, usage, (s, rate, fee, billed) => {
        expect(charge(s, rate, fee, billed)).to.equal(chargeExact(s, rate, fee, billed));
      }),
      { numRuns: 5000 },
    );
    // Exactly at rounding halves, where a double division could land on either side.
    for (let billed = 1; billed < 2000; billed++) {
      expect(charge("voice", 30_000_000n, 0n, billed)).to.equal(
        chargeExact("voice", 30_000_000n, 0n, billed),
      );
      expect(charge("data", 500_000n, 0n, billed * 1001)).to.equal(
        chargeExact("data", 500_000n, 0n, billed * 1001),
      );
    }
  });

  const interval = fc.record({
    rate: fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 13n }), fc.bigInt({ min: 0n, max: 10n ** 20n })),
    firstIncrement: fc.integer({ min: 1, max: 120 }),
    nextIncrement: fc.integer({ min: 1, max: 60 }),
    length: fc.integer({ min: 0, max: 40 }),
  });
  /** A tariff whose intervals are whole increments long, as the deck check demands. */
  const alignedIntervals = fc.array(interval, { minLength: 1, maxLength: 4 }).map((specs) => {
    const intervals: TariffInterval[] = [];
    let start = 0;
    specs.forEach((spec, line) => {
      intervals.push({
        start,
        rate: spec.rate,
        firstIncrement: spec.firstIncrement,
        nextIncrement: spec.nextIncrement,
        line: line + 2,
      });
      start += spec.firstIncrement + spec.length * spec.nextIncrement;
    });
    return intervals;
  });

  it("the fast path equals the bigint computation for calls across any intervals", () => {
    const pico = fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 13n }), fc.bigInt({ min: 0n, max: 10n ** 20n }));
    const duration = fc.oneof(fc.nat({ max: 20_000 }), fc.nat({ max: Number.MAX_SAFE_INTEGER }));
    fc.assert(
      fc.property(alignedIntervals, pico, duration, (intervals, fee, d) => {
        expect(voiceCharge(fee, intervals, d)).to.equal(voiceChargeExact(fee, intervals, d));
      }),
      { numRuns: 5000 },
    );
    // Exactly at rounding halves in the second interval.
    const halves: TariffInterval[] = [
      { start: 0, rate: 30_000_000n, firstIncrement: 1, nextIncrement: 1, line: 2 },
      { start: 60, rate: 30_000_000n, firstIncrement: 1, nextIncrement: 1, line: 3 },
    ];
    for (let d = 1; d < 2000; d++) {
      expect(voiceCharge(0n, halves, d)).to.equal(voiceChargeExact(0n, halves, d));
    }
  });
  it("a one-interval tariff charges what charge() does on billedSeconds()", () => {
    fc.assert(
      fc.property(
        interval,
        fc.bigInt({ min: 0n, max: 10n ** 14n }),
        fc.nat({ max: 100_000 }),
        (spec, fee, d) => {
          const only: TariffInterval[] = [{ start: 0, line: 2, ...spec }];
          const billed = billedSeconds(d, spec.firstIncrement, spec.nextIncrement);
          expect(billedVoiceSeconds(only, d)).to.equal(billed);
          expect(voiceCharge(fee, only, d)).to.equal(charge("voice", spec.rate, fee, billed));
        },
      ),
    );
  });
  it("a call past a boundary is billed exactly the boundary for the intervals before it", () => {
    fc.assert(
      fc.property(alignedIntervals, (intervals) => {
        for (const boundary of intervals.slice(1).map((i) => i.start)) {
          expect(billedVoiceSeconds(intervals, boundary)).to.equal(boundary);
          const before = intervals.filter((i) => i.start < boundary);
          expect(billedVoiceSeconds(intervals, boundary + 1) - billedVoiceSeconds(before, boundary)).to.equal(
            intervals.find((i) => i.start === boundary)!.firstIncrement,
          );
        }
      }),
    );
  });
  it("splitting a tariff at whole increments with the same rate changes nothing", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.uniqueArray(fc.integer({ min: 1, max: 50 }), { maxLength: 4 }),
        fc.nat({ max: 5_000 }),
        (n, rate, cuts, d) => {
          const starts = [0, ...cuts.sort((a, b) => a - b).map((c) => c * n)];
          const split = starts.map((start, k) => ({
            start,
            rate,
            firstIncrement: n,
            nextIncrement: n,
            line: k + 2,
          }));
          const whole = [split[0]!];
          expect(billedVoiceSeconds(split, d)).to.equal(billedVoiceSeconds(whole, d));
          expect(voiceCharge(0n, split, d)).to.equal(voiceCharge(0n, whole, d));
        },
      ),
    );
  });
  it("a multi-interval charge never decreases as the duration grows", () => {
    fc.assert(
      fc.property(alignedIntervals, fc.nat({ max: 20_000 }), fc.nat({ max: 20_000 }), (intervals, a, b) => {
        const [short, long] = a <= b ? [a, b] : [b, a];
        expect(voiceCharge(500n, intervals, short) <= voiceCharge(500n, intervals, long)).to.equal(true);
      }),
    );
  });

  it("a charge never decreases as the duration grows", () => {
    fc.assert(
      fc.property(fc.nat({ max: 100_000 }), fc.nat({ max: 100_000 }), (a, b) => {
        const [short, long] = a <= b ? [a, b] : [b, a];
        const price = (d: number) => charge("voice", 31_100_000_000n, 500_000_000n, billedSeconds(d, 30, 6));
        expect(price(short) <= price(long)).to.equal(true);
      }),
    );
  });
});
