/**
 * The one error type of the node. `shortMessage` is what a person reads; `details` adds the
 * specifics (file, line, field, values); `cause` keeps the underlying error. `retryable` separates
 * the two families: transient faults (network, RPC, database connection) that a caller may retry,
 * and everything else (bad input, state conflicts) that will fail the same way again.
 */
export class BaseError extends Error {
  override name = "BaseError";
  readonly shortMessage: string;
  readonly details: string | undefined;
  readonly retryable: boolean;
  /** Stable machine-readable code, e.g. `INVALID_INPUT`, `NOT_FOUND`, `DB_UNAVAILABLE`. */
  readonly code: string;

  constructor(
    shortMessage: string,
    options: { code?: string; details?: string; cause?: unknown; retryable?: boolean } = {},
  ) {
    super(options.details ? `${shortMessage}\n${options.details}` : shortMessage, { cause: options.cause });
    this.shortMessage = shortMessage;
    this.details = options.details;
    this.retryable = options.retryable ?? false;
    this.code = options.code ?? "ERROR";
  }
}

/** Bad input that a person must fix: names the file, line and field where it knows them. */
export class InputError extends BaseError {
  override name = "InputError";
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly field: string | undefined;

  constructor(
    shortMessage: string,
    where: { file?: string; line?: number; field?: string; details?: string; cause?: unknown } = {},
  ) {
    const place = [
      where.file,
      where.line !== undefined ? `line ${where.line}` : undefined,
      where.field !== undefined ? `field ${where.field}` : undefined,
    ]
      .filter((part) => part !== undefined)
      .join(", ");
    super(place ? `${place}: ${shortMessage}` : shortMessage, {
      code: "INVALID_INPUT",
      details: where.details,
      cause: where.cause,
    });
    this.file = where.file;
    this.line = where.line;
    this.field = where.field;
  }
}

/** A requested thing does not exist (partner, tariff deck, file). */
export class NotFoundError extends BaseError {
  override name = "NotFoundError";
  constructor(shortMessage: string, details?: string) {
    super(shortMessage, { code: "NOT_FOUND", details });
  }
}

/** The request conflicts with stored state (e.g. a partner id already taken). */
export class ConflictError extends BaseError {
  override name = "ConflictError";
  constructor(shortMessage: string, details?: string) {
    super(shortMessage, { code: "CONFLICT", details });
  }
}

/** A transient failure of something the node depends on; retrying may succeed. */
export class UnavailableError extends BaseError {
  override name = "UnavailableError";
  constructor(shortMessage: string, options: { code?: string; details?: string; cause?: unknown } = {}) {
    super(shortMessage, { ...options, code: options.code ?? "UNAVAILABLE", retryable: true });
  }
}
