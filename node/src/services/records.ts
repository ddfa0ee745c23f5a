/**
 * The node's own records as the gateway reads them: agreements, partners, tariff decks, ingested
 * files with their rejects and traffic, the chain transactions it sent.
 * Each is what the `icl` command of the same name lists; SQL stays in node/src/db/.
 */
import {
  addAgreement,
  listAgreements,
  requireAgreement,
  setAgreementPeer,
  type LocalAgreement,
} from "../db/agreements";
import { listChainEvents, listPendingTxs, type ChainEventRow, type TxRow } from "../db/chain-store";
import { pingDatabase, type Database } from "../db/database";
import { getFile, listFiles, listRejects, type IngestFile, type StoredReject } from "../db/ingest-store";
import { addPartner, listPartners, requirePartner, type Partner } from "../db/partners";
import { cdrStats, dailyTraffic, latestTrafficDay, type CdrStats, type DailyTraffic } from "../db/stats";
import { importDeck, listDecks, type DeckInfo } from "../db/tariffs";

export interface AgreementsService {
  /** The agreements this carrier is party to (never their secrets). */
  list(): Promise<LocalAgreement[]>;
  /** One agreement by name or id, with its secret. @throws NotFoundError when unknown. */
  require(ref: string): Promise<LocalAgreement & { secret: Uint8Array }>;
  /** Adds an agreement (see {@link addAgreement}). @throws InputError, ConflictError as it does. */
  add(agreement: Parameters<typeof addAgreement>[1]): Promise<void>;
  /** Sets (null: clears) the partner node's URL. @throws InputError for a bad URL; NotFoundError when unknown. */
  setPeer(ref: string, peerUrl: string | null): Promise<void>;
}

export interface PartnersService {
  /** Partners and the rules that assign switch CDRs to them. */
  list(): Promise<Partner[]>;
  /** @throws NotFoundError when this node has no partner `id`. */
  require(id: string): Promise<void>;
  /** Adds a partner with its match rules (see {@link addPartner}). @throws InputError, ConflictError as it does. */
  add(partner: Partner): Promise<void>;
}

export interface TariffsService {
  /** Tariff decks, active and superseded, with their row counts. */
  list(): Promise<DeckInfo[]>;
  /** Stores a validated deck as the active one of its partner and direction (see {@link importDeck}). */
  importDeck(deck: Parameters<typeof importDeck>[1]): ReturnType<typeof importDeck>;
}

export interface CdrsService {
  /** CDR counts by outcome and reject reason; traffic by partner, direction and destination. */
  stats(): Promise<CdrStats>;
  /** Rejected rows, filtered by file and reason, in file and line order. */
  rejects(filter: Parameters<typeof listRejects>[1]): Promise<StoredReject[]>;
  /** Every ingest (file, table or stream), oldest first. */
  files(): Promise<IngestFile[]>;
  /** One ingest by id; null when none. */
  file(id: number): Promise<IngestFile | null>;
  /** Rated traffic per UTC day (days since 1970), partner and direction, `from` to `to` inclusive. */
  dailyTraffic(from: number, to: number): Promise<DailyTraffic[]>;
  /** The UTC day (days since 1970) of the latest rated call; null before any. */
  latestTrafficDay(): Promise<number | null>;
}

export interface ChainRecordsService {
  /** The transactions `from` sent on `chainId` that are not final yet. */
  pendingTxs(chainId: bigint, from: string): Promise<TxRow[]>;
  /** Indexed ledger events, filtered (see {@link listChainEvents}). */
  events(filter: Parameters<typeof listChainEvents>[1]): Promise<ChainEventRow[]>;
}

/** The node's records on `db` (every method may throw UnavailableError when the database is down). */
export function recordServices(db: Database) {
  const agreements: AgreementsService = {
    list: () => listAgreements(db),
    require: (ref) => requireAgreement(db, ref),
    add: (agreement) => addAgreement(db, agreement),
    setPeer: (ref, peerUrl) => setAgreementPeer(db, ref, peerUrl),
  };
  const partners: PartnersService = {
    list: () => listPartners(db),
    require: (id) => requirePartner(db, id),
    add: (partner) => addPartner(db, partner),
  };
  const tariffs: TariffsService = { list: () => listDecks(db), importDeck: (deck) => importDeck(db, deck) };
  const cdrs: CdrsService = {
    stats: () => cdrStats(db),
    rejects: (filter) => listRejects(db, filter),
    files: () => listFiles(db),
    file: (id) => getFile(db, id),
    dailyTraffic: (from, to) => dailyTraffic(db, from, to),
    latestTrafficDay: () => latestTrafficDay(db),
  };
  const chainRecords: ChainRecordsService = {
    pendingTxs: (chainId, from) => listPendingTxs(db, chainId, from),
    events: (filter) => listChainEvents(db, filter),
  };
  /** Whether the database answers. @throws UnavailableError when it does not. */
  const ping = () => pingDatabase(db);
  return { agreements, partners, tariffs, cdrs, chainRecords, ping };
}

// What the gateway's schemas name of these records: the stored shapes and their enumerations.
export { ALERT_LEVELS, type AlertLevel, type StoredAlert } from "../db/alerts";
export {
  INGEST_KINDS,
  INGEST_STATUSES,
  type IngestFile,
  type IngestKind,
  type IngestStatus,
} from "../db/ingest-store";
export type { LocalAgreement } from "../db/agreements";
export type { ReportJson, StoredReport } from "../db/reports";
