import { expect } from "chai";
import fc from "fast-check";
import { normaliseNumber } from "./numbers";
import { UK_PLAN } from "../../../test/helpers/mediation";

describe("mediation/numbers normaliseNumber", () => {
  it("normalises the UK plan's written forms to the same E.164 digits", () => {
    for (const raw of [
      "+44 (20) 7946-0000",
      "0044 20 7946 0000",
      "00442079460000",
      "020 7946 0000",
      "02079460000",
      "+44.20.7946.0000",
      "442079460000",
      " +442079460000 ",
      "tel:+44-20-7946-0000",
      "sip:02079460000@pbx.example.net",
      "SIP:+442079460000@10.0.0.1:5060",
      "sips:+442079460000;user=phone@host",
    ]) {
      expect(normaliseNumber(raw, UK_PLAN), raw).to.equal("442079460000");
    }
  });

  it("takes the user part of SIP URIs", () => {
    expect(normaliseNumber("sip:+15551234567@host", UK_PLAN)).to.equal("15551234567");
    expect(normaliseNumber("tel:+1-555-123-4567;phone-context=example.com", UK_PLAN)).to.equal("15551234567");
  });

  it("uses the plan's prefixes", () => {
    const us = { countryCode: "1", nationalPrefix: "1", internationalPrefix: "011" };
    expect(normaliseNumber("011 44 20 7946 0000", us)).to.equal("442079460000");
    expect(normaliseNumber("1 (555) 123-4567", us)).to.equal("15551234567");
    expect(normaliseNumber("+1 555 123 4567", us)).to.equal("15551234567");
  });

  it("returns null for anything that is not 1–15 digits of E.164", () => {
    for (const raw of [
      "",
      "   ",
      "+",
      "abc",
      "s",
      "12a4",
      "1+2",
      "++44",
      "+44 20 7946 0000 0000",
      "1234567890123456",
      "00",
      "0",
      "+0123",
      "sip:@host",
      "sip:alice@host",
      "anonymous",
    ]) {
      expect(normaliseNumber(raw, UK_PLAN), raw).to.equal(null);
    }
  });

  it("always yields 1–15 digits or null (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (raw) => {
        const n = normaliseNumber(raw, UK_PLAN);
        if (n !== null) expect(n).to.match(/^[1-9][0-9]{0,14}$/);
      }),
    );
  });

  it("gives digits and +digits the same result on the fast path as on the general one (property)", () => {
    // A leading space keeps a number off the fast path: the general path trims it and reads the rest.
    const digits = fc.stringMatching(/^\+?[0-9]{0,20}$/);
    const plans = fc.constantFrom(
      UK_PLAN,
      { countryCode: "1", nationalPrefix: "1", internationalPrefix: "011" },
      { countryCode: "49", nationalPrefix: "", internationalPrefix: "00" },
    );
    fc.assert(
      fc.property(digits, plans, (raw, plan) => {
        expect(normaliseNumber(raw, plan), raw).to.equal(normaliseNumber(` ${raw}`, plan));
      }),
      { numRuns: 2000 },
    );
  });
});
