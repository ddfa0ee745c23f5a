import { expect } from "chai";
import fc from "fast-check";
import fs from "node:fs";
import path from "node:path";
import { generatedDeck, writeIclCsv } from "../../../scripts/lib/generate-cdrs";
import { tempDir } from "../../../test/helpers/databases";
import type { CdrFormat, MediationOptions } from "../mediation/types";
import { rateFileParallel } from "./parallel-rate";
import { rateStream } from "./rate-stream";
import { Rater } from "./rater";
import { loadTariffDeck } from "./tariff-deck";

const DECK = generatedDeck();
const ROWS = loadTariffDeck(DECK, "deck.csv");
const SAMPLES = path.join(__dirname, "..", "..", "samples");

function options(file: string, overrides: Partial<MediationOptions> = {}): MediationOptions {
  return {
    fileName: file,
    timeZone: "Europe/London",
    useGmtTime: false,
    numbering: { countryCode: "44", nationalPrefix: "0", internationalPrefix: "00" },
    matchRules: [{ partner: "GLOBEX", direction: "out", field: "trunk", pattern: "^globex$" }],
    ...overrides,
  };
}

async function both(
  file: string,
  format: CdrFormat,
  segmentBytes: number,
  deck = { text: DECK, rows: ROWS },
) {
  const sequential = await rateStream(fs.createReadStream(file), format, options(file), new Rater(deck.rows));
  const parallel = await rateFileParallel(
    file,
    format,
    options(file),
    { ...deck, file: "deck.csv" },
    2,
    segmentBytes,
  );
  return { sequential, parallel };
}

