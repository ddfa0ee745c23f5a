/**
 * A source of CDR records for the ingest pipeline: a file, a database table, a stream. A source
 * reads records and hands each to the format's handler; the pipeline rates and stores the rows
 * the handler emits, batch by batch, each batch in one transaction with the source's resume point.
 * The rater, the stores and the counts never know where rows came from.
 */
import type { IngestFile, IngestKind } from "../db/ingest-store";
import type { FormatDescriptor, FormatHandler } from "../mediation/formats/format";
import type { ParsedRow } from "../mediation/types";

/** One batch of rows a source produced, with what the pipeline stores alongside them. */
export interface SourceBatch {
  rows: ParsedRow[];
  /**
   * Every record up to this line (file line, table id, stream sequence) has been handed to the
   * handler. The pipeline's checkpoint is this, or just below the lowest record the handler holds.
   */
  consumedLine: number;
  /** The source's own resume state after this batch (a table's last id), stored with the batch. */
  position?: unknown;
  /** Bytes read so far, for progress (files). */
  bytesRead?: number;
  /** Called once the batch is durably stored: a stream acknowledges its messages here. */
  ack?(): Promise<void>;
}

export interface IngestSource {
  readonly kind: IngestKind;
  /** A person's short name for it: the file's base name, the table, the subject. */
  readonly name: string;
  /** Where it is, in full, for listings and messages: the path, `postgres://host/db table acc`. */
  readonly location: string;
  readonly format: FormatDescriptor;
  /** What makes it the same source again (a file's SHA-256; a table's or stream's address) and its size in bytes (0 when unknown). */
  identify(): Promise<{ identity: string; byteSize: number }>;
  /**
   * Reads records from where `ingest` left off and feeds them to `handler`, yielding the rows in
   * batches of about `batchRows`. A file replays from its start (the pipeline skips what is
   * stored); a table or stream continues after `ingest.position`. Ends when the source is
   * exhausted (a file's end, a table with no newer row, a drained stream) or `signal` aborts.
   * Rows emitted by `handler.flush` at the end belong to the last batch.
   * @throws for I/O and connection failures (the pipeline marks the ingest incomplete).
   */
  batches(
    handler: FormatHandler,
    ingest: IngestFile,
    batchRows: number,
    signal?: AbortSignal,
  ): AsyncIterable<SourceBatch>;
  /** Whether the source ends when read to its end (a file) or is read as it grows (`live`). */
  readonly live: boolean;
}
