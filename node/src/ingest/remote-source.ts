/**
 * Sources that are not files, by the scheme of their address: a NATS JetStream subject
 * (`nats://`), a PostgreSQL table a switch writes (`postgres://`). `icl ingest --from URL` and the
 * `sources` section of config.json (what `icl run` consumes continuously) both open them here.
 */
import { InputError } from "../errors";
import type { FormatDescriptor } from "../mediation/formats/format";
import { natsSourceKind } from "./nats-source";
import type { IngestSource } from "./source";
import { tableSourceKind } from "./table-source";

/** What names a remote source: its address and the options of its kind. */
export interface RemoteSourceSpec {
  /** `nats://127.0.0.1:4222`, `postgres://user@127.0.0.1:5432/kamailio`. */
  url: string;
  format: FormatDescriptor;
  /** JetStream: the stream and the subject (filter) to consume, the durable consumer's name. */
  stream?: string | undefined;
  subject?: string | undefined;
  durable?: string | undefined;
  /** Table: its (optionally schema-qualified) name and the increasing id column to resume by. */
  table?: string | undefined;
  idColumn?: string | undefined;
  /**
   * Stop once the source has nothing new: a stream after `idleMs` (default 2000) without a
   * message, a table when no row is newer. Without it, read until the signal aborts (`icl run`).
   */
  drain: boolean;
  idleMs?: number | undefined;
  /** How often a table is polled for new rows when not draining, ms. */
  pollMs?: number | undefined;
}

/** A kind of remote source: the URL schemes it answers to and how it opens. */
export interface RemoteSourceKind {
  schemes: readonly string[];
  /** One line for help texts. */
  describe: string;
  /** @throws InputError for a spec the kind cannot use (a missing stream, a bad table name). */
  open(spec: RemoteSourceSpec): IngestSource;
}

/** Every remote source kind, each in its own module. */
export const REMOTE_SOURCES: RemoteSourceKind[] = [natsSourceKind, tableSourceKind];

/**
 * Opens the source `spec.url` names.
 * @throws InputError for a URL that is not one, or whose scheme no source kind reads.
 */
export function openRemoteSource(spec: RemoteSourceSpec): IngestSource {
  let scheme: string;
  try {
    scheme = new URL(spec.url).protocol.replace(/:$/, "");
  } catch {
    throw new InputError(`'${spec.url}' is not a URL`, { field: "from" });
  }
  const kind = REMOTE_SOURCES.find((k) => k.schemes.includes(scheme));
  if (kind === undefined) {
    const known = REMOTE_SOURCES.flatMap((k) => k.schemes.map((s) => `${s}://`));
    throw new InputError(`no source reads ${scheme}:// addresses (known: ${known.join(", ") || "none"})`, {
      field: "from",
    });
  }
  return kind.open(spec);
}

/** The address of a source with any password removed, for listings and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}
