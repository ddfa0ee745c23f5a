/**
 * The one ingest pipeline: a source's rows → known partner → plausibility → rating → storage,
 * batch by batch, each batch one transaction with the source's checkpoint, the next batch
 * mediated and rated while the previous one is written. Every row read ends up rated, unbilled or
 * rejected with a reason, and an ingest that stops on an error is marked incomplete with the
 * reason, so no summary is built from half of it.
 */
import type { Database } from "../db/database";
import {
  finishFile,
  markIncomplete,
  markLive,
  prepareBatch,
  startFile,
  storeBatch,
  type BatchCounts,
  type FieldNamer,
  type IngestFile,
  type RatedCdrRow,
  type RejectRow,
} from "../db/ingest-store";
import { listAgreementsWithSecrets } from "../db/agreements";
import { listPartners } from "../db/partners";
import { loadActiveDecks } from "../db/tariffs";
import { BaseError } from "../errors";
import type { FormatDescriptor, StoredField } from "../mediation/formats/format";
import { createFormatHandler } from "../mediation/mediate";
import {
  checkPlausibility,
  factFields,
  plausibilitySettings,
  type FieldNamer as PlausibilityFieldNamer,
  type PlausibilityOverride,
  type PlausibilitySettings,
} from "../mediation/plausibility";
import type { MediationOptions, ParsedRow } from "../mediation/types";
import { Rater, rateInForce } from "../rating/rater";
import { callKeyer } from "../reconciliation/call-key";
import type { IngestSource, SourceBatch } from "./source";

/**
 * Rows per stored batch (one transaction, one checkpoint). Larger batches mean fewer commits, each an
 * fsync; 16 384 rows keep a batch's memory around 20 MB.
 */
export const INGEST_BATCH_ROWS = 16_384;

/** How a node mediates, checks and counts what it ingests (from config.json's `mediation`). */
export interface IngestSettings {
  /** Zone, numbering, FreeSWITCH legs and each partner's billed leg; the file name and match rules are added per source. */
  mediation: Omit<MediationOptions, "fileName" | "matchRules">;
  /** Node-wide plausibility settings over the defaults. */
  plausibility?: PlausibilityOverride | undefined;
  /** Per partner, over the node-wide ones. */
  partnerPlausibility?: Readonly<Record<string, PlausibilityOverride>> | undefined;
  /** The clock plausibility compares starts with (tests pin it). */
  now?: () => number;
  batchRows?: number;
}

export interface IngestProgress {
  bytesRead: number;
  byteSize: number;
  records: number;
}

export interface IngestResult {
  file: IngestFile;
  /** True when the same content had already been ingested completely: nothing was done. */
  alreadyIngested: boolean;
  /** Line after which this run resumed an interrupted ingest (0 = from the start). */
  resumedAfterLine: number;
  /** This run's totals (the file's are in `file`). */
  run: BatchCounts;
}

/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: what an ISO 8601 date and PostgreSQL both hold. */
const MIN_STORABLE_MS = -62_135_596_800_000;
const MAX_STORABLE_MS = 253_402_300_799_999;

/**
 * Ingests one source through the pipeline. A file already ingested completely is a no-op; an
 * interrupted one resumes after its checkpoint, with exactly the totals of one clean run; a table
 * or stream continues after its position and ends `live`.
 * @throws BaseError for I/O and database failures, after marking the ingest incomplete with the
 * reason (the committed batches stay; run it again to resume).
 */
