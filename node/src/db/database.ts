import { BaseError, ConflictError, UnavailableError } from "../errors";

/** Something SQL can be sent to: the database itself or an open transaction. */
export interface Queryable {
  /** Runs one statement with `$1…` parameters. int8 columns come back as `bigint`. */
  query<Row = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<{ rows: Row[]; rowCount: number }>;
  /**
   * Bulk-loads CSV text (no header; unquoted empty = NULL) into `table (columns)` with COPY, the
   * fastest way into PostgreSQL. `table` and `columns` are trusted identifiers from code under db/.
   */
  copyFrom(table: string, columns: readonly string[], csv: string): Promise<void>;
}

/** The node's database: PostgreSQL through `pg`, or embedded PGlite; the same SQL runs on both. */
export interface Database extends Queryable {
  readonly kind: "postgres" | "pglite";
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const RETRYABLE_SQLSTATE_CLASSES = ["08", "53", "57"];
const RETRYABLE_SQLSTATES = new Set(["40001", "40P01"]);

/**
 * Wraps a driver error into the node's error families by SQLSTATE (never by message text):
 * connection, resource and shutdown classes and serialization failures are retryable; a unique
 * violation is a conflict; anything else is a plain, non-retryable BaseError.
 */
export function classifyDatabaseError(error: unknown): BaseError {
  if (error instanceof BaseError) return error;
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) {
    if (RETRYABLE_SQLSTATES.has(code) || RETRYABLE_SQLSTATE_CLASSES.includes(code.slice(0, 2))) {
      return new UnavailableError("the database is unavailable", {
        code: "DB_UNAVAILABLE",
        details: message,
        cause: error,
      });
    }
    if (code === "23505") return new ConflictError("the record already exists", message);
    return new BaseError("the database refused the statement", {
      code: `SQLSTATE_${code}`,
      details: message,
      cause: error,
    });
  }
  const errno = typeof code === "string" ? code : "";
  if (["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN"].includes(errno)) {
    return new UnavailableError("the database cannot be reached", {
      code: "DB_UNAVAILABLE",
      details: message,
      cause: error,
    });
  }
  return new BaseError("database error", { code: "DB_ERROR", details: message, cause: error });
}

/** Whether the database answers at all (`/readyz`). @throws the driver's error when it does not. */
export async function pingDatabase(db: Queryable): Promise<void> {
  await db.query("SELECT 1");
}
