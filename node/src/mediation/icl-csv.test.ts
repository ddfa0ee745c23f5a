import { expect } from "chai";
import type { MediatedCdr, ParsedRow } from "./types";
import { collect } from "../../../test/helpers/mediation";
import { mediatedCdr } from "../../../test/helpers/cdrs";

const HEADER = "cdr_id,partner,direction,service,start_time,duration,volume,a_number,b_number,disposition";

function cdrs(rows: ParsedRow[]): MediatedCdr[] {
  return rows.map((r) => {
    if (r.kind !== "cdr") throw new Error(`line ${r.line}: ${r.reason} ${r.field}: ${r.message}`);
    return r.cdr;
  });
}

function rejects(
  rows: ParsedRow[],
): { line: number; reason: string; field: string | null; message: string }[] {
  return rows.flatMap((r) =>
    r.kind === "reject" ? [{ line: r.line, reason: r.reason, field: r.field, message: r.message }] : [],
  );
}

const base: MediatedCdr = mediatedCdr({
  key: "icl:c1",
  partner: "acme",
  direction: "out",
  service: "voice",
  startMs: Date.UTC(2026, 9, 1, 12),
  setupMs: Date.UTC(2026, 9, 1, 12),
  answerMs: Date.UTC(2026, 9, 1, 12),
  duration: 60,
  volume: 0,
  aNumber: "442079460000",
  bNumber: "33123456789",
  disposition: "ANSWERED",
});

