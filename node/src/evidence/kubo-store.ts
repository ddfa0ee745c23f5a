import type { KuboRPCClient } from "kubo-rpc-client";
import { BaseError, InputError, NotFoundError, UnavailableError } from "../errors";
import type { Logger } from "../logger";
import { EvidenceIntegrityError, parseRawBlockCid, rawBlockCid, verifyBlock } from "./cid";
import { checkBlock, type EvidenceStore } from "./store";

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Evidence blocks on a Kubo (go-ipfs) node through its RPC API: `block/put` with `cid-codec=raw`,
 * `mhtype=sha2-256` and `pin=true` (evidence must survive garbage collection), `block/get`, and
 * `block/stat` offline for {@link EvidenceStore.has}. The node's answers are never trusted: the CID it
 * returns must equal the one computed here, and fetched bytes must hash to the CID asked for.
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
  const signal = () => AbortSignal.timeout(timeoutMs);
  const where = url.origin;

  return {
    async put(bytes) {
      checkBlock(bytes);
      const expected = rawBlockCid(bytes);
      // `cidCodec` becomes Kubo's `cid-codec`; the client's typed `format` is Kubo's deprecated name.
      const putOptions = { cidCodec: "raw", mhtype: "sha2-256", pin: true, signal: signal() };
      let returned: string;
      try {
        returned = (await client.block.put(bytes, putOptions)).toString();
      } catch (error) {
        throw ipfsError(error, "put", where);
      }
      if (returned !== expected) {
        throw new EvidenceIntegrityError(
          "the IPFS node answered with a different CID",
          `${where}: expected ${expected}, got ${returned}`,
        );
      }
      logger.info("evidence block stored on IPFS", { cid: expected, bytes: bytes.byteLength });
      return expected;
    },

    async get(cidText) {
      const cid = parseRawBlockCid(cidText);
      let bytes: Uint8Array;
      try {
        bytes = await client.block.get(CID.parse(cid), { signal: signal() });
      } catch (error) {
        if (isNotFound(error)) throw new NotFoundError("evidence block not found", `${cid} on ${where}`);
        throw ipfsError(error, "get", where);
      }
      verifyBlock(cid, bytes, `IPFS node ${where}`);
      return bytes;
    },

    async has(cidText) {
      const cid = parseRawBlockCid(cidText);
      // Offline: only this node's blockstore, instead of searching the network until the timeout.
      const statOptions = { offline: true, signal: signal() };
      try {
        await client.block.stat(CID.parse(cid), statOptions);
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw ipfsError(error, "stat", where);
      }
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
    return new UnavailableError(`the IPFS node did not answer block/${operation} in time`, {
      code: "IPFS_UNAVAILABLE",
      details: where,
      cause: error,
    });
  }
  if (status === undefined ? error instanceof TypeError : status >= 500) {
    // fetch rejects with a TypeError ("fetch failed") when it cannot connect at all.
    const reason = error instanceof TypeError && error.cause instanceof Error ? error.cause.message : message;
    return new UnavailableError(`the IPFS node is unavailable (block/${operation})`, {
      code: "IPFS_UNAVAILABLE",
      details: `${where}: ${reason}`,
      cause: error,
    });
  }
  return new BaseError(`the IPFS node refused block/${operation}`, {
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
