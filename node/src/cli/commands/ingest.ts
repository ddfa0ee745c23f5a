import fs from "node:fs";
import { InputError } from "../../errors";
import { CDR_FORMATS, type CdrFormat } from "../../mediation/types";
import { DATA_DIR_OPTION, JSON_OPTION, UsageError, requiredOption, type Command } from "../command";
import { progressReporter, table, toJson } from "../format";
import { withNode } from "../node-context";

/** @throws UsageError unless `value` names a supported CDR format. */
export function parseFormat(value: string): CdrFormat {
  const format = CDR_FORMATS.find((f) => f === value);
  if (!format) throw new UsageError(`--format must be one of ${CDR_FORMATS.join(", ")}`);
  return format;
}

export const ingestCommand: Command = {
  words: ["ingest"],
  args: "FILES…",
  summary: "Mediate, rate and store CDR files.",
  description:
    "Every record ends up rated, unbilled or rejected with a reason; the counts are stored per file. A file is\n" +
    "known by its content: ingesting it again does nothing. An interrupted ingest (crash, kill) resumes after the\n" +
    "last stored batch when run again, with exactly the totals of a clean run.",
  options: {
    ...DATA_DIR_OPTION,
    format: {
      type: "string",
      valueName: "FORMAT",
      description: `CDR format: ${CDR_FORMATS.join(", ")} (required)`,
    },
    ...JSON_OPTION,
  },
  positionals: { min: 1, max: Infinity },
  async run(args, io) {
    const format = parseFormat(requiredOption(args, "format"));
    for (const file of args.positionals) {
      if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new InputError("no such file", { file });
    }
    const results = await withNode(args, io, async (node) => {
      const done = [];
      for (const file of args.positionals) {
        const progress = progressReporter(io.stderr, file);
        const result = await node.ingest(file, format, (p) =>
          progress.update(p.bytesRead, p.byteSize, p.records),
        );
        progress.done();
        done.push({ path: file, ...result });
      }
      return done;
    });
    if (args.values.json) {
      io.stdout.write(
        toJson({
          files: results.map((r) => ({
            path: r.path,
            id: r.file.id,
            contentHash: r.file.contentHash,
            alreadyIngested: r.alreadyIngested,
            resumedAfterLine: r.resumedAfterLine,
            records: r.file.records,
            rated: r.file.rated,
            unbilled: r.file.unbilled,
            rejected: r.file.rejected,
          })),
        }),
      );
      return 0;
    }
    io.stdout.write(
      table(
        ["file", "id", "records", "rated", "unbilled", "rejected", "note"],
        results.map((r) => [
          r.path,
          r.file.id,
          r.file.records,
          r.file.rated,
          r.file.unbilled,
          r.file.rejected,
          r.alreadyIngested
            ? "already ingested"
            : r.resumedAfterLine > 0
              ? `resumed after line ${r.resumedAfterLine}`
              : "",
        ]),
      ),
    );
    return 0;
  },
};
