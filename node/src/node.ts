import type { ChainClient } from "./chain/client";
import type { ResolvedConfig } from "./config/config";
import { ingestSettings, loadConfig } from "./config/config";
import type { Database } from "./db/database";
import { openDatabase, type DatabaseOptions } from "./db/open";
import { dropSchemas } from "./db/pg";
import { ingestFile, type IngestProgress, type IngestResult } from "./ingest/ingest-file";
import { runIngest } from "./ingest/pipeline";
import type { IngestSource } from "./ingest/source";
import { createEvidenceStore } from "./evidence/create-evidence-store";
import type { EvidenceStore } from "./evidence/store";
import type { Logger } from "./logger";
import type { CdrFormat } from "./mediation/types";
import { alertsService, type AlertsService } from "./services/alerts";
import { approvalsService, type ApprovalsService } from "./services/approvals";
import { disputesService, type DisputesService } from "./services/disputes";
import { evidenceLookup, type EvidenceLookup } from "./services/evidence-lookup";
import { ingestJobsService, type IngestJobsService } from "./services/ingest-jobs";
import { monthTotalsService, type MonthTotalsService } from "./services/month-totals";
import { periodsService, type PeriodsService } from "./services/periods";
import {
  recordServices,
  type AgreementsService,
  type CdrsService,
  type ChainRecordsService,
  type PartnersService,
  type TariffsService,
} from "./services/records";
import { settlementService, type SettlementService } from "./services/settlement";
import { timelineService, type TimelineService } from "./services/timeline";

/** A carrier node: its configuration and database, and the operations the CLI and the gateway call. */
export interface CarrierNode {
  readonly config: ResolvedConfig;
  readonly db: Database;
  /** The ledger as this node signs on it (the node key), or null for a node without chain settings. */
  readonly chain: ChainClient | null;
  /** Content-addressed evidence: the local store, or a Kubo node when `ipfs.apiUrl` is set. */
  readonly evidence: EvidenceStore;
  readonly logger: Logger;
  readonly agreements: AgreementsService;
  readonly partners: PartnersService;
  readonly tariffs: TariffsService;
  /** Ingested files, their rejects and the rated traffic. */
  readonly cdrs: CdrsService;
  /** The deadline watch's alerts. */
  readonly alerts: AlertsService;
  /** The chain transactions the node sent and the ledger events it indexed. */
  readonly chainRecords: ChainRecordsService;
  /** Resolves when the database answers. @throws UnavailableError when it does not. */
  ping(): Promise<void>;
  /** The agreement-periods: list, show, discrepancy report, close. */
  readonly periods: PeriodsService;
  /** The last closed month's totals per partner and direction, from the frozen summaries. */
  readonly monthTotals: MonthTotalsService;
  /** Officers' approvals: the one to sign now, and signatures handed in. */
  readonly approvals: ApprovalsService;
  /** The drill-down behind a leaf, dispute evidence, dispute steps planned. */
  readonly disputes: DisputesService;
  /** The netting plan and this carrier's escrow. */
  readonly settlement: SettlementService;
  /** A period's ledger events from the node's event index. */
  readonly timeline: TimelineService;
  /** A period's evidence bundles, opened for the two parties' officers. */
  readonly evidenceLookup: EvidenceLookup;
  /** CDR files handed in (uploads) and ingested in the background, one at a time. */
  readonly ingestJobs: IngestJobsService;
  /** Ingests one CDR file (see {@link ingestFile}). */
  ingest(
    filePath: string,
    format: CdrFormat,
    onProgress?: (progress: IngestProgress) => void,
  ): Promise<IngestResult>;
  /** Ingests from any source (a table, a stream; see {@link runIngest}); `signal` stops a live one. */
  ingestSource(
    source: IngestSource,
    options?: { onProgress?: (progress: IngestProgress) => void; signal?: AbortSignal },
  ): Promise<IngestResult>;
  close(): Promise<void>;
}

/** Builds a node from its parts; tests pass their own database and logger. Throws nothing. */
export function createNode(parts: {
  config: ResolvedConfig;
  db: Database;
  /** The ledger (default none); the node does not close it. */
  chain?: ChainClient | null;
  evidence: EvidenceStore;
  logger: Logger;
}): CarrierNode {
  const { config, db, evidence, logger } = parts;
  const timeline = timelineService(db);
  const ingest: CarrierNode["ingest"] = async (filePath, format, onProgress) => {
    const result = await ingestFile(db, filePath, format, ingestSettings(config.config), onProgress);
    logger.info(result.alreadyIngested ? "file already ingested" : "file ingested", {
      file: filePath,
      records: result.file.records,
    });
    return result;
  };
  return {
    config,
    db,
    chain: parts.chain ?? null,
    evidence,
    logger,
    ...recordServices(db),
    alerts: alertsService(db),
    periods: periodsService(db, config),
    monthTotals: monthTotalsService(db),
    approvals: approvalsService(db, config),
    disputes: disputesService(db, evidence, logger),
    settlement: settlementService(db, config),
    timeline,
    evidenceLookup: evidenceLookup(db, evidence, timeline),
    ingest,
    ingestJobs: ingestJobsService(config.dataDir, ingest, logger),
    async ingestSource(source, options = {}) {
      const result = await runIngest(db, source, ingestSettings(config.config), options);
      logger.info("source ingested", { source: source.location, records: result.run.records });
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

/**
 * Opens (and migrates) a node's database: PGlite under `dataDir`, or PostgreSQL at `url` in `schema`.
 * @throws UnavailableError when PostgreSQL cannot be reached; ConflictError when another process holds
 * the PGlite files.
 */
export function openNodeDatabase(options: DatabaseOptions): Promise<Database> {
  return openDatabase(options);
}

/**
 * Drops nodes' PostgreSQL schemas (see {@link openNodeDatabase}) at `url`.
 * @throws RangeError for a name that is not a plain identifier; UnavailableError when PostgreSQL cannot be reached.
 */
export function dropNodeSchemas(url: string, schemas: Iterable<string>): Promise<void> {
  return dropSchemas(url, schemas);
}
