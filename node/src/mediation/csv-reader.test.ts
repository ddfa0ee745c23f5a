import { expect } from "chai";
import { BAD_RECORD, CsvRecordReader, MAX_RECORD_CHARS, NEED_MORE, RECORD } from "./csv-reader";

function readAll(parts: string[]): [number, number, string[] | string][] {
  const reader = new CsvRecordReader();
  const out: [number, number, string[] | string][] = [];
  const drain = () => {
    for (let s = reader.next(); s !== NEED_MORE; s = reader.next()) {
      out.push([s, reader.line, s === RECORD ? reader.fields.slice(0, reader.count) : reader.error]);
    }
  };
  for (const part of parts) {
    reader.push(part);
    drain();
  }
  reader.end();
  drain();
  return out;
}

describe("mediation/CsvRecordReader", () => {
  it("splits RFC 4180 records with LF, CRLF, quotes and embedded line breaks", () => {
    expect(readAll(['a,b\r\n"x,1","say ""hi""","two\nlines"\n\n  \r\nlast,'])).to.deep.equal([
      [RECORD, 1, ["a", "b"]],
      [RECORD, 2, ["x,1", 'say "hi"', "two\nlines"]],
      [RECORD, 6, ["last", ""]],
    ]);
  });

  it("keeps a lone CR and quotes inside unquoted fields as data", () => {
    expect(readAll(['a\rb,c"d\n'])).to.deep.equal([[RECORD, 1, ["a\rb", 'c"d']]]);
  });

  it("gives the same records when fed one character at a time", () => {
    const text = 'h1,h2\r\n"a\r\nb",c\r\n\r\nx,"y"""\r\n';
    expect(readAll(text.split(""))).to.deep.equal(readAll([text]));
  });

  it("bounds memory: an endless line is rejected once and skipped without buffering it", () => {
    const reader = new CsvRecordReader();
    const chunk = "x".repeat(16_384);
    const statuses: number[] = [];
    let maxBuffered = 0;
    for (let i = 0; i < 200; i++) {
      reader.push(chunk);
      for (let s = reader.next(); s !== NEED_MORE; s = reader.next()) statuses.push(s);
      maxBuffered = Math.max(maxBuffered, (reader as unknown as { buf: string }).buf.length);
    }
    reader.push("\nok,1\n");
    reader.end();
    for (let s = reader.next(); s !== NEED_MORE; s = reader.next()) statuses.push(s);
    expect(statuses).to.deep.equal([BAD_RECORD, RECORD]);
    expect(reader.line).to.equal(2);
    expect(maxBuffered).to.be.at.most(MAX_RECORD_CHARS + 2 * chunk.length);
  });
});
