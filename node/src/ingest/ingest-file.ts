import fs from "node:fs";
import { InputError } from "../errors";
import { formatById } from "../mediation/formats/registry";
import { fileSource } from "./file-source";
import { runIngest, type IngestProgress, type IngestResult, type IngestSettings } from "./pipeline";

export { hashFile } from "./file-source";
export { INGEST_BATCH_ROWS, type IngestProgress, type IngestResult, type IngestSettings } from "./pipeline";

/**
 * Ingests one CDR file through the pipeline (see {@link runIngest}): mediated as a stream, every
 * CDR rated against the active deck of its partner and direction, stored batch by batch with the
 * file's checkpoint. The file is identified by its content hash: ingesting the same content again
 * is a no-op, and a run interrupted at any moment resumes after the last committed batch, so the
 * totals always equal those of one clean run.
 * @throws InputError for a directory or a missing file and for an unknown format;
 * BaseError for I/O and database failures (the committed batches stay; re-run to resume).
 */
export async function ingestFile(
  db: Parameters<typeof runIngest>[0],
  filePath: string,
  format: string,
  settings: IngestSettings,
  onProgress?: (progress: IngestProgress) => void,
): Promise<IngestResult> {
  const stat = fs.statSync(filePath, { throwIfNoEntry: false });
  if (stat === undefined) throw new InputError("no such file", { file: filePath });
  if (stat.isDirectory())
    throw new InputError("is a directory (give --recursive to ingest the files in it)", { file: filePath });
  if (!stat.isFile()) throw new InputError("is not a regular file", { file: filePath });
  return runIngest(db, fileSource(filePath, formatById(format)), settings, { onProgress });
}