describe("mediation/icl-csv", () => {
  it("reads a voice, an sms and a data row with their defaults", async () => {
    const rows = await collect(
      [
        HEADER,
        "c1,acme,out,voice,2026-10-01T12:00:00Z,60,,+44 20 7946 0000,+33 1 23 45 67 89,ANSWERED",
        "c2,acme,in,sms,2026-10-01T12:00:00+02:00,,,,0033123456789,",
        "c3,acme.eu_2,in,data,2026-10-01,,1048576,020 7946 0000,0033123456789,answered",
        "",
      ].join("\n"),
      "icl-csv",
    );
    expect(cdrs(rows)).to.deep.equal([
      base,
      {
        ...base,
        key: "icl:c2",
        direction: "in",
        service: "sms",
        startMs: Date.UTC(2026, 9, 1, 10),
        setupMs: Date.UTC(2026, 9, 1, 10),
        answerMs: Date.UTC(2026, 9, 1, 10),
        duration: 0,
        volume: 1,
        aNumber: "",
      },
      {
        ...base,
        key: "icl:c3",
        partner: "acme.eu_2",
        direction: "in",
        service: "data",
        startMs: Date.UTC(2026, 9, 1),
        setupMs: Date.UTC(2026, 9, 1),
        answerMs: Date.UTC(2026, 9, 1),
        duration: 0,
        volume: 1_048_576,
      },
    ]);
    expect(rows.map((r) => r.line)).to.deep.equal([2, 3, 4]);
  });

  it("maps every disposition, case-insensitively, including NO ANSWER", async () => {
    const lines = ["ANSWERED", "NO_ANSWER", "no answer", "Busy", "FAILED", ""].map(
      (d, i) => `c${i},acme,out,voice,2026-10-01T12:00:00Z,0,0,,2079460000,${d}`,
    );
    const rows = await collect([HEADER, ...lines].join("\n"), "icl-csv");
    expect(cdrs(rows).map((c) => c.disposition)).to.deep.equal([
      "ANSWERED",
      "NO_ANSWER",
      "NO_ANSWER",
      "BUSY",
      "FAILED",
      "ANSWERED",
    ]);
  });

  it("accepts columns in any order, case-insensitive trimmed header names and extra columns; service defaults to voice", async () => {
    const text =
      " B_Number ,Start_Time,extra,PARTNER,direction,cdr_id\r\n02079460000,2026-10-01 12:00:00.250,whatever,acme,in,x9\r\n";
    const rows = await collect(text, "icl-csv");
    expect(cdrs(rows)).to.deep.equal([
      {
        ...base,
        key: "icl:x9",
        partner: "acme",
        direction: "in",
        service: "voice",
        startMs: Date.UTC(2026, 9, 1, 12, 0, 0, 250),
        setupMs: Date.UTC(2026, 9, 1, 12, 0, 0, 250),
        answerMs: Date.UTC(2026, 9, 1, 12, 0, 0, 250),
        duration: 0,
        volume: 0,
        aNumber: "",
        bNumber: "442079460000",
        disposition: "ANSWERED",
      },
    ]);
    expect(rows[0]?.line).to.equal(2);
  });

  it("reads quoted fields with commas, doubled quotes and line breaks, CRLF, and keeps start lines", async () => {
    const text = [
      HEADER,
      '"id,1",acme,out,voice,2026-10-01T12:00:00Z,60,0,"+44 20 7946 0000","+33 1 23 45 67 89",ANSWERED',
      '"say ""hi""\r\nnext line",acme,out,voice,2026-10-01T12:00:00Z,60,0,+442079460000,+33123456789,"ANSWERED"',
      "",
      "   ",
      "c4,acme,out,voice,2026-10-01T12:00:00Z,60,0,+442079460000,+33123456789,ANSWERED",
    ].join("\r\n");
    const rows = await collect(text, "icl-csv");
    expect(cdrs(rows).map((c) => c.key)).to.deep.equal(["icl:id,1", 'icl:say "hi"\r\nnext line', "icl:c4"]);
    expect(rows.map((r) => r.line)).to.deep.equal([2, 3, 7]);
    expect(rows[1]?.raw).to.equal(
      '"say ""hi""\r\nnext line",acme,out,voice,2026-10-01T12:00:00Z,60,0,+442079460000,+33123456789,"ANSWERED"',
    );
  });

  it("rejects every data row, naming the column, when the header lacks a required column", async () => {
    const rows = await collect(
      "cdr_id,direction,start_time,b_number\nc1,out,2026-10-01,123\nc2,in,2026-10-01,456\n",
      "icl-csv",
    );
    expect(rejects(rows)).to.deep.equal([
      {
        line: 2,
        reason: "INVALID",
        field: "partner",
        message: "the header lacks the required column partner",
      },
      {
        line: 3,
        reason: "INVALID",
        field: "partner",
        message: "the header lacks the required column partner",
      },
    ]);
  });

  it("names the column of every bad value", async () => {
    const good = [
      "c1",
      "acme",
      "out",
      "voice",
      "2026-10-01T12:00:00Z",
      "60",
      "0",
      "+442079460000",
      "+33123456789",
      "ANSWERED",
    ];
    const cases: [number, string, string, string][] = [
      [0, "", "cdr_id", "cdr_id is empty"],
      [1, "", "partner", "partner '' is not a partner id"],
      [1, "acme corp", "partner", "partner 'acme corp' is not a partner id"],
      [1, "-acme", "partner", "partner '-acme' is not a partner id"],
      [2, "sideways", "direction", "direction 'sideways' is neither 'out' nor 'in'"],
      [3, "fax", "service", "service 'fax' is not voice, sms or data"],
      [4, "2026-13-01", "start_time", "start_time '2026-13-01' is not an ISO 8601 date-time"],
      [4, "", "start_time", "start_time '' is not an ISO 8601 date-time"],
      [5, "-1", "duration", "duration '-1' is not a whole number of seconds"],
      [5, "1.5", "duration", "duration '1.5' is not a whole number of seconds"],
      [6, "many", "volume", "volume 'many' is not a whole number"],
      [7, "12ab", "a_number", "a_number '12ab' is not a phone number"],
      [8, "", "b_number", "b_number is empty"],
      [8, "+1234567890123456", "b_number", "b_number '+1234567890123456' is not a phone number"],
      [
        9,
        "HUNG_UP",
        "disposition",
        "disposition 'HUNG_UP' is not ANSWERED, NO_ANSWER, BUSY, FAILED, CONGESTION or CANCEL",
      ],
    ];
    const lines = cases.map(([i, value]) => good.map((g, j) => (j === i ? value : g)).join(","));
    const rows = await collect([HEADER, ...lines, "c1,acme,out"].join("\n"), "icl-csv");
    const got = rejects(rows);
    expect(got).to.have.length(cases.length + 1);
    cases.forEach(([, , field, message], k) => {
      expect(got[k]?.reason).to.equal("INVALID");
      expect(got[k]?.field, message).to.equal(field);
      expect(got[k]?.message).to.contain(message);
      expect(got[k]?.line).to.equal(k + 2);
    });
    expect(got[cases.length]).to.deep.include({
      field: null,
      message: "row has 3 fields but the header has 10",
    });
  });

  it("validates every row's partner, not only the first", async () => {
    const row = (p: string) => `c1,${p},out,voice,2026-10-01T12:00:00Z,60,0,,+33123456789,`;
    const rows = await collect(
      [HEADER, row("acme"), row("acme"), row(""), row("acme!"), row("acme")].join("\n"),
      "icl-csv",
    );
    expect(rows.map((r) => (r.kind === "cdr" ? r.cdr.partner : r.field))).to.deep.equal([
      "acme",
      "acme",
      "partner",
      "partner",
      "acme",
    ]);
  });

  it("rejects an unterminated quote and an over-long record, then resynchronises at the next line", async () => {
    const ok = "c9,acme,out,voice,2026-10-01T12:00:00Z,60,0,+442079460000,+33123456789,ANSWERED";
    const long = "x".repeat(70_000);
    const text = [HEADER, `"${long},acme`, ok, `c2,${long}`, ok, '"open,acme,out'].join("\n") + "\n" + ok;
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += 4096) chunks.push(text.slice(i, i + 4096));
    for (const input of [text, chunks]) {
      const rows = await collect(input, "icl-csv");
      expect(rows.map((r) => [r.line, r.kind === "reject" ? r.message : r.kind])).to.deep.equal([
        [2, "record is longer than 65536 characters"],
        [3, "cdr"],
        [4, "record is longer than 65536 characters"],
        [5, "cdr"],
        [6, "unterminated quoted field"],
        [7, "cdr"],
      ]);
      expect(rows[0]?.raw.length).to.equal(2048);
    }
  });

  it("rejects text after a closing quote and survives invalid UTF-8 and a byte-order mark", async () => {
    const ok = "c9,acme,out,voice,2026-10-01T12:00:00Z,60,0,+442079460000,+33123456789,ANSWERED";
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(`${HEADER}\n"c1"x,acme\n`),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x2c, 0x0a]),
      Buffer.from(ok),
    ]);
    const rows = await collect(bytes, "icl-csv");
    expect(rows.map((r) => [r.line, r.kind === "reject" ? r.message : r.kind])).to.deep.equal([
      [2, "unexpected text after a closing quote"],
      [3, "row has 2 fields but the header has 10"],
      [4, "cdr"],
    ]);
  });

  it("yields batches of at most batchSize rows in file order", async () => {
    const lines = Array.from({ length: 25 }, (_, i) => `c${i},acme,out,voice,2026-10-01,1,0,,123,`);
    const { mediateStream } = await import("./mediate");
    const { chunksOf, options } = await import("../../../test/helpers/mediation");
    const sizes: number[] = [];
    const keys: string[] = [];
    for await (const batch of mediateStream(
      chunksOf([[HEADER, ...lines].join("\n")]),
      "icl-csv",
      options(),
      10,
    )) {
      sizes.push(batch.length);
      for (const r of batch) if (r.kind === "cdr") keys.push(r.cdr.key);
    }
    expect(sizes).to.deep.equal([10, 10, 5]);
    expect(keys).to.deep.equal(lines.map((_, i) => `icl:c${i}`));
  });
});
