import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { BaseError, NotFoundError } from "../errors";
import type { Logger } from "../logger";
import { parseRawBlockCid, rawBlockCid, verifyBlock } from "./cid";
import { checkBlock, type EvidenceStore } from "./store";

/**
 * Evidence blocks as files in `<dataDir>/evidence/`, one per block, named by its CID. A file name is
 * only ever a CID this module computed or parsed, never a path taken from input. Writes go to a
 * temporary file that is synced and then renamed, so a crash leaves either the whole block or none.
 */
export function createLocalEvidenceStore(dataDir: string, logger: Logger): EvidenceStore {
  const dir = path.join(dataDir, "evidence");
  const fileOf = (cid: string) => path.join(dir, cid);

  async function holdsIntact(cid: string): Promise<boolean> {
    const bytes = await readBlock(fileOf(cid));
    return bytes !== undefined && rawBlockCid(bytes) === cid;
  }

  return {
    async put(bytes) {
      checkBlock(bytes);
      const cid = rawBlockCid(bytes);
      // A damaged copy is replaced; an intact one makes put a no-op.
      if (await holdsIntact(cid)) return cid;
      const temp = path.join(dir, `.${cid}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
      try {
        await mkdir(dir, { recursive: true });
        const handle = await open(temp, "wx", 0o600);
        try {
          await handle.writeFile(bytes);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, fileOf(cid));
        await syncDirectory(dir);
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        throw new BaseError("could not store the evidence block", {
          code: "EVIDENCE_WRITE_FAILED",
          details: `${dir}: ${(error as Error).message}`,
          cause: error,
        });
      }
      logger.info("evidence block stored", { cid, bytes: bytes.byteLength });
      return cid;
    },

    async get(cidText) {
      const cid = parseRawBlockCid(cidText);
      const bytes = await readBlock(fileOf(cid));
      if (bytes === undefined) throw new NotFoundError("evidence block not found", cid);
      verifyBlock(cid, bytes, "local evidence store");
      return bytes;
    },

    async has(cidText) {
      const cid = parseRawBlockCid(cidText);
      try {
        return (await stat(fileOf(cid))).isFile();
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw readFailed(error);
      }
    },
  };
}

/** Makes the rename durable; a platform that cannot open a directory (Windows) skips it. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself is already atomic.
  } finally {
    await handle.close();
  }
}

/** The file's bytes, or undefined when there is no such file. */
async function readBlock(file: string): Promise<Uint8Array | undefined> {
  try {
    const buffer = await readFile(file);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw readFailed(error);
  }
}

function readFailed(error: unknown): BaseError {
  return new BaseError("could not read the evidence store", {
    code: "EVIDENCE_READ_FAILED",
    details: (error as Error).message,
    cause: error,
  });
}
