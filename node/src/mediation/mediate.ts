import { StringDecoder } from "node:string_decoder";
import { InputError } from "../errors";
import { BAD_RECORD, CsvRecordReader, NEED_MORE } from "./csv-reader";
import { createHandler, type FormatHandler } from "./formats";
import { isValidTimeZone } from "./time";
import type { CdrFormat, MediationOptions, ParsedRow } from "./types";

export const DEFAULT_BATCH_SIZE = 4096;

/**
 * Streams a CDR file and yields batches (≈ up to `batchSize`, default 4096) of ParsedRow in file
 * order. Never throws on file content (bad rows become INVALID rejects); I/O errors of `input`
 * propagate. Bounded memory whatever the file size: one chunk, one record (≤ 64 KiB) and one batch.
 *
 * Configuration errors — an invalid match-rule regex, an unknown time zone for a switch format —
 * throw InputError synchronously from this call, before anything is read.
 * Duplicate detection is the caller's job (see KeySet).
 */
export function mediateStream(
  input: AsyncIterable<Buffer | string>,
  format: CdrFormat,
  options: MediationOptions,
  batchSize: number = DEFAULT_BATCH_SIZE,
): AsyncGenerator<ParsedRow[]> {
  if (format !== "icl-csv" && !options.useGmtTime && !isValidTimeZone(options.timeZone)) {
    throw new InputError(
      `unknown time zone '${options.timeZone}' (expected an IANA name such as Europe/London)`,
      {
        file: options.fileName,
        field: "timeZone",
      },
    );
  }
  const handler = createHandler(format, options);
  const size = Number.isFinite(batchSize) && batchSize >= 1 ? Math.floor(batchSize) : DEFAULT_BATCH_SIZE;
  return run(input, handler, size);
}

async function* run(
  input: AsyncIterable<Buffer | string>,
  handler: FormatHandler,
  batchSize: number,
): AsyncGenerator<ParsedRow[]> {
  const reader = new CsvRecordReader();
  const decoder = new StringDecoder("utf8");
  let pendingBytes = false;
  let batch: ParsedRow[] = [];
  for await (const chunk of input) {
    let text: string;
    if (typeof chunk === "string") {
      text = pendingBytes ? decoder.end() + chunk : chunk;
      pendingBytes = false;
    } else {
      text = decoder.write(chunk);
      pendingBytes = true;
    }
    if (text.length === 0) continue;
    reader.push(text);
    for (let status = reader.next(); status !== NEED_MORE; status = reader.next()) {
      const row = status === BAD_RECORD ? badRecord(reader) : handler.record(reader);
      if (row === null) continue;
      batch.push(row);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  if (pendingBytes) reader.push(decoder.end());
  reader.end();
  for (let status = reader.next(); status !== NEED_MORE; status = reader.next()) {
    const row = status === BAD_RECORD ? badRecord(reader) : handler.record(reader);
    if (row === null) continue;
    batch.push(row);
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** The reject for a record the reader could not read (too long, unterminated quote, text after a quote). */
export function badRecord(reader: CsvRecordReader): ParsedRow {
  return {
    kind: "reject",
    line: reader.line,
    raw: reader.raw(),
    reason: "INVALID",
    field: null,
    message: reader.error,
  };
}
