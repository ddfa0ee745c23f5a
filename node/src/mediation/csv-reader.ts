/** Longest record accepted, in UTF-16 code units (≈ 64 KiB); longer ones are rejected. */
export const MAX_RECORD_CHARS = 65_536;
/** How much of a record's text is kept in `raw` for the reject store. */
export const RAW_LIMIT = 2048;

/** Result of {@link CsvRecordReader.next}. */
export const NEED_MORE = 0;
export const RECORD = 1;
export const BAD_RECORD = 2;
export type ReadStatus = typeof NEED_MORE | typeof RECORD | typeof BAD_RECORD;

/**
 * Streaming RFC 4180 record reader over decoded text. Push text with {@link push}, call
 * {@link end} after the last chunk, and pull records with {@link next} until it returns NEED_MORE.
 *
 * - Fields are separated by `,`; records end at LF or CRLF; a field that starts with `"` is quoted,
 *   may contain commas, doubled quotes and line breaks, and must be followed by `,` or the end of
 *   the record. A `"` inside an unquoted field is kept as data.
 * - A record's line number is the line on which it starts. Blank (empty or whitespace-only) lines
 *   are skipped and are not records. A leading byte-order mark is dropped.
 * - Bounded memory: a record longer than {@link MAX_RECORD_CHARS}, an unterminated quoted field, or
 *   text after a closing quote is reported as BAD_RECORD (with `error`), and reading resumes after
 *   the first line break following the record's start.
 *
 * After RECORD, `fields[0..count)` hold the fields (the array is reused: copy what you keep),
 * `line` the start line, and {@link raw}/{@link text} give the record's text until the next call.
 */
export class CsvRecordReader {
  readonly fields: string[] = [];
  count = 0;
  line = 0;
  error = "";

