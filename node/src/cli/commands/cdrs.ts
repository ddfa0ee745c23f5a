import { listRejects } from "../../db/ingest-store";
import { cdrStats } from "../../db/stats";
import { REJECT_REASONS } from "../../mediation/types";
import { formatMicros } from "../../money/decimal";
import { requirePartner } from "../../db/partners";
import { parseIsoToUtcMs } from "../../mediation/time";
import { rerate } from "../../rating/rerate";
import { DATA_DIR_OPTION, JSON_OPTION, UsageError, stringOption, type Command } from "../command";
import { table, toJson } from "../format";
import { withNode } from "../node-context";

export const cdrsStatsCommand: Command = {
  words: ["cdrs", "stats"],
  summary:
    "Counts by outcome and reject reason; billed seconds and amounts by partner, direction and destination.",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const stats = await withNode(args, io, (node) => cdrStats(node.db));
    if (args.values.json) {
      io.stdout.write(
        toJson({
          files: stats.files,
          records: stats.records,
          rated: stats.rated,
          unbilled: stats.unbilled,
          rejected: stats.rejectedByReason,
          rejected_total: stats.rejected,
          implausible_by_rule: stats.implausibleByRule,
          warnings_by_rule: stats.warningsByRule,
          late: stats.late.map((row) => ({
            partner: row.partner,
            period: row.period,
            counted_in: row.billPeriod,
            records: row.records,
            amount: formatMicros(row.amount),
          })),
          by_partner: stats.byPartner.map((row) => ({
            partner: row.partner,
            direction: row.direction,
            destination: row.destination,
            records: row.records,
            billed: row.billedSeconds,
            amount: formatMicros(row.amount),
          })),
        }),
      );
      return 0;
    }
    io.stdout.write(
      `${stats.files} file(s): ${stats.records} records = ${stats.rated} rated + ${stats.unbilled} unbilled + ${stats.rejected} rejected\n`,
    );
    const reasons = Object.entries(stats.rejectedByReason);
    if (reasons.length > 0)
      io.stdout.write(
        "\n" +
          table(
            ["reject reason", "records"],
            reasons.map(([r, n]) => [r, n]),
          ),
      );
    const rules = Object.entries(stats.implausibleByRule);
    if (rules.length > 0)
      io.stdout.write(
        "\n" +
          table(
            ["implausible (rejected) by rule", "records"],
            rules.map(([r, n]) => [r, n]),
          ),
      );
    const warnings = Object.entries(stats.warningsByRule);
    if (warnings.length > 0)
      io.stdout.write(
        "\n" +
          table(
            ["stored with a warning, by rule", "records"],
            warnings.map(([r, n]) => [r, n]),
          ),
      );
    if (stats.late.length > 0) {
      io.stdout.write(
        "\nLate: stored after their period's summary was committed; never added to that summary.\n" +
          table(
            ["partner", "period", "counted in", "records", "amount"],
            stats.late.map((row) => [
              row.partner,
              formatPeriodNumber(row.period),
              row.billPeriod === null ? "a correction round" : formatPeriodNumber(row.billPeriod),
              row.records,
              formatMicros(row.amount),
            ]),
          ),
      );
    }
    if (stats.byPartner.length > 0) {
      io.stdout.write(
        "\n" +
          table(
            ["partner", "direction", "destination", "records", "billed", "amount"],
            stats.byPartner.map((row) => [
              row.partner,
              row.direction,
              row.destination,
              row.records,
              row.billedSeconds,
              formatMicros(row.amount),
            ]),
          ),
      );
    }
    return 0;
  },
};

const REASONS = REJECT_REASONS;

/** 203001 → 2030-01. */
function formatPeriodNumber(period: number): string {
  return `${Math.floor(period / 100)}-${String(period % 100).padStart(2, "0")}`;
}

export const rejectsListCommand: Command = {
  words: ["rejects", "list"],
  summary: "List rejected rows with file, line, reason, field and the raw text.",
  options: {
    ...DATA_DIR_OPTION,
    file: { type: "string", valueName: "ID", description: "only this ingested file (id from icl ingest)" },
    reason: { type: "string", valueName: "REASON", description: REASONS.join(", ") },
    limit: { type: "string", valueName: "N", description: "at most N rows (default 100)" },
    ...JSON_OPTION,
  },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const fileText = stringOption(args, "file");
    const fileId = fileText === undefined ? undefined : Number(fileText);
    if (fileId !== undefined && !Number.isSafeInteger(fileId))
      throw new UsageError("--file must be a file id");
    const reasonText = stringOption(args, "reason");
    const reason = reasonText === undefined ? undefined : REASONS.find((r) => r === reasonText.toUpperCase());
    if (reasonText !== undefined && !reason)
      throw new UsageError(`--reason must be one of ${REASONS.join(", ")}`);
    const limit = Number(stringOption(args, "limit") ?? "100");
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new UsageError("--limit must be a positive whole number");
    const rejects = await withNode(args, io, (node) => listRejects(node.db, { fileId, reason, limit }));
    if (args.values.json) io.stdout.write(toJson({ rejects }));
    else
      io.stdout.write(
        table(
          ["file", "line", "reason", "field", "message", "raw"],
          rejects.map((r) => [
            r.fileName,
            r.line,
            r.reason === "IMPLAUSIBLE" && r.rule ? `IMPLAUSIBLE ${r.rule}` : r.reason,
            r.field ?? "",
            r.message,
            r.raw.slice(0, 60),
          ]),
        ),
      );
    return 0;
  },
};

