import { expect } from "chai";
import fc from "fast-check";
import fs from "node:fs";
import path from "node:path";
import { DECK_COLUMNS, loadTariffDeck, parseTariffDeck } from "./tariff-deck";

const HEADER = "service,prefix,destination,rate,connect_fee,first_increment,next_increment,interval_start";

/** The problems of a deck as `line:field`, the way a validation report lists them. */
function problemsOf(...rows: string[]): string[] {
  return parseTariffDeck([HEADER, ...rows].join("\n")).problems.map((p) => `${p.line}:${p.field}`);
}

describe("tariff deck: intervals", () => {
  it("accepts a tariff whose rows differ only in interval_start, rate and increments", () => {
    const { rows, problems } = parseTariffDeck(
      [HEADER, "voice,44,UK,0.20,0,60,60,0", "voice,44,UK,0.10,0,1,1,60", "voice,49,DE,0.01,0,1,1,"].join(
        "\n",
      ),
    );
    expect(problems).to.deep.equal([]);
    expect(rows.map((r) => r.intervalStart)).to.deep.equal([0, 60, 0]);
  });
  it("defaults interval_start to 0 when the column is absent", () => {
    const rows = loadTariffDeck("prefix,destination,rate\n44,UK,0.01\n", "deck.csv");
    expect(rows[0]!.intervalStart).to.equal(0);
  });
  it("refuses a tariff without an interval_start 0 row", () => {
    expect(problemsOf("voice,44,UK,0.10,0,1,1,60")).to.deep.equal(["2:interval_start"]);
    expect(problemsOf("voice,44,UK,0.10,0,1,1,120", "voice,44,UK,0.10,0,1,1,60")).to.deep.equal([
      "2:interval_start",
    ]);
    const { problems } = parseTariffDeck([HEADER, "voice,44,UK,0.10,0,1,1,60"].join("\n"));
    expect(problems[0]!.message).to.contain("no row with interval_start 0");
  });
  it("refuses an interval that is not a whole number of its increments long", () => {
    // 0–90 s in 60 s blocks: 60 + 30 is not a whole 60 s block.
    expect(problemsOf("voice,44,UK,0.20,0,60,60,0", "voice,44,UK,0.10,0,1,1,90")).to.deep.equal([
      "2:next_increment",
    ]);
    // 0–30 s cannot hold a first block of 60 s.
    expect(problemsOf("voice,44,UK,0.20,0,60,60,0", "voice,44,UK,0.10,0,1,1,30")).to.deep.equal([
      "2:first_increment",
    ]);
    // The middle interval of three: 60–100 s in 30/30 blocks.
    expect(
      problemsOf("voice,44,UK,0.30,0,60,60,0", "voice,44,UK,0.12,0,30,30,60", "voice,44,UK,0.06,0,1,1,100"),
    ).to.deep.equal(["3:next_increment"]);
    // The last interval is open-ended: any increments.
    expect(problemsOf("voice,44,UK,0.20,0,30,6,0", "voice,44,UK,0.10,0,7,13,60")).to.deep.equal([]);
  });
  it("refuses a connect fee on a later interval", () => {
    expect(problemsOf("voice,44,UK,0.20,0.01,60,60,0", "voice,44,UK,0.10,0.01,1,1,60")).to.deep.equal([
      "3:connect_fee",
    ]);
  });
  it("refuses a later interval with another destination", () => {
    expect(problemsOf("voice,44,UK,0.20,0,60,60,0", "voice,44,UK Long,0.10,0,1,1,60")).to.deep.equal([
      "3:destination",
    ]);
  });
  it("refuses interval_start on sms and data rows, and values that are not whole seconds", () => {
    expect(problemsOf("sms,44,UK SMS,0.01,0,1,1,60", "data,44,UK Data,0.01,0,1,1,1")).to.deep.equal([
      "2:interval_start",
      "3:interval_start",
    ]);
    expect(problemsOf("sms,44,UK SMS,0.01,0,1,1,0")).to.deep.equal([]);
    expect(
      problemsOf("voice,44,UK,0.1,0,1,1,-1", "voice,45,DK,0.1,0,1,1,1.5", "voice,46,SE,0.1,0,1,1,86401"),
    ).to.deep.equal(["2:interval_start", "3:interval_start", "4:interval_start"]);
  });
  it("refuses two rows for the same interval as an overlap", () => {
    expect(
      problemsOf("voice,44,UK,0.20,0,60,60,0", "voice,44,UK,0.10,0,1,1,60", "voice,44,UK,0.15,0,1,1,60"),
    ).to.deep.equal(["4:prefix"]);
    // The classic duplicate row keeps its message.
    const { problems } = parseTariffDeck(
      [HEADER, "voice,44,UK,0.2,0,1,1,", "voice,44,UK,0.2,0,1,1,"].join("\n"),
    );
    expect(problems).to.deep.equal([
      { line: 3, field: "prefix", message: "voice prefix 44 overlaps line 2 (same period)" },
    ]);
  });
  it("treats the rows of a tariff as one in the overlap check, and still refuses overlapping tariffs", () => {
    const header = `${HEADER},effective_from,effective_to`;
    const check = (...rows: string[]) =>
      parseTariffDeck([header, ...rows].join("\n")).problems.map((p) => `${p.line}:${p.field}:${p.message}`);
    // Consecutive periods, each with two intervals: fine.
    expect(
      check(
        "voice,44,UK,0.20,0,60,60,0,,2026-10-15",
        "voice,44,UK,0.10,0,1,1,60,,2026-10-15",
        "voice,44,UK,0.18,0,60,60,0,2026-10-15,",
        "voice,44,UK,0.09,0,1,1,60,2026-10-15,",
      ),
    ).to.deep.equal([]);
    // A second tariff from the 10th overlaps the first (until the 15th).
    expect(
      check(
        "voice,44,UK,0.20,0,60,60,0,,2026-10-15",
        "voice,44,UK,0.10,0,1,1,60,,2026-10-15",
        "voice,44,UK,0.18,0,60,60,0,2026-10-10,",
      ),
    ).to.deep.equal(["4:prefix:voice prefix 44 overlaps line 2 (same period)"]);
  });
  it("accepts every tariff whose intervals are whole increments long", () => {
    const spec = fc.record({
      first: fc.integer({ min: 1, max: 600 }),
      next: fc.integer({ min: 1, max: 600 }),
      blocks: fc.integer({ min: 0, max: 20 }),
    });
    fc.assert(
      fc.property(fc.array(spec, { minLength: 1, maxLength: 5 }), (specs) => {
        let start = 0;
        const rows = specs.map(({ first, next, blocks }) => {
          const row = `voice,44,UK,0.01,0,${first},${next},${start}`;
          start += first + blocks * next;
          return row;
        });
        if (start > 86_400) return;
        expect(problemsOf(...rows)).to.deep.equal([]);
      }),
    );
  });
});

describe("tariff deck: columns", () => {
  it("docs/RATING.md describes every column the parser accepts", () => {
    const doc = fs.readFileSync(path.join(__dirname, "..", "..", "..", "docs", "RATING.md"), "utf8");
    const table = doc.slice(doc.indexOf("| column |"), doc.indexOf("\n\n", doc.indexOf("| column |")));
    for (const column of DECK_COLUMNS) expect(table, column.name).to.contain(`\`${column.name}\``);
  });
  it("refuses an unknown column", () => {
    expect(parseTariffDeck("prefix,destination,rate,interval\n44,UK,0.01,0\n").problems).to.deep.equal([
      { line: 1, field: "interval", message: "unknown column 'interval'" },
    ]);
  });
});
