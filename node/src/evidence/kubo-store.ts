import type { KuboRPCClient } from "kubo-rpc-client";
import { BaseError, InputError, NotFoundError, UnavailableError } from "../errors";
import type { Logger } from "../logger";
import { carFile } from "./car";
import { codecOf, EvidenceIntegrityError, parseBlockCid, rawBlockCid, verifyBlock } from "./cid";
import { checkBlock, checkEvidenceSize, MAX_BLOCK_BYTES, type EvidenceStore } from "./store";
import { holdsUnixfsFile, readUnixfsFile, writeUnixfsFile, type DagBlock } from "./unixfs";

const DEFAULT_TIMEOUT_MS = 30_000;
/** A `dag/import` gets one timeout per this many bytes of bundle: at 30 s, it must move ~280 KB/s. */
const IMPORT_BYTES_PER_TIMEOUT = 8 * 1024 * 1024;

/**
 * Evidence on a Kubo (go-ipfs) node through its RPC API. Evidence of at most 1 MiB is one block:
 * `block/put` with `cid-codec=raw`, `mhtype=sha2-256` and `pin=true` (evidence must survive garbage
 * collection). Larger evidence is cut into its UnixFS DAG here (unixfs.ts), sent as one CAR file to
 * `dag/import` with `pin-roots=true`, and read back block by block with `block/get`. {@link
 * EvidenceStore.has} asks `block/stat` and `block/get` with `offline=true`. The node's answers are
 * never trusted: the root it reports must equal the one computed here, and every fetched block must
 * hash to the CID asked for.
 * @throws InputError when `url` is not an http(s) URL.
 */
export function createKuboEvidenceStore(
  options: { url: string; timeoutMs?: number | undefined },
  logger: Logger,
): EvidenceStore {
  const url = parseApiUrl(options.url);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // Loaded here rather than at the top: kubo-rpc-client is a large ES module (a sixth of a second to
  // load) that only nodes with `ipfs.apiUrl` use.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { CID, create } = require("kubo-rpc-client") as typeof import("kubo-rpc-client");
  const client: KuboRPCClient = create({ url });
  const signal = (ms = timeoutMs) => AbortSignal.timeout(ms);
  const where = url.origin;

  function differentRoot(expected: string, returned: string): EvidenceIntegrityError {
    return new EvidenceIntegrityError(
      "the IPFS node answered with a different CID",
      `${where}: expected ${expected}, got ${returned}`,
    );
  }

  async function putBlock(bytes: Uint8Array): Promise<string> {
    checkBlock(bytes);
    const expected = rawBlockCid(bytes);
    // `cidCodec` becomes Kubo's `cid-codec`; the client's typed `format` is Kubo's deprecated name.
    const putOptions = { cidCodec: "raw", mhtype: "sha2-256", pin: true, signal: signal() };
    let returned: string;
    try {
      returned = (await client.block.put(bytes, putOptions)).toString();
    } catch (error) {
      throw ipfsError(error, "block/put", where);
    }
    if (returned !== expected) throw differentRoot(expected, returned);
    logger.info("evidence block stored on IPFS", { cid: expected, bytes: bytes.byteLength });
    return expected;
  }

  async function putDag(bytes: Uint8Array): Promise<string> {
    // The leaves are views of `bytes`: holding the blocks until the CAR is written copies nothing.
    const blocks: DagBlock[] = [];
    const root = await writeUnixfsFile(bytes, (block) => void blocks.push(block));
    const expected = root.toString();
    const timeouts = Math.max(1, Math.ceil(bytes.byteLength / IMPORT_BYTES_PER_TIMEOUT));
    const roots: string[] = [];
    try {
      const imported = client.dag.import([carFile(root, blocks)], {
        pinRoots: true,
        signal: signal(timeoutMs * timeouts),
      });
      for await (const { root: reported } of imported) {
        if (reported.pinErrorMsg) {
          throw new BaseError("the IPFS node could not pin the evidence DAG", {
            code: "IPFS_REFUSED",
            details: `${where}: ${expected}: ${reported.pinErrorMsg}`,
          });
        }
        roots.push(reported.cid.toString());
      }
    } catch (error) {
      throw ipfsError(error, "dag/import", where);
    }
    if (roots.length !== 1 || roots[0] !== expected)
      throw differentRoot(expected, roots.join(", ") || "none");
    logger.info("evidence stored on IPFS as a UnixFS DAG", {
      cid: expected,
      bytes: bytes.byteLength,
      blocks: blocks.length,
    });
    return expected;
  }

  /** The block `cid` (parsed) from the node, checked against it. */
  async function getBlock(cid: string, offline = false): Promise<Uint8Array> {
    // `offline` (has): this node's blockstore only, like block/stat below.
    const getOptions = offline ? { offline, signal: signal() } : { signal: signal() };
    let bytes: Uint8Array;
    try {
      bytes = await client.block.get(CID.parse(cid), getOptions);
    } catch (error) {
      if (isNotFound(error)) throw new NotFoundError("evidence block not found", `${cid} on ${where}`);
      throw ipfsError(error, "block/get", where);
    }
    if (bytes.byteLength > MAX_BLOCK_BYTES) {
      throw new EvidenceIntegrityError(
        `evidence block larger than a block may be (IPFS node ${where})`,
        `${cid}: ${bytes.byteLength} bytes`,
      );
    }
    verifyBlock(cid, bytes, `IPFS node ${where}`);
    return bytes;
  }

  async function hasBlock(cid: string): Promise<boolean> {
    // Offline: only this node's blockstore, instead of searching the network until the timeout.
    const statOptions = { offline: true, signal: signal() };
    try {
      await client.block.stat(CID.parse(cid), statOptions);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw ipfsError(error, "block/stat", where);
    }
  }

  return {
    async put(bytes) {
      checkEvidenceSize(bytes);
      return bytes.byteLength <= MAX_BLOCK_BYTES ? putBlock(bytes) : putDag(bytes);
    },

    async get(cidText) {
      const cid = parseBlockCid(cidText);
      if (codecOf(cid) === "raw") return getBlock(cid);
      return readUnixfsFile(cid, (block) => getBlock(block));
    },

    async has(cidText) {
      const cid = parseBlockCid(cidText);
      if (codecOf(cid) === "raw") return hasBlock(cid);
      return holdsUnixfsFile(cid, (block) => getBlock(block, true), hasBlock);
    },
  };
}

