/**
 * Ingest jobs: a CDR file handed to the node (an upload through the gateway) is written to a
 * node-named directory under `<dataDir>/uploads/` and ingested in the background, one file at a time
 * per node (one writer: batches stay in order); whoever handed it in polls the job.
 *
 * The file's `name` is a label (the caller checks it against a strict pattern): it becomes the stored
 * file name, which the node records as the file's base name, never a path of its own. Jobs are kept in
 * memory: a restart forgets them (the ingest itself resumes when the same content is handed in again).
 * The upload's directory is removed before the job reads as finished, whatever the outcome.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { IngestFile } from "../db/ingest-store";
import { InputError, NotFoundError } from "../errors";
import type { IngestProgress, IngestResult } from "../ingest/ingest-file";
import type { Logger } from "../logger";
import type { CdrFormat } from "../mediation/types";

/** Finished jobs kept for polling; beyond it the oldest finished ones are forgotten. */
export const KEPT_JOBS = 200;

export const JOB_STATUSES = ["queued", "running", "done", "failed"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface IngestJob {
  jobId: string;
  name: string;
  format: CdrFormat;
  status: JobStatus;
  progress: { bytesRead: number; byteSize: number; records: number };
  /** When done: the same content was ingested before. */
  alreadyIngested: boolean | null;
  resumedAfterLine: number | null;
  /** When done: the file's stored counts. */
  file: IngestFile | null;
  /** When failed: what went wrong (the caller decides what of it a client reads). */
  failure: unknown;
}

export interface IngestJobsService {
  /**
   * Writes `chunks` to `<dataDir>/uploads/<random>/<name>` (created exclusively, owner only) and queues
   * its ingest. @throws InputError when the file is empty or `name` is not a base name, or what reading
   * `chunks` throws (a size limit, say), with nothing left on disk.
   */
  submit(upload: { name: string; format: CdrFormat; chunks: AsyncIterable<Uint8Array> }): Promise<IngestJob>;
  /** A snapshot of job `jobId`. @throws NotFoundError when unknown (or forgotten on restart). */
  require(jobId: string): IngestJob;
}

type Ingest = (
  filePath: string,
  format: CdrFormat,
  onProgress: (progress: IngestProgress) => void,
) => Promise<IngestResult>;

export function ingestJobsService(dataDir: string, ingest: Ingest, logger: Logger): IngestJobsService {
  const jobs = new Map<string, IngestJob>();
  let tail = Promise.resolve();

  const forgetOldJobs = () => {
    for (const [id, job] of jobs) {
      if (jobs.size <= KEPT_JOBS) return;
      if (job.status === "done" || job.status === "failed") jobs.delete(id);
    }
  };

  const run = async (job: IngestJob, filePath: string) => {
    job.status = "running";
    let status: JobStatus = "failed";
    try {
      const result = await ingest(filePath, job.format, (progress) => {
        job.progress = { ...progress };
      });
      job.alreadyIngested = result.alreadyIngested;
      job.resumedAfterLine = result.resumedAfterLine;
      job.file = result.file;
      const { byteSize } = job.progress;
      job.progress = { bytesRead: byteSize, byteSize, records: Number(result.file.records) };
      status = "done";
    } catch (error) {
      job.failure = error;
      logger.error("ingest job failed", { job: job.jobId, file: job.name, error: String(error) });
    }
    await fs.promises.rm(path.dirname(filePath), { recursive: true, force: true }).catch((error: unknown) => {
      logger.error("could not remove an ingested upload", { job: job.jobId, error: String(error) });
    });
    job.status = status;
  };

  return {
    async submit({ name, format, chunks }) {
      const { file, size } = await save(dataDir, name, chunks);
      const job: IngestJob = {
        jobId: crypto.randomUUID(),
        name,
        format,
        status: "queued",
        progress: { bytesRead: 0, byteSize: size, records: 0 },
        alreadyIngested: null,
        resumedAfterLine: null,
        file: null,
        failure: null,
      };
      jobs.set(job.jobId, job);
      forgetOldJobs();
      tail = tail.then(() => run(job, file));
      return { ...job };
    },
    require(jobId) {
      const job = jobs.get(jobId);
      if (job === undefined)
        throw new NotFoundError(`no ingest job ${jobId} (jobs are forgotten on restart)`);
      return { ...job };
    },
  };
}

async function save(
  dataDir: string,
  name: string,
  chunks: AsyncIterable<Uint8Array>,
): Promise<{ file: string; size: number }> {
  const root = path.join(dataDir, "uploads");
  await fs.promises.mkdir(root, { recursive: true, mode: 0o700 });
  const dir = await fs.promises.mkdtemp(path.join(root, "upload-"));
  const file = path.join(dir, name);
  try {
    // The caller checked `name`; checked again because the cost of being wrong is high.
    if (path.dirname(file) !== dir || name !== path.basename(name))
      throw new InputError("not a base name", { field: "name" });
    await pipeline(Readable.from(chunks), fs.createWriteStream(file, { flags: "wx", mode: 0o600 }));
    const { size } = await fs.promises.stat(file);
    if (size === 0) throw new InputError("the file is empty", { field: "body" });
    return { file, size };
  } catch (error) {
    await fs.promises.rm(dir, { recursive: true, force: true });
    throw error;
  }
}
