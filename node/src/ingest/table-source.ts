/**
 * CDRs from a PostgreSQL table a switch writes (Kamailio's `acc`, `missed_calls`, `acc_cdrs`
 * through db_postgres, or any table whose columns a format reads by name): the node reads new rows
 * by an increasing id column, the table's column names are the format's header record, and a row
 * is one record whose `line` is its id. Every value is read as PostgreSQL's text for it (a
 * `timestamp without time zone` stays the wall time the switch wrote; NULL is empty).
 *
 * Resuming: the ingest's checkpoint is the highest id below which every row is stored, held back
 * below a record the format still holds (an answered INVITE waiting for its BYE), so a restart
 * reads again from there and the store, which knows (ingest, id), counts nothing twice.
 *
 * Ids a sequence hands out are not always committed in order: a row with a lower id can become
 * visible after a higher one. A read stops before a gap in the ids and goes past it only once the
 * gap has stood for {@link TABLE_GAP_WAIT_MS} (a rolled-back insert or a deleted row leaves one for
 * good), so a row committed a moment late is not skipped.
 *
 * The ingest is known by the server, the database, the table's OID and the id column: a table
 * dropped and created again is a new ingest. `--drain` stops when no row is newer; without it the
 * table is polled every `pollMs` (default {@link TABLE_POLL_MS}) until the signal aborts.
 */
import { Client, escapeIdentifier } from "pg";
import { BaseError, InputError, UnavailableError } from "../errors";
import { RAW_LIMIT } from "../mediation/csv-reader";
import type { FormatDescriptor, FormatHandler, SourceRecord } from "../mediation/formats/format";
import type { ParsedRow } from "../mediation/types";
import type { IngestFile } from "../db/ingest-store";
import { redactUrl, type RemoteSourceKind, type RemoteSourceSpec } from "./remote-source";
import type { IngestSource, SourceBatch } from "./source";

export const TABLE_POLL_MS = 5_000;
/** How long a gap in the ids must stand before a read goes past it. */
export const TABLE_GAP_WAIT_MS = 2_000;
/** A table name, optionally schema-qualified: plain SQL identifiers only. */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}(\.[A-Za-z_][A-Za-z0-9_$]{0,62})?$/;
const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
/** Every value as PostgreSQL's text for it. */
const AS_TEXT = { getTypeParser: () => (value: string) => value };

export interface TableSourceOptions {
  gapWaitMs?: number;
}

/** One row as the format's handler reads it. */
class RowRecord implements SourceRecord {
  fields: string[] = [];
  count = 0;
  line = 0;

  set(line: number, values: readonly (string | null)[]): void {
    this.line = line;
    this.fields = values.map((value) => value ?? "");
    this.count = this.fields.length;
  }

