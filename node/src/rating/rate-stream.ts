import { KeySet } from "../mediation/key-set";
import { mediateStream } from "../mediation/mediate";
import type { FormatDescriptor } from "../mediation/formats/format";
import { formatById } from "../mediation/formats/registry";
import {
  DEFAULT_PLAUSIBILITY,
  checkPlausibility,
  factFields,
  type PlausibilitySettings,
} from "../mediation/plausibility";
import type { CdrFormat, MediationOptions, ParsedRow, RejectReason } from "../mediation/types";
import { Rater } from "./rater";

export interface DestinationTotal {
  destination: string;
  records: number;
  billedSeconds: number;
  amount: bigint;
}

export interface RateSummary {
  records: number;
  rated: number;
  unbilled: number;
  rejected: Partial<Record<RejectReason, number>>;
  /** Billed voice seconds of rated CDRs (sms and data are billed in messages and bytes, not seconds). */
  billedSeconds: number;
  amount: bigint;
  /** Rated CDRs per destination, sorted by destination name. */
  byDestination: DestinationTotal[];
}

/** The plausibility rules a dry run holds every row to, and the instant it compares starts with. */
export interface DryRunPlausibility {
  settings: PlausibilitySettings;
  nowMs: number;
}

/** The node's default rules at this moment: what an ingest without overrides would apply. */
export function dryRunPlausibility(): DryRunPlausibility {
  return { settings: DEFAULT_PLAUSIBILITY, nowMs: Date.now() };
}

/** The check of one mediated row, as the ingest pipeline makes it (a reject, or the row with its warnings). */
export function plausibilityOf(
  format: FormatDescriptor,
  plausibility: DryRunPlausibility,
): (row: Extract<ParsedRow, { kind: "cdr" }>) => ParsedRow {
  const fields = factFields(format);
  return (row) => checkPlausibility(row, plausibility.settings, plausibility.nowMs, fields);
}

/**
 * Rates a CDR stream against one deck without a database (the dry run behind `icl rate`): every
 * record ends up rated, unbilled or rejected, and the counts add up. Duplicates are found with an
 * in-memory key set (~16 bytes per distinct key).
 */
export async function rateStream(
  input: AsyncIterable<Buffer | string>,
  format: CdrFormat,
  options: MediationOptions,
  rater: Rater,
  plausibility: DryRunPlausibility = dryRunPlausibility(),
): Promise<RateSummary> {
  const plausible = plausibilityOf(formatById(format), plausibility);
  const seen = new KeySet();
  const rejected: Partial<Record<RejectReason, number>> = {};
  const destinations = new Map<string, DestinationTotal>();
  let records = 0;
  let rated = 0;
  let unbilled = 0;
  let billedSeconds = 0;
  let amount = 0n;
  const reject = (reason: RejectReason) => {
    rejected[reason] = (rejected[reason] ?? 0) + 1;
  };
  for await (const batch of mediateStream(input, format, options)) {
    for (const read of batch) {
      records++;
      const row = read.kind === "cdr" ? plausible(read) : read;
      if (row.kind === "reject") {
        reject(row.reason);
        continue;
      }
      if (!seen.add(row.cdr.key)) {
        reject("DUPLICATE");
        continue;
      }
      const result = rater.rate(row.cdr);
      if (result.outcome === "unbilled") {
        unbilled++;
        continue;
      }
      if (result.outcome === "rejected") {
        reject(result.reason);
        continue;
      }
      rated++;
      const seconds = row.cdr.service === "voice" ? result.billed : 0;
      billedSeconds += seconds;
      amount += result.amount;
      let total = destinations.get(result.destination);
      if (!total) {
        total = { destination: result.destination, records: 0, billedSeconds: 0, amount: 0n };
        destinations.set(result.destination, total);
      }
      total.records++;
      total.billedSeconds += seconds;
      total.amount += result.amount;
    }
  }
  const byDestination = [...destinations.values()].sort((a, b) =>
    a.destination < b.destination ? -1 : a.destination > b.destination ? 1 : 0,
  );
  return { records, rated, unbilled, rejected, billedSeconds, amount, byDestination };
}
