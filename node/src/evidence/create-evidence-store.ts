import { silentLogger, type Logger } from "../logger";
import { createKuboEvidenceStore } from "./kubo-store";
import { createLocalEvidenceStore } from "./local-store";
import type { EvidenceStore } from "./store";

export interface EvidenceStoreConfig {
  /** The node's data directory; the local store keeps blocks in `<dataDir>/evidence/`. */
  dataDir: string;
  /** Kubo RPC API, e.g. `http://127.0.0.1:5001`; when set, blocks go to that IPFS node instead. */
  ipfsApiUrl?: string;
  /** Per-request timeout for the IPFS node, milliseconds (default 30 000). */
  ipfsTimeoutMs?: number;
}

/**
 * The evidence store the configuration asks for: a Kubo node when `ipfsApiUrl` is set, else the local
 * content-addressed directory.
 * @throws InputError for an unusable `ipfsApiUrl`.
 */
export function createEvidenceStore(
  config: EvidenceStoreConfig,
  logger: Logger = silentLogger,
): EvidenceStore {
  if (config.ipfsApiUrl === undefined) return createLocalEvidenceStore(config.dataDir, logger);
  return createKuboEvidenceStore({ url: config.ipfsApiUrl, timeoutMs: config.ipfsTimeoutMs }, logger);
}
