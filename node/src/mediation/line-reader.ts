import { BAD_RECORD, MAX_RECORD_CHARS, NEED_MORE, RAW_LIMIT, RECORD, type ReadStatus } from "./csv-reader";

/**
 * Streaming reader of line records (NDJSON): the same push / end / next contract as
 * {@link CsvRecordReader}, but a record is one whole line, handed over as the single field
 * `fields[0]` for the format to parse. Blank lines are skipped; a leading byte-order mark is
 * dropped; a line over {@link MAX_RECORD_CHARS} is a BAD_RECORD and reading resumes after it.
 */
export class LineRecordReader {
  readonly fields: string[] = [""];
  readonly count = 1;
  line = 0;
  error = "";

  private buf = "";
  private pos = 0;
  private nextLine = 1;
  private final = false;
  private started = false;
  private skipping = false;
  private recStart = 0;
  private recEnd = 0;

  push(text: string): void {
    if (text.length === 0) return;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.buf = this.pos >= this.buf.length ? text : this.buf.slice(this.pos) + text;
    this.pos = 0;
  }

  end(): void {
    this.final = true;
  }

  /** True when everything pushed so far was consumed as whole lines. */
  atRecordBoundary(): boolean {
    return !this.skipping && this.pos >= this.buf.length;
  }

  raw(): string {
    const end = this.recEnd - this.recStart > RAW_LIMIT ? this.recStart + RAW_LIMIT : this.recEnd;
    return this.buf.slice(this.recStart, end);
  }

  text(): string {
    return this.buf.slice(this.recStart, this.recEnd);
  }

  next(): ReadStatus {
    const buf = this.buf;
    for (;;) {
      const start = this.pos;
      if (start >= buf.length) return NEED_MORE;
      const nl = buf.indexOf("\n", start);
      if (nl < 0 && !this.final) {
        if (buf.length - start > MAX_RECORD_CHARS && !this.skipping) {
          this.skipping = true;
          this.line = this.nextLine++;
          this.recStart = start;
          this.recEnd = start + RAW_LIMIT;
          this.pos = buf.length;
          this.error = `record is longer than ${MAX_RECORD_CHARS} characters`;
          return BAD_RECORD;
        }
        if (this.skipping) this.pos = buf.length;
        return NEED_MORE;
      }
      const lineEnd = nl < 0 ? buf.length : nl;
      this.pos = nl < 0 ? buf.length : nl + 1;
      if (this.skipping) {
        // The rest of an over-long line already reported.
        this.skipping = false;
        continue;
      }
      let end = lineEnd;
      if (end > start && buf.charCodeAt(end - 1) === 13) end--;
      const lineNo = this.nextLine++;
      if (buf.slice(start, end).trim() === "") continue;
      this.line = lineNo;
      this.recStart = start;
      this.recEnd = end;
      if (end - start > MAX_RECORD_CHARS) {
        this.error = `record is longer than ${MAX_RECORD_CHARS} characters`;
        return BAD_RECORD;
      }
      this.fields[0] = buf.slice(start, end);
      return RECORD;
    }
  }
}
