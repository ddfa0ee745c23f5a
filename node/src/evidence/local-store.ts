import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { BaseError, NotFoundError } from "../errors";
import type { Logger } from "../logger";
import { blockCid, codecOf, parseBlockCid, rawBlockCid, verifyBlock, type BlockCodec } from "./cid";
import { checkEvidenceSize, MAX_BLOCK_BYTES, type EvidenceStore } from "./store";
import { holdsUnixfsFile, readUnixfsFile, writeUnixfsFile } from "./unixfs";

/**
 * Evidence as files in `<dataDir>/evidence/`, one per block, named by its CID: evidence of at most
 * 1 MiB is one raw block, larger evidence the blocks of its UnixFS DAG (raw leaves and dag-pb nodes).
 * A file name is only ever a CID this module computed or parsed, never a path taken from input. Each
 * block goes to a temporary file that is synced and then renamed, so a crash leaves either the whole
 * block or none; a DAG's root is written after every block it links to.
 */
export function createLocalEvidenceStore(dataDir: string, logger: Logger): EvidenceStore {
  const dir = path.join(dataDir, "evidence");
  const fileOf = (cid: string) => path.join(dir, cid);

  async function holdsIntact(cid: string, codec: BlockCodec): Promise<boolean> {
    const bytes = await readBlockFile(fileOf(cid));
    return bytes !== undefined && blockCid(codec, bytes) === cid;
  }

  /** Writes one block under `cid` (computed here or by the importer); a no-op if an intact copy is held. */
  async function writeBlock(cid: string, bytes: Uint8Array): Promise<void> {
    // A damaged copy is replaced; an intact one makes put a no-op.
    if (await holdsIntact(cid, codecOf(cid))) return;
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
  }

  /** The block `cid` (parsed), checked against it. */
  async function readBlock(cid: string): Promise<Uint8Array> {
    const bytes = await readBlockFile(fileOf(cid));
    if (bytes === undefined) throw new NotFoundError("evidence block not found", cid);
    verifyBlock(cid, bytes, "local evidence store");
    return bytes;
  }

  async function hasBlock(cid: string): Promise<boolean> {
    try {
      return (await stat(fileOf(cid))).isFile();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw readFailed(error);
    }
  }

  return {
    async put(bytes) {
      checkEvidenceSize(bytes);
      if (bytes.byteLength <= MAX_BLOCK_BYTES) {
        const cid = rawBlockCid(bytes);
        await writeBlock(cid, bytes);
        logger.info("evidence block stored", { cid, bytes: bytes.byteLength });
        return cid;
      }
      let blocks = 0;
      // The importer hands over the root last, once every block it links to has been written.
      const root = (
        await writeUnixfsFile(bytes, async (block) => {
          await writeBlock(parseBlockCid(block.cid.toString()), block.bytes);
          blocks++;
        })
      ).toString();
      logger.info("evidence stored as a UnixFS DAG", { cid: root, bytes: bytes.byteLength, blocks });
      return root;
    },

    async get(cidText) {
      const cid = parseBlockCid(cidText);
      if (codecOf(cid) === "raw") return readBlock(cid);
      return readUnixfsFile(cid, readBlock);
    },

    async has(cidText) {
      const cid = parseBlockCid(cidText);
      if (codecOf(cid) === "raw") return hasBlock(cid);
      return holdsUnixfsFile(cid, readBlock, hasBlock);
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
async function readBlockFile(file: string): Promise<Uint8Array | undefined> {
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