/** `--from`/`--to` as UTC epoch ms: a date is its whole day (`--to 2030-01-31` includes the 31st). */
function dayBound(text: string | undefined, name: string, end: boolean): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseIsoToUtcMs(text);
  if (ms === null)
    throw new UsageError(`--${name} '${text}' is not a date like 2030-01-31 or an ISO date-time`);
  return end && /^\d{4}-\d{2}-\d{2}$/.test(text) ? ms + 86_400_000 : ms;
}

export const cdrsRerateCommand: Command = {
  words: ["cdrs", "rerate"],
  summary: "Rate stored attempts again against the decks in force (after a late or corrected deck).",
  description:
    "NO_RATE attempts a deck now covers become rated, rated ones get the in-force deck's price, unbilled ones their\n" +
    "destination; every file's counts follow. Idempotent: a second run changes nothing. Periods whose summary was\n" +
    "committed are final: without --from/--to their CDRs are left alone (listed); a range reaching into one is\n" +
    "refused. Prints what changed: counts and amounts by destination.",
  options: {
    ...DATA_DIR_OPTION,
    partner: { type: "string", valueName: "ID", description: "only this partner's attempts" },
    direction: { type: "string", valueName: "in|out", description: "only this direction" },
    from: { type: "string", valueName: "DATE", description: "only attempts starting on or after (UTC)" },
    to: {
      type: "string",
      valueName: "DATE",
      description: "only attempts starting on or before this day (UTC)",
    },
    "dry-run": { type: "boolean", description: "show what would change; store nothing" },
    ...JSON_OPTION,
  },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const direction = stringOption(args, "direction");
    if (direction !== undefined && direction !== "in" && direction !== "out")
      throw new UsageError("--direction must be in or out");
    const filter = {
      partner: stringOption(args, "partner"),
      direction: direction as "in" | "out" | undefined,
      fromMs: dayBound(stringOption(args, "from"), "from", false),
      toMs: dayBound(stringOption(args, "to"), "to", true),
    };
    const report = await withNode(args, io, async (node) => {
      if (filter.partner !== undefined) await requirePartner(node.db, filter.partner);
      return rerate(node.db, filter, { dryRun: args.values["dry-run"] === true });
    });
    if (args.values.json) {
      io.stdout.write(
        toJson({
          dryRun: args.values["dry-run"] === true,
          examined: report.examined,
          changed: report.changed,
          repointed: report.repointed,
          moves: report.moves,
          amountBefore: formatMicros(report.amountBefore),
          amountAfter: formatMicros(report.amountAfter),
          amountDelta: formatMicros(report.amountAfter - report.amountBefore),
          byDestination: report.byDestination.map((line) => ({
            ...line,
            amountBefore: formatMicros(line.amountBefore),
            amountAfter: formatMicros(line.amountAfter),
            amountDelta: formatMicros(line.amountAfter - line.amountBefore),
          })),
          leftAlone: report.leftAlone,
        }),
      );
      return 0;
    }
    const moves = Object.entries(report.moves)
      .map(([move, n]) => `${n} ${move}`)
      .join(", ");
    io.stdout.write(
      `${args.values["dry-run"] === true ? "Would re-rate" : "Re-rated"} ${report.examined} attempts: ${report.changed} changed` +
        `${moves ? ` (${moves})` : ""}; amount ${formatMicros(report.amountBefore)} → ${formatMicros(report.amountAfter)} ` +
        `(${signedMicros(report.amountAfter - report.amountBefore)})` +
        `${report.repointed > 0 ? `; ${report.repointed} priced the same by another deck line, pointed at it` : ""}\n`,
    );
    if (report.byDestination.length > 0) {
      io.stdout.write(
        "\n" +
          table(
            ["partner", "direction", "destination", "changed", "rated before", "rated after", "amount Δ"],
            report.byDestination.map((line) => [
              line.partner,
              line.direction,
              line.destination || "(none)",
              line.changed,
              line.ratedBefore,
              line.ratedAfter,
              signedMicros(line.amountAfter - line.amountBefore),
            ]),
          ),
      );
    }
    if (report.leftAlone.length > 0) {
      io.stdout.write(
        `\nLeft alone (summary committed): ${report.leftAlone.map((p) => `${p.partner} ${formatPeriodNumber(p.period)}`).join(", ")}\n`,
      );
    }
    return 0;
  },
};

function signedMicros(value: bigint): string {
  return (value > 0n ? "+" : "") + formatMicros(value);
}
