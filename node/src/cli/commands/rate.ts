import fs from "node:fs";
import os from "node:os";
import { InputError } from "../../errors";
import { FORMAT_IDS, formatById } from "../../mediation/formats/registry";
import type { MatchRule } from "../../mediation/types";
import { formatMicros } from "../../money/decimal";
import { rateFileParallel } from "../../rating/parallel-rate";
import { rateStream, type RateSummary } from "../../rating/rate-stream";
import { Rater } from "../../rating/rater";
import { loadTariffDeck } from "../../rating/tariff-deck";
import { isValidTimeZone } from "../../rating/time-band";
import {
  JSON_OPTION,
  UsageError,
  listOption,
  parseFormat,
  readInputFile,
  requiredOption,
  stringOption,
  type Command,
  type OptionSpec,
} from "../command";
import { table } from "../format";
import { parseMatchSpec } from "../match-spec";

export const MEDIATION_OPTIONS: Record<string, OptionSpec> = {
  "time-zone": {
    type: "string",
    valueName: "ZONE",
    description: "IANA zone of switch timestamps (default UTC)",
  },
  gmt: { type: "boolean", description: "switch timestamps are UTC (Asterisk usegmtime)" },
  legs: {
    type: "string",
    valueName: "a|b|ab",
    description: "FreeSWITCH: the legs the switch writes (default a; ab: a call bills once, on its A-leg)",
  },
  "country-code": {
    type: "string",
    valueName: "CC",
    description: "country code for national numbers (default 1)",
  },
  "national-prefix": {
    type: "string",
    valueName: "DIGITS",
    description: "national trunk prefix (default 0)",
  },
  "international-prefix": {
    type: "string",
    valueName: "DIGITS",
    description: "international prefix (default 00)",
  },
};

/** Files from this size on are rated on worker threads (one per core, at most 4); ICL_RATE_THREADS=1 turns it off. */
const PARALLEL_MIN_BYTES = 8 << 20;

/** The rejects by reason, in reason order: the same on one thread and on several. */
function rejectsByReason(summary: RateSummary): [string, number][] {
  return Object.entries(summary.rejected)
    .map(([reason, n]): [string, number] => [reason, n ?? 0])
    .sort(([a], [b]) => (a < b ? -1 : 1));
}

/** Rating result as the one JSON object `icl rate --json` prints. */
export function rateSummaryJson(summary: RateSummary) {
  return {
    records: summary.records,
    rated: summary.rated,
    unbilled: summary.unbilled,
    rejected: Object.fromEntries(rejectsByReason(summary)),
    billed_seconds: summary.billedSeconds,
    amount: formatMicros(summary.amount),
    by_destination: summary.byDestination.map((d) => ({
      destination: d.destination,
      records: d.records,
      billed_seconds: d.billedSeconds,
      amount: formatMicros(d.amount),
    })),
  };
}

/** Human-readable rating summary. */
export function rateSummaryText(file: string, summary: RateSummary): string {
  const rejected = rejectsByReason(summary)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(", ");
  const total =
    summary.rated + summary.unbilled + Object.values(summary.rejected).reduce((a, b) => a + (b ?? 0), 0);
  return (
    `${file}: ${summary.records} records = ${summary.rated} rated + ${summary.unbilled} unbilled + ` +
    `${total - summary.rated - summary.unbilled} rejected${rejected ? ` (${rejected})` : ""}\n\n` +
    table(
      ["destination", "records", "billed seconds", "amount"],
      [
        ...summary.byDestination.map((d) => [
          d.destination,
          d.records,
          d.billedSeconds,
          formatMicros(d.amount),
        ]),
        ["TOTAL", summary.rated, summary.billedSeconds, formatMicros(summary.amount)],
      ],
    )
  );
}

