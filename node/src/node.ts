import type { ResolvedConfig } from "./config/config";
import { loadConfig, mediationOptions } from "./config/config";
import type { Database } from "./db/database";
import { openDatabase } from "./db/open";
import { ingestFile, type IngestProgress, type IngestResult } from "./ingest/ingest-file";
import { createEvidenceStore } from "./evidence/create-evidence-store";
import type { EvidenceStore } from "./evidence/store";
import type { Logger } from "./logger";
import type { CdrFormat } from "./mediation/types";

/** A carrier node: its configuration and database, and the operations the CLI and the gateway call. */
export interface CarrierNode {
  readonly config: ResolvedConfig;
  readonly db: Database;
  /** Content-addressed evidence: the local store, or a Kubo node when `ipfs.apiUrl` is set. */
  readonly evidence: EvidenceStore;
  readonly logger: Logger;
  /** Ingests one CDR file (see {@link ingestFile}). */
  ingest(
    filePath: string,
    format: CdrFormat,
    onProgress?: (progress: IngestProgress) => void,
  ): Promise<IngestResult>;
  close(): Promise<void>;
}

/** Builds a node from its parts; tests pass their own database and logger. */
export function createNode(parts: {
  config: ResolvedConfig;
  db: Database;
  evidence: EvidenceStore;
  logger: Logger;
}): CarrierNode {
  const { config, db, evidence, logger } = parts;
  return {
    config,
    db,
    evidence,
    logger,
    async ingest(filePath, format, onProgress) {
      const {
        fileName: _fileName,
        matchRules: _matchRules,
        ...options
      } = mediationOptions(config.config, filePath);
      const result = await ingestFile(db, filePath, format, options, onProgress);
      logger.info(result.alreadyIngested ? "file already ingested" : "file ingested", {
        file: filePath,
        records: result.file.records,
      });
      return result;
    },
    close: () => db.close(),
  };
}

/**
 * Opens the node whose data lives in `dataDir`: loads its config and opens (and migrates) its database.
 * @throws InputError for a bad config; UnavailableError when PostgreSQL cannot be reached.
 */
export async function openNode(
  dataDir: string,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CarrierNode> {
  const config = loadConfig(dataDir, env);
  const db = await openDatabase({ url: config.databaseUrl, schema: config.config.database.schema, dataDir });
  const evidence = createEvidenceStore(
    { dataDir, ipfsApiUrl: config.config.ipfs.apiUrl, ipfsTimeoutMs: config.config.ipfs.timeoutMs },
    logger,
  );
  return createNode({ config, db, evidence, logger });
}