  private buf = "";
  private pos = 0;
  private nextLine = 1;
  private final = false;
  private skipping = false;
  private started = false;
  /** Index of the first `"` at or after the last search start; -1 unknown; buf.length when none. */
  private quote = -1;
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
    this.quote = -1;
  }

  end(): void {
    this.final = true;
  }

  /**
   * True when everything pushed so far has been consumed as whole records (no partial record, no
   * resynchronisation pending): the next text starts a new record. Meaningful after `next()`
   * returned NEED_MORE.
   */
  atRecordBoundary(): boolean {
    return !this.skipping && this.pos >= this.buf.length;
  }

  /** The current record's text, truncated to {@link RAW_LIMIT}. */
  raw(): string {
    const end = this.recEnd - this.recStart > RAW_LIMIT ? this.recStart + RAW_LIMIT : this.recEnd;
    return this.buf.slice(this.recStart, end);
  }

  /** The current record's whole text (without its line break). */
  text(): string {
    return this.buf.slice(this.recStart, this.recEnd);
  }

  next(): ReadStatus {
    const buf = this.buf;
    const len = buf.length;
    for (;;) {
      if (this.skipping) {
        const nl = buf.indexOf("\n", this.pos);
        if (nl < 0) {
          this.pos = len;
          return NEED_MORE;
        }
        this.pos = nl + 1;
        this.skipping = false;
      }
      const start = this.pos;
      if (start >= len) return NEED_MORE;
      const nl = buf.indexOf("\n", start);
      let lineEnd: number;
      if (nl < 0) {
        if (!this.final) {
          if (len - start > MAX_RECORD_CHARS) return this.oversize(start, len);
          return NEED_MORE;
        }
        lineEnd = len;
      } else {
        lineEnd = nl;
      }
      let q = this.quote;
      if (q < start) {
        q = buf.indexOf('"', start);
        if (q < 0) q = len;
        this.quote = q;
      }
      if (q >= lineEnd) {
        // Fast path: no quote on this line.
        let end = lineEnd;
        if (end > start && buf.charCodeAt(end - 1) === 13) end--;
        this.pos = nl < 0 ? len : nl + 1;
        this.line = this.nextLine++;
        this.recStart = start;
        this.recEnd = end;
        if (end - start > MAX_RECORD_CHARS) {
          this.error = `record is longer than ${MAX_RECORD_CHARS} characters`;
          return BAD_RECORD;
        }
        let b = start;
        while (b < end) {
          const c = buf.charCodeAt(b);
          if (c !== 32 && c !== 9) break;
          b++;
        }
        if (b === end) continue; // blank line
        const fields = this.fields;
        let n = 0;
        let s = start;
        for (;;) {
          const comma = buf.indexOf(",", s);
          if (comma < 0 || comma >= end) {
            fields[n++] = buf.slice(s, end);
            break;
          }
          fields[n++] = buf.slice(s, comma);
          s = comma + 1;
        }
        this.count = n;
        return RECORD;
      }
      const status = this.quoted(start);
      if (status === -1) return NEED_MORE;
      if (status === -2) continue; // blank
      return status;
    }
  }

  /** Rejects the record starting at `start` as too long and resynchronises after its first line break. */
  private oversize(start: number, len: number): ReadStatus {
    this.error = `record is longer than ${MAX_RECORD_CHARS} characters`;
    return this.reject(start, len);
  }

  private reject(start: number, end: number): ReadStatus {
    const buf = this.buf;
    this.line = this.nextLine++;
    this.recStart = start;
    this.recEnd = end;
    const nl = buf.indexOf("\n", start);
    if (nl >= 0) {
      let e = nl;
      if (e > start && buf.charCodeAt(e - 1) === 13) e--;
      if (e < end) this.recEnd = e;
      this.pos = nl + 1;
    } else {
      this.pos = buf.length;
      this.skipping = !this.final;
    }
    return BAD_RECORD;
  }

  /**
   * Slow path for a record with a quote on its first line. Returns RECORD / BAD_RECORD, -1 when
   * more input is needed, -2 for a blank line (cannot happen here but keeps the contract simple).
   */
  private quoted(start: number): ReadStatus | -1 | -2 {
    const buf = this.buf;
    const len = buf.length;
    const fields = this.fields;
    const limit = start + MAX_RECORD_CHARS;
    let n = 0;
    let i = start;
    let newlines = 0;
    // The first line break at or after the scan position (len when none is buffered yet).
    let nlPos = buf.indexOf("\n", start);
    if (nlPos < 0) nlPos = len;
    for (;;) {
      // At the start of a field.
      if (i < len && buf.charCodeAt(i) === 34) {
        let value = "";
        const quoteStart = i + 1;
        let j = quoteStart;
        for (;;) {
          const close = buf.indexOf('"', j);
          if (close < 0 || close > limit) {
            if (!this.final && close < 0 && len <= limit) return -1;
            this.error =
              close < 0 && len <= limit
                ? "unterminated quoted field"
                : `record is longer than ${MAX_RECORD_CHARS} characters`;
            return this.reject(start, Math.min(len, limit));
          }
          if (close + 1 >= len && !this.final) return -1;
          value += buf.slice(j, close);
          if (buf.charCodeAt(close + 1) === 34) {
            value += '"';
            j = close + 2;
            continue;
          }
          i = close + 1;
          break;
        }
        if (nlPos < i) {
          // The quoted value spanned line breaks: count them for line numbers.
          let k = nlPos;
          while (k >= 0 && k < i) {
            newlines++;
            k = buf.indexOf("\n", k + 1);
          }
          nlPos = k < 0 ? len : k;
        }
        fields[n++] = value;
        const c = buf.charCodeAt(i);
        if (i >= len) return this.finish(start, i, len, n, newlines);
        if (c === 44) {
          i++;
          continue;
        }
        if (c === 10) return this.finish(start, i, i + 1, n, newlines);
        if (c === 13) {
          if (i + 1 >= len) {
            if (!this.final) return -1;
            return this.finish(start, i, len, n, newlines);
          }
          if (buf.charCodeAt(i + 1) === 10) return this.finish(start, i, i + 2, n, newlines);
        }
        this.error = "unexpected text after a closing quote";
        return this.reject(start, i);
      }
      // Unquoted field: up to the next comma or line break.
      const nl = nlPos < len ? nlPos : -1;
      const comma = buf.indexOf(",", i);
      const lineEnd = nlPos;
      if (nl < 0 && !this.final) {
        if (len > limit) {
          this.error = `record is longer than ${MAX_RECORD_CHARS} characters`;
          return this.reject(start, limit);
        }
        return -1;
      }
      if (comma >= 0 && comma < lineEnd) {
        fields[n++] = buf.slice(i, comma);
        i = comma + 1;
        continue;
      }
      let end = lineEnd;
      if (end > i && buf.charCodeAt(end - 1) === 13) end--;
      fields[n++] = buf.slice(i, end);
      return this.finish(start, end, nl < 0 ? len : nl + 1, n, newlines);
    }
  }

  private finish(start: number, end: number, next: number, n: number, newlines: number): ReadStatus {
    this.line = this.nextLine;
    this.nextLine += 1 + newlines;
    this.pos = next;
    this.recStart = start;
    this.recEnd = end;
    this.count = n;
    if (end - start > MAX_RECORD_CHARS) {
      this.error = `record is longer than ${MAX_RECORD_CHARS} characters`;
      return BAD_RECORD;
    }
    return RECORD;
  }
}