export const rateCommand: Command = {
  words: ["rate"],
  args: "CDRS.csv",
  summary: "Rate a CDR file against a tariff deck with no database (dry run).",
  description:
    "Prints counts (rated, unbilled, rejected by reason), billed voice seconds and the amount per destination.\n" +
    "For switch formats, --match PARTNER:DIRECTION:FIELD=REGEX assigns rows to partners; without it every row is\n" +
    "taken as outgoing traffic to partner '-'. Rows are held to the default plausibility rules (as an ingest\n" +
    "without overrides would): an implausible one is counted as rejected IMPLAUSIBLE.",
  options: {
    tariff: { type: "string", valueName: "DECK.csv", description: "tariff deck (required)" },
    format: {
      type: "string",
      valueName: "FORMAT",
      description: `${FORMAT_IDS.join(", ")} (default icl-csv)`,
    },
    match: {
      type: "string",
      multiple: true,
      valueName: "P:DIR:FIELD=REGEX",
      description: "match rule for switch formats",
    },
    ...MEDIATION_OPTIONS,
    ...JSON_OPTION,
  },
  positionals: { min: 1, max: 1 },
  async run(args, io) {
    const file = args.positionals[0]!;
    const format = parseFormat(stringOption(args, "format") ?? "icl-csv");
    const deckFile = requiredOption(args, "tariff");
    const deckText = readInputFile(deckFile);
    const rows = loadTariffDeck(deckText, deckFile);
    let matchRules: MatchRule[] = listOption(args, "match").map((spec) => parseMatchSpec(spec, null));
    const descriptor = formatById(format);
    if (matchRules.length === 0 && !descriptor.partnerFromRow) {
      // A catch-all on a field every row of the format has.
      matchRules = [{ partner: "-", direction: "out", field: descriptor.catchAllField, pattern: "" }];
    }
    const options = mediationFlags(args);
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (stat === undefined) throw new InputError("no such file", { file });
    if (!stat.isFile())
      throw new InputError(stat.isDirectory() ? "is a directory" : "is not a regular file", { file });
    const mediation = { ...options, fileName: file, matchRules };
    const cores = os.availableParallelism();
    const parallel =
      cores > 1 && fs.statSync(file).size >= PARALLEL_MIN_BYTES && io.env.ICL_RATE_THREADS !== "1"
        ? await rateFileParallel(
            file,
            format,
            mediation,
            { text: deckText, file: deckFile, rows },
            Math.min(cores, 4),
          )
        : null;
    const summary =
      parallel ??
      (await rateStream(
        fs.createReadStream(file, { highWaterMark: 1 << 20 }),
        format,
        mediation,
        new Rater(rows),
      ));
    io.stdout.write(
      args.values.json ? JSON.stringify(rateSummaryJson(summary)) + "\n" : rateSummaryText(file, summary),
    );
    return 0;
  },
};

/** Mediation settings from flags. @throws UsageError for an unknown zone or a malformed prefix. */
export function mediationFlags(args: Parameters<Command["run"]>[0]) {
  const timeZone = stringOption(args, "time-zone") ?? "UTC";
  if (!isValidTimeZone(timeZone)) throw new UsageError(`--time-zone '${timeZone}' is not an IANA time zone`);
  const numbering = {
    countryCode: stringOption(args, "country-code") ?? "1",
    nationalPrefix: stringOption(args, "national-prefix") ?? "0",
    internationalPrefix: stringOption(args, "international-prefix") ?? "00",
  };
  if (!/^\d{1,3}$/.test(numbering.countryCode)) throw new UsageError("--country-code must be 1–3 digits");
  if (!/^\d{0,3}$/.test(numbering.nationalPrefix))
    throw new UsageError("--national-prefix must be 0–3 digits");
  if (!/^\d{1,4}$/.test(numbering.internationalPrefix))
    throw new UsageError("--international-prefix must be 1–4 digits");
  const legs = stringOption(args, "legs") ?? "a";
  if (legs !== "a" && legs !== "b" && legs !== "ab") throw new UsageError("--legs must be a, b or ab");
  return {
    timeZone,
    useGmtTime: args.values.gmt === true,
    numbering,
    freeswitch: { legs: legs as "a" | "b" | "ab" },
  };
}