describe("rating: parallel dry run", function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = tempDir();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("gives exactly the sequential result on generated traffic cut into many segments", async () => {
    const file = path.join(dir, "cdrs.csv");
    writeIclCsv(file, 20_000, { seed: 3, imperfect: true });
    const { sequential, parallel } = await both(file, "icl-csv", 64 * 1024);
    expect(parallel).to.deep.equal(sequential);
    expect(sequential.rejected.DUPLICATE).to.be.greaterThan(50);
  });

  it("gives exactly the sequential result with rates that change within a call", async () => {
    // The generated deck with a later, cheaper interval on every voice tariff (aligned with its increments).
    const [header, ...rows] = DECK.trimEnd().split("\n");
    const lines = [`${header},interval_start`];
    for (const row of rows) {
      lines.push(`${row},0`);
      const fields = row.split(",");
      if (fields[0] !== "voice") continue;
      const start = fields[5] === "30" ? 300 : 120; // 30/6: 30 + 45 × 6; 60/60: 2 blocks; 1/1: any
      fields[3] = "0.0011";
      fields[4] = "0";
      fields[5] = "1";
      fields[6] = "1";
      lines.push(`${fields.join(",")},${start}`);
    }
    const text = lines.join("\n") + "\n";
    const file = path.join(dir, "intervals.csv");
    writeIclCsv(file, 5_000, { seed: 5, imperfect: true });
    const { sequential, parallel } = await both(file, "icl-csv", 32 * 1024, {
      text,
      rows: loadTariffDeck(text, "deck.csv"),
    });
    expect(parallel).to.deep.equal(sequential);
    const flat = await rateStream(fs.createReadStream(file), "icl-csv", options(file), new Rater(ROWS));
    expect(sequential.rated).to.equal(flat.rated);
    expect(sequential.amount < flat.amount, "long calls cost less under the later intervals").to.equal(true);
  });

  it("finds duplicates across segments and keeps the first occurrence", async () => {
    const file = path.join(dir, "dups.csv");
    const header = "cdr_id,partner,direction,start_time,duration,b_number\n";
    const rows = Array.from(
      { length: 400 },
      (_, i) =>
        `C${i % 150},GLOBEX,out,2026-10-0${1 + (i % 9)}T10:00:00Z,${i},+44207946${String(i).padStart(4, "0")}\n`,
    );
    fs.writeFileSync(file, header + rows.join(""));
    const { sequential, parallel } = await both(file, "icl-csv", 512);
    expect(sequential.rejected.DUPLICATE).to.equal(250);
    expect(parallel).to.deep.equal(sequential);
  });

  it("decodes segments with non-ASCII text as UTF-8 (a trunk of 100 'é' is 100 characters, not 200)", async () => {
    const file = path.join(dir, "utf8.csv");
    const header = "cdr_id,partner,direction,start_time,duration,b_number,trunk\n";
    const rows = Array.from(
      { length: 3000 },
      (_, i) =>
        `C${i},GLOBEX,out,2026-10-05T10:00:00Z,${i % 300},+44207946${String(i).padStart(4, "0")},${i % 7 === 0 ? "é".repeat(100) : "t"}\n`,
    );
    fs.writeFileSync(file, header + rows.join(""));
    const { sequential, parallel } = await both(file, "icl-csv", 4096);
    expect(sequential.rejected).to.deep.equal({});
    expect(parallel).to.deep.equal(sequential);
  });

  it("never cuts inside a quoted field that spans lines (Asterisk, every field quoted)", async () => {
    const file = path.join(dir, "Master.csv");
    const sample = fs.readFileSync(path.join(SAMPLES, "Master.csv"), "utf8").trimEnd().split("\n");
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      let line = sample[i % sample.length]!.replace(/"\d+\.\d+"/, `"${1759306490 + i}.${i}"`);
      if (i % 97 === 0) line = line.replace('"Dial"', '"Dial\nacross a line"'); // a multi-line quoted field
      lines.push(line);
    }
    fs.writeFileSync(file, lines.join("\r\n") + "\r\n");
    const deck = fs.readFileSync(path.join(SAMPLES, "tariff-globex.csv"), "utf8");
    const { sequential, parallel } = await both(file, "asterisk", 700, {
      text: deck,
      rows: loadTariffDeck(deck, "d"),
    });
    expect(sequential.rated).to.be.greaterThan(1000);
    expect(parallel).to.deep.equal(sequential);
  });

  it("hands CUCM's two header rows (names, then types) to every segment: exactly the sequential result", async () => {
    // The sample flat file's header rows and first CDR as the template of 8 000 varied rows.
    const [names, types, template] = fs.readFileSync(path.join(SAMPLES, "cucm-cdr.csv"), "utf8").split("\n");
    const column = new Map(names!.split(",").map((name, i) => [name.replace(/"/g, ""), i]));
    const T0 = Date.UTC(2026, 9, 1) / 1000;
    const lines = [names, types];
    for (let i = 0; i < 8000; i++) {
      const f = template!.split(",");
      const set = (name: string, value: string | number) => (f[column.get(name)!] = String(value));
      const start = T0 + i * 311;
      const answered = i % 3 !== 0;
      set("pkid", `"9f0c${String(i % 7919 === 5 ? i - 1 : i).padStart(28, "0")}"`); // a few duplicates
      set("globalCallID_callId", 500_000 + i);
      set("dateTimeOrigination", i % 997 === 0 ? "soon" : start); // a few unreadable epochs
      set("dateTimeConnect", answered ? start + 6 : 0);
      set("dateTimeDisconnect", start + 6 + (answered ? i % 900 : 0));
      set("duration", answered ? i % 900 : 0);
      set("destCause_value", answered ? 0 : [17, 19, 34][i % 3]!);
      set(
        "finalCalledPartyNumber",
        `"${["0049301234", "+4420794", "07700900"][i % 3]}${String(i).padStart(4, "0")}"`,
      );
      set("destDeviceName", i % 50 === 0 ? '"SEP00AABBCCDDEE"' : '"globex"'); // the default rule: out, trunk ^globex$
      lines.push(f.join(","));
      if (i % 1500 === 0)
        lines.push(`2,1,${500_000 + i},1,"+442079460001",17586048,${start},0,0,0,0,0,0,0,"","","","",""`);
    }
    const file = path.join(dir, "cdr_StandAloneCluster_01_202610010000_1");
    fs.writeFileSync(file, lines.join("\n") + "\n");
    const { sequential, parallel } = await both(file, "cucm", 64 * 1024);
    expect(fs.statSync(file).size / (64 * 1024), "many segments").to.be.greaterThan(50);
    expect(parallel).to.deep.equal(sequential);
    // Every row counted once: had a worker taken a header row for a CDR (or dropped one), these would differ.
    expect(sequential.records).to.equal(8006);
    // 6 CMR lines and 9 unreadable epochs; rows 5 and 7924 repeat the pkids of 4 and 7923; every 50th
    // row ends on a phone (row 0 is already invalid).
    const { NO_RATE = 0, ...rejected } = sequential.rejected;
    expect(rejected).to.deep.equal({ INVALID: 6 + 9, DUPLICATE: 2, UNKNOWN_PARTNER: 159 });
    expect(sequential.rated + sequential.unbilled + NO_RATE).to.equal(8006 - 15 - 2 - 159);
    expect(sequential.rated).to.be.greaterThan(4000);
  });

  it("either matches the sequential result or declines (null) on arbitrary line mixes, never differs", async () => {
    const templates = [
      "C{n},GLOBEX,out,2026-10-05T10:00:00Z,61,+442079460000",
      "C{n},GLOBEX,in,2026-10-05T10:00:00+02:00,0,+447700900123",
      '"C{n}",GLOBEX,out,2026-10-05,30,"+49 30 1234\n567"',
      "C{n},GLOBEX,out,not-a-date,30,+442079460000",
      'C{n},GLOBEX,out,2026-10-05T10:00:00Z,30,+4420"79',
      "",
      "   ",
      "C1,GLOBEX,out,2026-10-05T10:00:00Z,61,+442079460000",
      '"unterminated,GLOBEX',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat({ max: templates.length - 1 }), { minLength: 1, maxLength: 80 }),
        fc.boolean(),
        fc.integer({ min: 16, max: 400 }),
        async (picks, crlf, segmentBytes) => {
          const file = path.join(dir, "mix.csv");
          const body = picks
            .map((t, n) => templates[t]!.replace("{n}", String(n)))
            .join(crlf ? "\r\n" : "\n");
          fs.writeFileSync(
            file,
            "\uFEFFcdr_id,partner,direction,start_time,duration,b_number\n" + body + "\n",
          );
          const { sequential, parallel } = await both(file, "icl-csv", segmentBytes);
          if (parallel !== null) expect(parallel).to.deep.equal(sequential);
          const strayQuote = picks.some((t) => t === 4 || t === 8);
          if (!strayQuote) expect(parallel, "well-formed files are never declined").to.not.equal(null);
        },
      ),
      { numRuns: 12 },
    );
  });
});
