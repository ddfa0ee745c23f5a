import { expect } from "chai";
import fc from "fast-check";
import { InputError } from "../errors";
import { daysFromCivil, parseIsoToUtcMs, parseLocalToUtcMs } from "./time";

const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number =>
  Date.UTC(y, mo - 1, d, h, mi, s, ms);

describe("mediation/time", () => {
  describe("parseIsoToUtcMs", () => {
    it("reads UTC, offsets, fractions, a space separator and bare dates", () => {
      expect(parseIsoToUtcMs("2026-10-01T12:00:00Z")).to.equal(utc(2026, 10, 1, 12));
      expect(parseIsoToUtcMs("2026-10-01T12:00:00")).to.equal(utc(2026, 10, 1, 12));
      expect(parseIsoToUtcMs("2026-10-01 12:00:00")).to.equal(utc(2026, 10, 1, 12));
      expect(parseIsoToUtcMs("2026-10-01t12:00z")).to.equal(utc(2026, 10, 1, 12));
      expect(parseIsoToUtcMs("2026-10-01T12:00:00+02:00")).to.equal(utc(2026, 10, 1, 10));
      expect(parseIsoToUtcMs("2026-10-01T12:00:00+0200")).to.equal(utc(2026, 10, 1, 10));
      expect(parseIsoToUtcMs("2026-10-01T12:00:00+02")).to.equal(utc(2026, 10, 1, 10));
      expect(parseIsoToUtcMs("2026-10-01T12:00:00-05:30")).to.equal(utc(2026, 10, 1, 17, 30));
      expect(parseIsoToUtcMs("2026-10-01T12:00:00.5Z")).to.equal(utc(2026, 10, 1, 12, 0, 0, 500));
      expect(parseIsoToUtcMs("2026-10-01T12:00:00.12Z")).to.equal(utc(2026, 10, 1, 12, 0, 0, 120));
      expect(parseIsoToUtcMs("2026-10-01T12:00:00.123456+01:00")).to.equal(utc(2026, 10, 1, 11, 0, 0, 123));
      expect(parseIsoToUtcMs("2026-10-01")).to.equal(utc(2026, 10, 1));
      expect(parseIsoToUtcMs("2024-02-29T23:59:59Z")).to.equal(utc(2024, 2, 29, 23, 59, 59));
      expect(parseIsoToUtcMs("2000-02-29")).to.equal(utc(2000, 2, 29));
      expect(parseIsoToUtcMs("1969-12-31T23:59:59Z")).to.equal(-1000);
    });

    it("rejects out-of-range and malformed values", () => {
      for (const bad of [
        "",
        "2026-13-01",
        "2026-00-10",
        "2026-02-29",
        "1900-02-29",
        "2026-04-31",
        "2026-10-00",
        "2026-10-01T24:00:00Z",
        "2026-10-01T12:60:00Z",
        "2026-10-01T12:00:60Z",
        "2026-10-01T12:00:00.Z",
        "2026-10-01T12:00:00+2:00",
        "2026-10-01T12:00:00+02:60",
        "2026-10-01T12:00:00Zx",
        "2026-10-01T12",
        "2026-1-01",
        "26-10-01",
        "2026/10/01",
        "2026-10-01X12:00:00",
        "2026-10-01T12:00:00 ",
        "yesterday",
      ]) {
        expect(parseIsoToUtcMs(bad), bad).to.equal(null);
      }
    });

    it("agrees with Date for any instant written by toISOString (property)", () => {
      fc.assert(
        fc.property(fc.integer({ min: -30_000_000_000_000, max: 200_000_000_000_000 }), (ms) => {
          expect(parseIsoToUtcMs(new Date(ms).toISOString())).to.equal(ms);
        }),
      );
    });

    it("daysFromCivil matches Date.UTC", () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 9999 }),
          fc.integer({ min: 1, max: 12 }),
          fc.integer({ min: 1, max: 28 }),
          (y, m, d) => {
            const date = new Date(0);
            date.setUTCFullYear(y, m - 1, d);
            expect(daysFromCivil(y, m, d) * 86_400_000).to.equal(
              date.getTime() - (((date.getTime() % 86_400_000) + 86_400_000) % 86_400_000),
            );
          },
        ),
      );
    });
  });

  describe("parseLocalToUtcMs", () => {
    it("converts Europe/London winter and summer time", () => {
      expect(parseLocalToUtcMs("2026-01-15 12:00:00", "Europe/London")).to.equal(utc(2026, 1, 15, 12));
      expect(parseLocalToUtcMs("2026-07-01 12:00:00", "Europe/London")).to.equal(utc(2026, 7, 1, 11));
    });

    it("moves a time in the spring gap forward by the gap", () => {
      // 2026-03-29 01:00 GMT → 02:00 BST: 01:30 does not exist and becomes 02:30 BST = 01:30Z.
      expect(parseLocalToUtcMs("2026-03-29 01:30:00", "Europe/London")).to.equal(utc(2026, 3, 29, 1, 30));
      expect(parseLocalToUtcMs("2026-03-29 00:59:59", "Europe/London")).to.equal(utc(2026, 3, 29, 0, 59, 59));
      expect(parseLocalToUtcMs("2026-03-29 02:00:00", "Europe/London")).to.equal(utc(2026, 3, 29, 1));
      // New York 2026-03-08 02:00 EST → 03:00 EDT: 02:30 becomes 03:30 EDT = 07:30Z.
      expect(parseLocalToUtcMs("2026-03-08 02:30:00", "America/New_York")).to.equal(utc(2026, 3, 8, 7, 30));
    });

    it("takes the first occurrence of an ambiguous autumn time", () => {
      // 2026-10-25 02:00 BST → 01:00 GMT: 01:30 happens twice; the first is 01:30 BST = 00:30Z.
      expect(parseLocalToUtcMs("2026-10-25 01:30:00", "Europe/London")).to.equal(utc(2026, 10, 25, 0, 30));
      expect(parseLocalToUtcMs("2026-10-25 02:00:00", "Europe/London")).to.equal(utc(2026, 10, 25, 2));
      expect(parseLocalToUtcMs("2026-11-01 01:30:00", "America/New_York")).to.equal(utc(2026, 11, 1, 5, 30));
    });

    it("handles half-hour zones and half-hour DST shifts exactly", () => {
      expect(parseLocalToUtcMs("2026-01-01 05:30:00", "Asia/Kolkata")).to.equal(utc(2026, 1, 1));
      // Lord Howe: +10:30 standard, +11 summer; 2026-10-04 02:00 → 02:30 (gap of 30 minutes).
      expect(parseLocalToUtcMs("2026-10-04 01:59:00", "Australia/Lord_Howe")).to.equal(
        utc(2026, 10, 3, 15, 29),
      );
      expect(parseLocalToUtcMs("2026-10-04 02:15:00", "Australia/Lord_Howe")).to.equal(
        utc(2026, 10, 3, 15, 45),
      );
      expect(parseLocalToUtcMs("2026-10-04 02:45:00", "Australia/Lord_Howe")).to.equal(
        utc(2026, 10, 3, 15, 45),
      );
    });

    it("rejects malformed text and throws InputError for an unknown zone", () => {
      expect(parseLocalToUtcMs("2026-01-15T12:00:00Z", "Europe/London")).to.equal(null);
      expect(parseLocalToUtcMs("2026-02-30 12:00:00", "Europe/London")).to.equal(null);
      expect(parseLocalToUtcMs("2026-01-15 12:00", "Europe/London")).to.equal(null);
      expect(() => parseLocalToUtcMs("2026-01-15 12:00:00", "Mars/Olympus")).to.throw(InputError);
    });

    it("round-trips every non-ambiguous hour of a year in London (property vs Intl)", () => {
      const fmt = new Intl.DateTimeFormat("sv-SE", {
        timeZone: "Europe/London",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        hourCycle: "h23",
      });
      fc.assert(
        fc.property(fc.integer({ min: utc(2025, 1, 1) / 1000, max: utc(2027, 1, 1) / 1000 }), (sec) => {
          const ms = sec * 1000;
          const local = fmt.format(ms);
          const back = parseLocalToUtcMs(local, "Europe/London");
          // Either the same instant, or (in the repeated hour) the earlier occurrence one hour before.
          expect(back === ms || back === ms - 3_600_000, `${local} → ${back} vs ${ms}`).to.equal(true);
        }),
      );
    });
  });
});
