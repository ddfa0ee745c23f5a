import { expect } from "chai";
import fc from "fast-check";
import { FORMATS, formatById } from "./formats/registry";
import type { CdrFormat, MatchRule, MediatedCdr, ParsedRow } from "./types";
import { collect, csvField, options, referenceRecordLines } from "../../../test/helpers/mediation";

const RULES: MatchRule[] = [
  { partner: "globex", direction: "out", field: "trunk", pattern: "globex" },
  { partner: "acme", direction: "in", field: "accountcode", pattern: "." },
  { partner: "acme", direction: "in", field: "context", pattern: "." },
];
const OPTS = options({ timeZone: "Europe/London" }, RULES);
const RUNS = { numRuns: 150 };

/**
 * Start lines of the expected ParsedRows: one per non-blank record (one per non-blank line for a
 * line-per-record format), minus the format's header rows (its first good records).
 */
function expectedLines(text: string, format: CdrFormat): number[] {
  const descriptor = formatById(format);
  if (descriptor.syntax === "ndjson") {
    return (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)
      .split("\n")
      .flatMap((line, i) => (line.trim() === "" ? [] : [i + 1]));
  }
  const records = referenceRecordLines(text);
  const headers = new Set<number>();
  for (let i = 0; i < records.length && headers.size < descriptor.headerRows; i++)
    if (records[i]!.ok) headers.add(i);
  return records.filter((_, i) => !headers.has(i)).map((r) => r.line);
}

/** Splits bytes at the given cut points (any byte offsets, including inside UTF-8 sequences and CRLF). */
function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    parts.push(bytes.subarray(prev, p));
    prev = p;
  }
  parts.push(bytes.subarray(prev));
  return parts;
}

const ICL_HEADER =
  "cdr_id,partner,direction,service,start_time,duration,volume,a_number,b_number,disposition";

/** Text that looks like CDR files: valid-ish rows of each format mixed with CSV-hostile noise. */
const noisy = fc.string({
  unit: fc.constantFrom(
    "a",
    "1",
    "0",
    "+",
    ",",
    '"',
    "\n",
    "\r",
    "\r\n",
    " ",
    "é",
    "€",
    "😀",
    ":",
    "-",
    "\ufffd",
  ),
  maxLength: 120,
});
const astLine = fc
  .tuple(
    fc.constantFrom("ANSWERED", "NO ANSWER", "BUSY", "bogus"),
    fc.boolean(),
    fc.integer({ min: 0, max: 99 }),
  )
  .map(
    ([d, uid, n]) =>
      `"","10${n}","020794600${n}","ctx","""A"" <1>","SIP/x-1","SIP/globex-0${n}","Dial","a,b","2026-03-29 01:${10 + (n % 50)}:00","","2026-03-29 02:00:00",5,${n % 3 === 0 ? 0 : n},"${d}","DOCUMENTATION"` +
      (uid ? `,"id${n}",""` : ""),
  );
const fsLine = fc
  .tuple(
    fc.constantFrom("NORMAL_CLEARING", "USER_BUSY", "NO_ANSWER"),
    fc.boolean(),
    fc.integer({ min: 0, max: 99 }),
  )
  .map(
    ([c, answered, n]) =>
      `"Bob","+4420794600${n}","00331234${n}","public","2026-10-25 01:30:00","${answered ? "2026-10-25 01:30:05" : ""}","2026-10-25 01:31:00","60","${answered ? n : 0}","${c}","uuid-${n}","","acme${n}","PCMA","PCMA"`,
  );
const iclLine = fc
  .tuple(
    fc.constantFrom("out", "in", "up"),
    fc.constantFrom("voice", "sms", "data", ""),
    fc.integer({ min: 0, max: 99 }),
  )
  .map(
    ([d, s, n]) =>
      `"c,${n}",acme,${d},${s},2026-10-01T12:${String(n % 60).padStart(2, "0")}:00+01:00,${n},${n},"+44 20 7946 ${n}",020794600${n},`,
  );
const fileText = fc
  .array(fc.oneof(noisy, astLine, fsLine, iclLine, fc.constant(ICL_HEADER), fc.constant("")), {
    maxLength: 12,
  })
  .chain((lines) =>
    fc
      .array(fc.constantFrom("\n", "\r\n"), { minLength: lines.length, maxLength: lines.length })
      .map((ends) => lines.map((l, i) => l + ends[i]).join("")),
  );

function normalise(rows: ParsedRow[]): unknown[] {
  return rows.map((r) => ({ ...r }));
}

