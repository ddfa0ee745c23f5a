import { KeySet } from "../mediation/key-set";
import { mediateStream } from "../mediation/mediate";
import type { CdrFormat, MediationOptions, RejectReason } from "../mediation/types";
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
): Promise<RateSummary> {
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
    for (const row of batch) {
      records++;
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
