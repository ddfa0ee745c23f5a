/** Reading an upload route's body (route.ts {@link Upload}): whole, bounded, never empty. */
import { HttpError } from "../http-error";
import type { Upload } from "./route";

/** The upload of an upload route. @throws Error when a route without `upload` asks (a table bug). */
export function requireUpload(upload: Upload | null): Upload {
  if (upload === null) throw new Error("an upload route was called without its upload");
  return upload;
}

/**
 * The whole body. @throws HttpError 413 past the route's limit, 400 naming `what` when it is empty.
 */
export async function readUpload(upload: Upload, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of upload.chunks()) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  if (body.length === 0) throw new HttpError(400, "INVALID_INPUT", `body: ${what} is empty`, "body");
  return body;
}