describe("mediation/mediateStream properties", () => {
  // Formats that pair records (one row for two) are tested by their own suites.
  for (const format of FORMATS.filter((f) => f.pairs?.(OPTS) !== true).map((f) => f.id)) {
    describe(format, () => {
      it("never throws on arbitrary bytes and yields one row per non-blank record, at its start line", async () => {
        await fc.assert(
          fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
            const buffer = Buffer.from(bytes);
            const rows = await collect(buffer, format, OPTS);
            expect(rows.map((r) => r.line)).to.deep.equal(expectedLines(buffer.toString("utf8"), format));
          }),
          RUNS,
        );
      });

      it("never throws on CSV-like text and yields one row per non-blank record, at its start line", async () => {
        await fc.assert(
          fc.asyncProperty(fileText, async (text) => {
            const rows = await collect(text, format, OPTS);
            expect(rows.map((r) => r.line)).to.deep.equal(expectedLines(text, format));
            for (const row of rows) {
              if (row.kind === "reject") expect(row.message).to.be.a("string").and.not.equal("");
            }
          }),
          RUNS,
        );
      });

      it("gives identical output however the input is chunked (bytes and strings)", async () => {
        await fc.assert(
          fc.asyncProperty(
            fileText,
            fc.array(fc.nat(), { maxLength: 20 }),
            fc.integer({ min: 1, max: 5 }),
            async (text, cuts, batchSize) => {
              const bytes = Buffer.from(text, "utf8");
              const whole = await collect(bytes, format, OPTS);
              const chunked = await collect(splitAt(bytes, cuts), format, OPTS, batchSize);
              expect(normalise(chunked)).to.deep.equal(normalise(whole));
              const strings: string[] = [];
              let prev = 0;
              for (const c of [...new Set(cuts.map((x) => x % (text.length + 1)))].sort((a, b) => a - b)) {
                strings.push(text.slice(prev, c));
                prev = c;
              }
              strings.push(text.slice(prev));
              expect(normalise(await collect(strings, format, OPTS))).to.deep.equal(normalise(whole));
            },
          ),
          RUNS,
        );
      });

      it("gives identical output for arbitrary bytes split anywhere (invalid UTF-8 included)", async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.uint8Array({ maxLength: 200 }),
            fc.array(fc.nat(), { maxLength: 20 }),
            async (raw, cuts) => {
              const bytes = Buffer.from(raw);
              const whole = await collect(bytes, format, OPTS);
              expect(normalise(await collect(splitAt(bytes, cuts), format, OPTS))).to.deep.equal(
                normalise(whole),
              );
            },
          ),
          RUNS,
        );
      });
    });
  }

  describe("icl-csv round trip", () => {
    const pad = (n: number, w = 2): string => String(n).padStart(w, "0");
    /** Writes startMs as ISO 8601 with the given offset (minutes) in one of the accepted spellings. */
    function iso(ms: number, offsetMin: number, style: number): string {
      const d = new Date(ms + offsetMin * 60_000);
      const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
      const sep = style % 2 === 0 ? "T" : " ";
      const frac =
        d.getUTCMilliseconds() === 0 && style % 3 === 0 ? "" : `.${pad(d.getUTCMilliseconds(), 3)}`;
      const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${frac}`;
      const abs = Math.abs(offsetMin);
      const sign = offsetMin < 0 ? "-" : "+";
      const zone =
        offsetMin === 0 && style % 4 === 0
          ? "Z"
          : offsetMin === 0 && style % 4 === 1
            ? ""
            : style % 4 === 2
              ? `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`
              : `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
      return `${date}${sep}${time}${zone}`;
    }

    const digits = (min: number, max: number) =>
      fc
        .tuple(
          fc.integer({ min: 1, max: 9 }),
          fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: min - 1, maxLength: max - 1 }),
        )
        .map(([first, rest]) => `${first}${rest}`);

    const cdr: fc.Arbitrary<MediatedCdr & { id: string }> = fc
      .record({
        id: fc
          .string({
            unit: fc.constantFrom("a", "Z", "7", ",", '"', "\n", "\r\n", " ", "é", "😀", "-"),
            minLength: 1,
            maxLength: 30,
          })
          .filter((s) => s.trim() === s && s.length > 0),
        partner: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/),
        direction: fc.constantFrom("in" as const, "out" as const),
        service: fc.constantFrom("voice" as const, "sms" as const, "data" as const),
        startMs: fc.integer({ min: 0, max: 4_102_444_799_999 }),
        duration: fc.nat({ max: 1_000_000 }),
        volume: fc.nat({ max: 2 ** 40 }),
        aNumber: fc.oneof(fc.constant(""), digits(1, 15)),
        bNumber: digits(1, 15),
        disposition: fc.constantFrom(
          "ANSWERED" as const,
          "NO_ANSWER" as const,
          "BUSY" as const,
          "FAILED" as const,
          "CONGESTION" as const,
          "CANCEL" as const,
        ),
      })
      .map((c) => ({
        ...c,
        key: `icl:${c.id}`,
        volume: c.service === "voice" ? 0 : c.volume,
        // Without an answer_time column, start_time is both the attempt's start and its answer.
        setupMs: c.startMs,
        answerMs: c.disposition === "ANSWERED" ? c.startMs : null,
        endMs: null,
        totalSeconds: null,
        trunk: null,
        sipCode: null,
        q850Cause: null,
        pddMs: null,
        warnings: null,
      }));

    it("reads back exactly what was written, whatever the column order, offsets and line endings", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.tuple(cdr, fc.integer({ min: -14 * 60, max: 14 * 60 }), fc.nat({ max: 11 }), fc.boolean()),
            { minLength: 1, maxLength: 10 },
          ),
          fc.shuffledSubarray([...ICL_HEADER.split(",")], { minLength: 10 }),
          fc.constantFrom("\n", "\r\n"),
          async (rows, columns, eol) => {
            const lines = rows.map(([c, offset, style, plus]) => {
              const value: Record<string, string> = {
                cdr_id: c.id,
                partner: c.partner,
                direction: c.direction,
                service: c.service,
                start_time: iso(c.startMs, offset, style),
                duration: String(c.duration),
                volume: String(c.volume),
                a_number: c.aNumber === "" ? "" : plus ? `+${c.aNumber}` : `00${c.aNumber}`,
                b_number: plus ? `+${c.bNumber}` : `00${c.bNumber}`,
                disposition: c.disposition,
              };
              return columns.map((col) => csvField(value[col] ?? "")).join(",");
            });
            const text = [columns.join(","), ...lines].join(eol) + eol;
            const parsed = await collect(text, "icl-csv", OPTS);
            const expected = rows.map(([c]) => {
              const { id: _id, ...rest } = c;
              return rest;
            });
            expect(parsed.map((r) => (r.kind === "cdr" ? r.cdr : r))).to.deep.equal(expected);
          },
        ),
        RUNS,
      );
    });
  });
});
