import { listRejects } from "../../db/ingest-store";
import { cdrStats } from "../../db/stats";
import type { RejectReason } from "../../mediation/types";
import { formatMicros } from "../../money/decimal";
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

const REASONS: readonly RejectReason[] = ["INVALID", "DUPLICATE", "NO_RATE", "UNKNOWN_PARTNER"];

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
          rejects.map((r) => [r.fileName, r.line, r.reason, r.field ?? "", r.message, r.raw.slice(0, 60)]),
        ),
      );
    return 0;
  },
};
