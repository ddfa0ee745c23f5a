/**
 * The one error the gateway raises itself, on the node's error hierarchy: a refusal with its HTTP
 * status (authorization, validation, a missing part), a machine-readable code, the message a client
 * reads and, for a validation failure, the offending field.
 */
import { BaseError } from "../../node/src/errors";

/** A refusal with its HTTP status; the API's and the sign-in's error middleware answer it as it says. */
export class HttpError extends BaseError {
  override name = "HttpError";
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message, { code });
  }
}