function parseApiUrl(text: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new InputError("the IPFS API URL must be an http(s) URL", {
      field: "ipfsApiUrl",
      details: `got ${JSON.stringify(text)}`,
    });
  }
  return url;
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof Error && error.name === "HTTPError" && /not found|could not find/i.test(error.message)
  );
}

/**
 * Sorts a failure of the RPC call into the node's two families: no connection, a timeout or a 5xx
 * answer is retryable (UnavailableError); a refusal (4xx, or an answer that is not what Kubo sends) is not.
 */
function ipfsError(error: unknown, operation: string, where: string): BaseError {
  if (error instanceof BaseError) return error;
  const name = error instanceof Error ? error.name : "";
  const message = error instanceof Error ? error.message : String(error);
  const status = httpStatus(error);
  if (name === "TimeoutError" || name === "AbortError") {
    return new UnavailableError(`the IPFS node did not answer ${operation} in time`, {
      code: "IPFS_UNAVAILABLE",
      details: where,
      cause: error,
    });
  }
  if (status === undefined ? error instanceof TypeError : status >= 500) {
    // fetch rejects with a TypeError ("fetch failed") when it cannot connect at all.
    const reason = error instanceof TypeError && error.cause instanceof Error ? error.cause.message : message;
    return new UnavailableError(`the IPFS node is unavailable (${operation})`, {
      code: "IPFS_UNAVAILABLE",
      details: `${where}: ${reason}`,
      cause: error,
    });
  }
  return new BaseError(`the IPFS node refused ${operation}`, {
    code: "IPFS_REFUSED",
    details: `${where}: ${status !== undefined ? `HTTP ${status}: ` : ""}${message}`,
    cause: error,
  });
}

function httpStatus(error: unknown): number | undefined {
  if (!(error instanceof Error) || error.name !== "HTTPError" || !("response" in error)) return undefined;
  const response = (error as { response?: { status?: unknown } }).response;
  return typeof response?.status === "number" ? response.status : undefined;
}