export async function runIngest(
  db: Database,
  source: IngestSource,
  settings: IngestSettings,
  options: { onProgress?: (progress: IngestProgress) => void; signal?: AbortSignal } = {},
): Promise<IngestResult> {
  const { identity, byteSize } = await source.identify();
  const file = await startFile(db, {
    fileName: source.name,
    contentHash: identity,
    format: source.format.id,
    byteSize,
    kind: source.kind,
    source: source.location,
  });
  const run: BatchCounts = { records: 0, rated: 0, unbilled: 0, rejected: 0, redelivered: 0, late: 0 };
  if (file.status === "done" || file.status === "discarded")
    return { file, alreadyIngested: true, resumedAfterLine: Number(file.checkpointLine), run };

  const checkpoint = Number(file.checkpointLine);
  let pendingWrite: Promise<void> | undefined;
  try {
    const stage = await RowStage.load(db, source.format, settings);
    // Each CDR's call key is stored with it, so comparisons read keys rather than hash every call.
    const keyer = callKeyer(await listAgreementsWithSecrets(db));
    const handler = createFormatHandler(source.format, {
      ...settings.mediation,
      fileName: source.location,
      matchRules: stage.matchRules,
    });
    let records = Number(file.records);
    let pending: Promise<void> | undefined;
    const store = async (batch: SourceBatch, prepared: ReturnType<typeof prepareBatch>) => {
      const counts = await storeBatch(db, prepared);
      for (const key of Object.keys(run) as (keyof BatchCounts)[]) run[key] += counts[key];
      records += counts.records;
      await batch.ack?.();
    };
    for await (const batch of source.batches(
      handler,
      file,
      settings.batchRows ?? INGEST_BATCH_ROWS,
      options.signal,
    )) {
      const rows = checkpoint > 0 ? batch.rows.filter((row) => row.line > checkpoint) : batch.rows;
      if (source.live) await stage.refresh();
      const { cdrs, rejects } = stage.process(rows);
      const held = handler.lowestHeldLine?.() ?? null;
      const safe = held === null ? batch.consumedLine : Math.min(batch.consumedLine, held - 1);
      // Mediate, rate and prepare the next batch while this one is written; one write in flight keeps order.
      const prepared = prepareBatch(file.id, Math.max(safe, 0), cdrs, rejects, {
        position: batch.position,
        fieldOf: stage.fieldOf,
        keyer,
      });
      await pending;
      if (cdrs.length === 0 && rejects.length === 0 && batch.position === undefined && !batch.ack) {
        options.onProgress?.({ bytesRead: batch.bytesRead ?? 0, byteSize, records });
        continue;
      }
      const write = store(batch, prepared);
      write.catch(() => undefined); // awaited below; this only keeps a failure from counting as unhandled meanwhile
      pending = write;
      pendingWrite = write;
      options.onProgress?.({ bytesRead: batch.bytesRead ?? 0, byteSize, records });
    }
    await pending;
    const finished = source.live ? await markLive(db, file.id) : await finishFile(db, file.id);
    options.onProgress?.({ bytesRead: byteSize, byteSize, records: Number(finished.records) });
    return { file: finished, alreadyIngested: false, resumedAfterLine: checkpoint, run };
  } catch (error) {
    // The batch in flight settles first (stored or not), so the mark is the last word on the ingest.
    await pendingWrite?.catch(() => undefined);
    const reason =
      error instanceof BaseError
        ? `${error.shortMessage}${error.details ? `: ${error.details}` : ""}`
        : String(error);
    await markIncomplete(db, file.id, reason).catch(() => undefined);
    throw error;
  }
}

/**
 * What happens to each row between the handler and the store: partner check, plausibility,
 * storable values, rating against the deck in force. Loaded from the database once per ingest;
 * a live source refreshes it when partners or decks change.
 */
class RowStage {
  private known = new Set<string>();
  matchRules: MediationOptions["matchRules"] = [];
  private decks = new Map<string, { deckId: number; rater: Rater }>();
  private version = "";
  private readonly perPartner = new Map<string, PlausibilitySettings>();
  private readonly nodeWide: PlausibilitySettings;
  readonly fieldOf: FieldNamer;
  private readonly factField: PlausibilityFieldNamer;

  private constructor(
    private readonly db: Database,
    private readonly format: FormatDescriptor,
    private readonly settings: IngestSettings,
  ) {
    this.nodeWide = plausibilitySettings(settings.plausibility);
    const names = format.fieldOf;
    this.fieldOf = (column: StoredField) => names[column] ?? null;
    this.factField = factFields(format);
  }

  static async load(db: Database, format: FormatDescriptor, settings: IngestSettings): Promise<RowStage> {
    const stage = new RowStage(db, format, settings);
    await stage.refresh(true);
    return stage;
  }

