import { expect } from "chai";
import fc from "fast-check";
import type { MediatedCdr } from "../mediation/types";
import { formatMicros } from "../money/decimal";
import { Rater, billedSeconds, charge, chargeExact } from "./rater";
import { loadTariffDeck } from "./tariff-deck";

const HEADER =
  "service,prefix,destination,rate,connect_fee,first_increment,next_increment,effective_from,effective_to,time_band,days,time_from,time_to,timezone";

function rater(...rows: string[]): Rater {
  return new Rater(loadTariffDeck([HEADER, ...rows].join("\n"), "deck.csv"));
}

function cdr(overrides: Partial<MediatedCdr>): MediatedCdr {
  return {
    key: "icl:1",
    partner: "GLOBEX",
    direction: "out",
    service: "voice",
    startMs: Date.parse("2026-10-07T12:00:00Z"),
    duration: 60,
    volume: 0,
    aNumber: "12125550100",
    bNumber: "442079460000",
    disposition: "ANSWERED",
    ...overrides,
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
    for (const disposition of ["NO_ANSWER", "BUSY", "FAILED"] as const) {
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