  text(): string {
    return this.fields
      .map((field) => (/[",\n\r]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field))
      .join(",");
  }

  raw(): string {
    const text = this.text();
    return text.length > RAW_LIMIT ? text.slice(0, RAW_LIMIT) : text;
  }
}

function quoteTable(table: string): string {
  return table.split(".").map(escapeIdentifier).join(".");
}

function abortable(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** PostgreSQL's codes for a missing table and a missing column. */
const UNDEFINED_TABLE = "42P01";
const UNDEFINED_COLUMN = "42703";

class TableSource implements IngestSource {
  readonly kind = "table" as const;
  readonly live = true;
  readonly name: string;
  readonly location: string;
  readonly format: FormatDescriptor;
  private readonly url: string;
  private readonly table: string;
  private readonly idColumn: string;
  private readonly drain: boolean;
  private readonly pollMs: number;
  private readonly gapWaitMs: number;

  constructor(spec: RemoteSourceSpec, options: TableSourceOptions) {
    const table = spec.table ?? "";
    if (!TABLE_NAME.test(table))
      throw new InputError(
        table === ""
          ? "--from postgres://… needs --table NAME"
          : `'${table}' is not a table name (name or schema.name)`,
        { field: "table" },
      );
    const idColumn = spec.idColumn ?? "id";
    if (!COLUMN_NAME.test(idColumn))
      throw new InputError(`'${idColumn}' is not a column name`, { field: "idColumn" });
    if (spec.format.syntax !== "csv" || spec.format.headerRows !== 1) {
      throw new InputError(
        `format ${spec.format.id} cannot read a table: a table source needs a format that reads its columns by name from one header row (kamailio-acc, kamailio-cdrs, icl-csv)`,
        { field: "format" },
      );
    }
    this.url = spec.url;
    this.table = table;
    this.idColumn = idColumn;
    this.format = spec.format;
    this.drain = spec.drain;
    this.pollMs = spec.pollMs ?? TABLE_POLL_MS;
    this.gapWaitMs = options.gapWaitMs ?? TABLE_GAP_WAIT_MS;
    this.name = table;
    this.location = `${redactUrl(spec.url)} table ${table}`;
  }

  private address(): string {
    const parsed = new URL(this.url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  }

  private async connect(): Promise<Client> {
    const client = new Client({ connectionString: this.url, connectionTimeoutMillis: 5_000 });
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw new UnavailableError(`PostgreSQL at ${redactUrl(this.url)}: connecting failed`, {
        code: "TABLE_UNAVAILABLE",
        details: error instanceof Error ? error.message : String(error),
        cause: error,
      });
    }
    return client;
  }

  /** A query's failure: a missing table or column is the user's to fix, the rest is retryable. */
  private failure(error: unknown, doing: string): BaseError {
    if (error instanceof BaseError) return error;
    const code = (error as { code?: string }).code;
    if (code === UNDEFINED_TABLE)
      return new InputError(`table ${this.table} does not exist in ${this.address()}`, {
        field: "table",
        cause: error,
      });
    if (code === UNDEFINED_COLUMN)
      return new InputError(`table ${this.table} has no column ${this.idColumn} to resume by (--id-column)`, {
        field: "idColumn",
        cause: error,
      });
    return new UnavailableError(`PostgreSQL at ${redactUrl(this.url)}: ${doing} failed`, {
      code: "TABLE_UNAVAILABLE",
      details: error instanceof Error ? error.message : String(error),
      cause: error,
    });
  }

  async identify(): Promise<{ identity: string; byteSize: number }> {
    const client = await this.connect();
    try {
      const { rows } = await client.query<{ oid: string }>({
        text: `SELECT $1::regclass::oid::text AS oid`,
        values: [quoteTable(this.table)],
      });
      return {
        identity: `table:${this.address()}#${rows[0]!.oid}:${this.table}:${this.idColumn}`,
        byteSize: 0,
      };
    } catch (error) {
      throw this.failure(error, `looking up table ${this.table}`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async *batches(
    handler: FormatHandler,
    ingest: IngestFile,
    batchRows: number,
    signal?: AbortSignal,
  ): AsyncIterable<SourceBatch> {
    const client = await this.connect();
    const table = quoteTable(this.table);
    const id = escapeIdentifier(this.idColumn);
    const record = new RowRecord();
    try {
      let idIndex: number;
      try {
        const head = await client.query({ text: `SELECT * FROM ${table} WHERE false`, rowMode: "array" });
        const names = head.fields.map((field) => field.name);
        idIndex = names.indexOf(this.idColumn);
        if (idIndex < 0) throw Object.assign(new Error("no id column"), { code: UNDEFINED_COLUMN });
        record.set(0, names);
        handler.record(record, []);
      } catch (error) {
        throw this.failure(error, `reading the columns of ${this.table}`);
      }
      let after = Number(ingest.checkpointLine);
      let lastRead: number | null = null;
      /** A gap seen after id `after`, and since when; it is gone past once old enough. */
      let gap: { after: number; since: number } | null = null;
      while (!signal?.aborted) {
        let result;
        try {
          result = await client.query<(string | null)[]>({
            text: `SELECT * FROM ${table} WHERE ${id} > $1 ORDER BY ${id} LIMIT $2`,
            values: [after, batchRows],
            rowMode: "array",
            types: AS_TEXT,
          });
        } catch (error) {
          throw this.failure(error, `reading ${this.table}`);
        }
        const ids = result.rows.map((row, i) => {
          const value = Number(row[idIndex]);
          if (!Number.isSafeInteger(value) || value <= 0)
            throw new InputError(
              `${this.idColumn} ${String(row[idIndex])} of row ${i + 1} read is not a positive whole number`,
              {
                field: "idColumn",
              },
            );
          return value;
        });
        let take = ids.length;
        const cut = ids.findIndex((value, i) => {
          const previous = i === 0 ? lastRead : ids[i - 1]!;
          return previous !== null && value !== previous + 1;
        });
        if (cut >= 0) {
          const before = cut === 0 ? lastRead! : ids[cut - 1]!;
          const seen: { after: number; since: number } =
            gap !== null && gap.after === before ? gap : { after: before, since: Date.now() };
          gap = Date.now() - seen.since < this.gapWaitMs ? seen : null;
          if (gap !== null) take = cut;
        }
        if (take > 0) {
          const rows: ParsedRow[] = [];
          for (let i = 0; i < take; i++) {
            record.set(ids[i]!, result.rows[i]!);
            handler.record(record, rows);
          }
          lastRead = ids[take - 1]!;
          after = lastRead;
          yield { rows, consumedLine: lastRead, position: { lastId: lastRead } };
          if (take === batchRows) continue;
        }
        if (take < ids.length) {
          // Stopped at a gap: look again soon, whether draining or not.
          await abortable(Math.min(this.gapWaitMs, 250), signal);
          continue;
        }
        if (this.drain) return;
        await abortable(this.pollMs, signal);
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/** Opens a table source (tests shorten the gap wait). */
export function tableSource(spec: RemoteSourceSpec, options: TableSourceOptions = {}): IngestSource {
  return new TableSource(spec, options);
}

export const tableSourceKind: RemoteSourceKind = {
  schemes: ["postgres", "postgresql"],
  describe:
    "postgres://USER@HOST:PORT/DB --table T [--id-column id]: a table a switch writes (Kamailio acc, missed_calls, acc_cdrs), new rows by id",
  open: (spec) => tableSource(spec),
};