  /** Reloads partners and decks when they changed (a live source runs for days). */
  async refresh(force = false): Promise<void> {
    const { rows } = await this.db.query<{ v: string }>(
      `SELECT concat_ws('/', (SELECT max(id) FROM tariff_decks), (SELECT count(*) FROM tariff_decks WHERE active),
              (SELECT max(id) FROM match_rules), (SELECT count(*) FROM partners)) AS v`,
    );
    const version = rows[0]?.v ?? "";
    if (!force && version === this.version) return;
    this.version = version;
    const partners = await listPartners(this.db);
    this.known = new Set(partners.map((partner) => partner.id));
    this.matchRules = partners.flatMap((partner) => partner.matchRules);
    this.decks = new Map();
    for (const [key, deck] of await loadActiveDecks(this.db))
      this.decks.set(key, { deckId: deck.deckId, rater: new Rater(deck.rows) });
  }

  private plausibilityOf(partner: string): PlausibilitySettings {
    const override = this.settings.partnerPlausibility?.[partner];
    if (override === undefined) return this.nodeWide;
    let settings = this.perPartner.get(partner);
    if (settings === undefined) {
      settings = plausibilitySettings(this.settings.plausibility, override);
      this.perPartner.set(partner, settings);
    }
    return settings;
  }

  /** Turns emitted rows into what the store takes. */
  process(rows: readonly ParsedRow[]): { cdrs: RatedCdrRow[]; rejects: RejectRow[] } {
    const cdrs: RatedCdrRow[] = [];
    const rejects: RejectRow[] = [];
    const now = this.settings.now?.() ?? Date.now();
    for (const parsed of rows) {
      let row: ParsedRow = parsed;
      if (row.kind === "cdr") {
        const cdr = row.cdr;
        if (!this.known.has(cdr.partner)) {
          rejects.push({
            line: row.line,
            raw: row.raw,
            reason: "UNKNOWN_PARTNER",
            field: this.format.partnerFromRow ? "partner" : null,
            message: `partner '${cdr.partner}' is not registered (icl partners add)`,
            sourceKey: cdr.key,
          });
          continue;
        }
        row = checkPlausibility(row, this.plausibilityOf(cdr.partner), now, this.factField);
      }
      if (row.kind === "cdr") {
        const unstorable = this.unstorable(row);
        if (unstorable !== null) row = unstorable;
      }
      if (row.kind === "reject") {
        rejects.push({
          line: row.line,
          raw: row.raw,
          reason: row.reason,
          field: row.field,
          message: row.message,
          sourceKey: row.sourceKey ?? null,
          rule: row.rule ?? null,
        });
        continue;
      }
      const cdr = row.cdr;
      const { result: rating, deckId } = rateInForce(this.decks.get(`${cdr.partner}|${cdr.direction}`), cdr);
      const rated = rating.outcome === "rated" ? rating : null;
      const unbilled = rating.outcome === "unbilled" ? rating : null;
      cdrs.push({
        line: row.line,
        raw: row.raw,
        cdr,
        outcome: rating.outcome,
        destination: rated?.destination ?? unbilled?.destination ?? null,
        prefix: rated?.prefix ?? unbilled?.prefix ?? null,
        band: rated?.band ?? null,
        billed: rated?.billed ?? 0,
        amount: rated?.amount ?? 0n,
        deckId,
        tariffLine: rated?.tariffLine ?? null,
        rejectMessage: rating.outcome === "rejected" ? rating.message : null,
      });
    }
    return { cdrs, rejects };
  }

  /** A reject for a time no ISO 8601 date (and so no PostgreSQL timestamp) can hold; null when all fit. */
  private unstorable(row: Extract<ParsedRow, { kind: "cdr" }>): ParsedRow | null {
    const cdr = row.cdr;
    const times: [number | null, StoredField][] = [
      [cdr.setupMs, "setup_time"],
      [cdr.startMs, "start_time"],
      [cdr.answerMs, "answer_time"],
      [cdr.endMs, "end_time"],
    ];
    for (const [ms, column] of times) {
      if (ms === null || (ms >= MIN_STORABLE_MS && ms <= MAX_STORABLE_MS)) continue;
      const field = this.fieldOf(column) ?? column;
      return {
        kind: "reject",
        line: row.line,
        raw: row.raw,
        reason: "INVALID",
        field,
        message: `${field} is outside the years 0001–9999`,
        sourceKey: cdr.key,
      };
    }
    return null;
  }
}
