import { StringDecoder } from "node:string_decoder";
import { InputError } from "../errors";
import { BAD_RECORD, CsvRecordReader, NEED_MORE } from "./csv-reader";
import type { FormatDescriptor, FormatHandler, RecordSyntax, SourceRecord } from "./formats/format";
import { formatById } from "./formats/registry";
import { LineRecordReader } from "./line-reader";
import { isValidTimeZone } from "./time";
import type { MediationOptions, ParsedRow } from "./types";

export const DEFAULT_BATCH_SIZE = 4096;

/** A reader of records from decoded text: CSV or one record per line. */
export type RecordReader = (CsvRecordReader | LineRecordReader) & SourceRecord;

/** A new reader for a format's record syntax. */
export function recordReader(syntax: RecordSyntax): RecordReader {
  return syntax === "csv" ? new CsvRecordReader() : new LineRecordReader();
}

/**
 * The handler of `format` for one source, after checking the configuration: an unknown time zone
 * for a format with local times (unless `useGmtTime`), an invalid match-rule regex.
 * @throws InputError naming the problem, before anything is read.
 */
export function createFormatHandler(
  format: FormatDescriptor | string,
  options: MediationOptions,
): FormatHandler {
  const descriptor = typeof format === "string" ? formatById(format) : format;
  if (descriptor.times === "local" && !options.useGmtTime && !isValidTimeZone(options.timeZone)) {
    throw new InputError(
      `unknown time zone '${options.timeZone}' (expected an IANA name such as Europe/London)`,
      { file: options.fileName, field: "timeZone" },
    );
  }
  return descriptor.create(options);
}

/**
 * Streams a CDR source and yields batches (≈ up to `batchSize`, default 4096) of ParsedRow. Never
 * throws on content (bad rows become INVALID rejects); I/O errors of `input` propagate. Bounded
 * memory whatever the size: one chunk, one record (≤ 64 KiB), one batch, and what a pairing
 * format holds back.
 *
 * Configuration errors — an invalid match-rule regex, an unknown time zone for a switch format —
 * throw InputError synchronously from this call, before anything is read.
 * Duplicate detection is the caller's job (see KeySet).
 */
export function mediateStream(
  input: AsyncIterable<Buffer | string>,
  format: FormatDescriptor | string,
  options: MediationOptions,
  batchSize: number = DEFAULT_BATCH_SIZE,
): AsyncGenerator<ParsedRow[]> {
  const descriptor = typeof format === "string" ? formatById(format) : format;
  const handler = createFormatHandler(descriptor, options);
  const size = Number.isFinite(batchSize) && batchSize >= 1 ? Math.floor(batchSize) : DEFAULT_BATCH_SIZE;
  return run(input, recordReader(descriptor.syntax), handler, size);
}

async function* run(
  input: AsyncIterable<Buffer | string>,
  reader: RecordReader,
  handler: FormatHandler,
  batchSize: number,
): AsyncGenerator<ParsedRow[]> {
  const decoder = new StringDecoder("utf8");
  let pendingBytes = false;
  let batch: ParsedRow[] = [];
  const drain = function* (): Generator<ParsedRow[]> {
    for (let status = reader.next(); status !== NEED_MORE; status = reader.next()) {
      if (status === BAD_RECORD) batch.push(badRecord(reader));
      else handler.record(reader, batch);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  };
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
    yield* drain();
  }
  if (pendingBytes) reader.push(decoder.end());
  reader.end();
  yield* drain();
  handler.flush(batch);
  if (batch.length > 0) yield batch;
}

/** The reject for a record the reader could not read (too long, unterminated quote, text after a quote). */
export function badRecord(reader: { line: number; raw(): string; error: string }): ParsedRow {
  return {
    kind: "reject",
    line: reader.line,
    raw: reader.raw(),
    reason: "INVALID",
    field: null,
    message: reader.error,
  };
}
