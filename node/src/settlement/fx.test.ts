import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { InputError, NotFoundError } from "../errors";
import type { ResolvedConfig } from "../config/config";
import { loadFxTable, parseFxTable, periodLastDay, rateFor, toReference } from "./fx";

const CSV = [
  "date,currency,rate,source",
  "2030-01-15,ICUSD,0.92,ECB euro foreign exchange reference rates (USD)",
  "2030-01-31,ICUSD,0.915,ECB euro foreign exchange reference rates (USD)",
  "2030-02-03,ICUSD,0.9,ECB euro foreign exchange reference rates (USD)",
  '2030-01-02,ICGBP,1.17,"Bank of England, spot"',
  "",
].join("\n");

describe("settlement: FX table", () => {
  const table = parseFxTable(CSV, "fx.csv", "EUR");

  it("takes the latest rate dated on or before the period's last day", () => {
    expect(periodLastDay(203001)).to.equal("2030-01-31");
    expect(periodLastDay(202402)).to.equal("2024-02-29");
    expect(rateFor(table, "ICUSD", 203001)?.date).to.equal("2030-01-31");
    expect(rateFor(table, "ICUSD", 203002)?.date).to.equal("2030-02-03");
    expect(rateFor(table, "ICUSD", 202912)).to.equal(null);
    expect(rateFor(table, "ICGBP", 203001)?.source).to.equal("Bank of England, spot");
  });

  it("converts exactly, half up, into reference micro-units", () => {
    // 210 ICUSD (6 decimals) × 0.915 = 192.15 EUR.
    expect(
      toReference(table, { currency: "ICUSD", decimals: 6, amount: 210_000_000n, period: 203001 }),
    ).to.deep.include({
      currency: "EUR",
      amount: 192_150_000n,
    });
    // 0.000001 × 0.915 = 0.000000915 → 0.000001 (half up); negative amounts round away from zero.
    expect(
      toReference(table, { currency: "ICUSD", decimals: 6, amount: 1n, period: 203001 })?.amount,
    ).to.equal(1n);
    expect(
      toReference(table, { currency: "ICUSD", decimals: 6, amount: -1n, period: 203001 })?.amount,
    ).to.equal(-1n);
    // 18-decimal tokens are scaled down; the reference currency itself needs no rate.
    expect(
      toReference(table, { currency: "ICGBP", decimals: 18, amount: 10n ** 18n, period: 203001 })?.amount,
    ).to.equal(1_170_000n);
    expect(toReference(table, { currency: "EUR", decimals: 2, amount: 1234n, period: 203001 })).to.deep.equal(
      {
        currency: "EUR",
        amount: 12_340_000n,
        rate: null,
      },
    );
    expect(toReference(table, { currency: "ICJPY", decimals: 6, amount: 5n, period: 203001 })).to.equal(null);
  });

  it("names file, line and field of a bad row", () => {
    const bad = (row: string) => () => parseFxTable(`date,currency,rate,source\n${row}\n`, "fx.csv", "EUR");
    const cases: [string, RegExp][] = [
      ["2030-02-30,ICUSD,0.9,ECB", /^fx\.csv, line 2, field date: '2030-02-30' is not a date/],
      ["2030-01-01,usd,0.9,ECB", /^fx\.csv, line 2, field currency: /],
      ["2030-01-01,ICUSD,0.9e1,ECB", /^fx\.csv, line 2, field rate: '0\.9e1' is not a positive decimal/],
      ["2030-01-01,ICUSD,0,ECB", /field rate/],
      ["2030-01-01,ICUSD,-1,ECB", /field rate/],
      ["2030-01-01,ICUSD,0.9,", /^fx\.csv, line 2, field source: the source of the rate is empty/],
      [
        "2030-01-01,ICUSD,0.9,ECB\n2030-01-01,ICUSD,0.91,ECB",
        /line 3, field date: a second ICUSD rate for 2030-01-01 \(first on line 2\)/,
      ],
    ];
    for (const [row, message] of cases) {
      expect(bad(row)).to.throw(InputError, message);
    }
    expect(() => parseFxTable("day,currency,rate,source\n", "fx.csv", "EUR")).to.throw(
      InputError,
      /^fx\.csv, line 1, field date: the header has no 'date' column/,
    );
  });

  it("loads the table the config names, relative to the data dir, and nothing without `fx`", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "icl-fx-"));
    try {
      fs.writeFileSync(path.join(dir, "rates.csv"), CSV);
      const config = (fx?: { reference: string; table: string }) =>
        ({ dataDir: dir, config: { fx } }) as unknown as ResolvedConfig;
      expect(loadFxTable(config())).to.equal(null);
      const loaded = loadFxTable(config({ reference: "EUR", table: "rates.csv" }));
      expect(loaded?.reference).to.equal("EUR");
      expect(loaded?.rates.get("ICUSD")).to.have.length(3);
      expect(() => loadFxTable(config({ reference: "EUR", table: "missing.csv" }))).to.throw(NotFoundError);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
