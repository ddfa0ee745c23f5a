import fs from "node:fs";
import path from "node:path";
import { InputError } from "../../errors";
import { listRejectCounts } from "../../db/stats";
import { sniffFile } from "../../ingest/sniff";
import { FORMATS, FORMAT_IDS, findFormat } from "../../mediation/formats/registry";
import { openRemoteSource } from "../../ingest/remote-source";
import {
  DATA_DIR_OPTION,
  JSON_OPTION,
  UsageError,
  parseFormat,
  requiredOption,
  stringOption,
  type CliIo,
  type Command,
  type ParsedCommandArgs,
} from "../command";
import { progressReporter, table, toJson } from "../format";
import { withNode } from "../node-context";

/** The files to ingest: the paths given, with directories walked when `recursive` (sorted, hidden files skipped). */
export function expandPaths(paths: readonly string[], recursive: boolean): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name.startsWith(".")) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) files.push(full);
    }
  };
  for (const given of paths) {
    const stat = fs.statSync(given, { throwIfNoEntry: false });
    if (stat === undefined) throw new InputError("no such file or directory", { file: given });
    if (stat.isDirectory()) {
      if (!recursive)
        throw new InputError("is a directory (give --recursive to ingest every file in it)", { file: given });
      walk(given);
    } else if (stat.isFile()) files.push(given);
    else throw new InputError("is not a regular file", { file: given });
  }
  return files;
}

const FORMAT_HELP = FORMATS.map((f) => `  ${f.id.padEnd(16)} ${f.label}`).join("\n");

export const ingestCommand: Command = {
  words: ["ingest"],
  args: "FILES…",
  summary: "Mediate, rate and store CDR files.",
  description:
    "Every record ends up rated, unbilled or rejected with a reason; the counts are stored per file. A file is\n" +
    "known by its content: ingesting it again does nothing. An interrupted ingest (crash, kill, a database that\n" +
    "went away) is marked incomplete and resumes after the last stored batch when run again, with exactly the\n" +
    "totals of a clean run. Exit 65 when every row of a file was rejected (what the file looks like is shown).\n\n" +
    `Formats:\n${FORMAT_HELP}`,
  options: {
    ...DATA_DIR_OPTION,
    format: {
      type: "string",
      valueName: "FORMAT",
      description: `CDR format: ${FORMAT_IDS.join(", ")} (required)`,
    },
    recursive: { type: "boolean", description: "ingest every file under the directories given" },
    from: {
      type: "string",
      valueName: "URL",
      description: "read a source instead of files: nats://HOST:PORT (JetStream) or postgres://… (a table)",
    },
    stream: { type: "string", valueName: "NAME", description: "with --from nats://: the JetStream stream" },
    subject: {
      type: "string",
      valueName: "SUBJECT",
      description: "with --from nats://: the subject to consume",
    },
    durable: {
      type: "string",
      valueName: "NAME",
      description: "with --from nats://: the durable consumer (default icl-<format>)",
    },
    table: { type: "string", valueName: "NAME", description: "with --from postgres://: the table to read" },
    "id-column": {
      type: "string",
      valueName: "COLUMN",
      description: "with --from postgres://: the increasing id to resume by (default id)",
    },
    drain: {
      type: "boolean",
      description: "with --from: stop once nothing new arrives (a stream: 2 s without a message)",
    },
    ...JSON_OPTION,
  },
  positionals: { min: 0, max: Infinity },
  async run(args, io) {
    const format = parseFormat(requiredOption(args, "format"));
    const from = stringOption(args, "from");
    if (from !== undefined) return ingestFrom(args, io, from, format);
    if (args.positionals.length === 0) throw new UsageError("give FILES… or --from URL");
    const files = expandPaths(args.positionals, args.values.recursive === true);
    if (files.length === 0) throw new InputError("no files to ingest", { file: args.positionals.join(" ") });
    const results = await withNode(args, io, async (node) => {
      const done = [];
      for (const file of files) {
        const progress = progressReporter(io.stderr, file);
        const result = await node.ingest(file, format, (p) =>
          progress.update(p.bytesRead, p.byteSize, p.records),
        );
        progress.done();
        const reasons = await listRejectCounts(node.db, result.file.id);
        done.push({ path: file, ...result, reasons });
      }
      return done;
    });
    // A file none of whose rows could be taken (other than re-sent duplicates) is bad input.
    const refused = results.filter(
      (r) =>
        !r.alreadyIngested &&
        r.file.records > 0n &&
        r.file.rated + r.file.unbilled === 0n &&
        Object.entries(r.reasons).some(([reason, n]) => reason !== "DUPLICATE" && n > 0n),
    );
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
            rejectedByReason: r.reasons,
            late: r.run.late,
          })),
        }),
      );
    } else {
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
            [
              r.alreadyIngested
                ? "already ingested"
                : r.resumedAfterLine > 0
                  ? `resumed after line ${r.resumedAfterLine}`
                  : "",
              r.run.late > 0 ? `${r.run.late} late` : "",
            ]
              .filter(Boolean)
              .join("; "),
          ]),
        ),
      );
    }
    if (refused.length === 0) return 0;
    for (const r of refused) {
      const reasons = Object.entries(r.reasons)
        .filter(([, n]) => n > 0n)
        .map(([reason, n]) => `${reason} ${n}`)
        .join(", ");
      io.stderr.write(
        `icl ingest: ${r.path}: every row was rejected (${reasons}): ${sniffFile(r.path).description}\n` +
          `  see: icl rejects list --file ${r.file.id}\n`,
      );
    }
    return 65;
  },
};

/** `icl ingest --from URL`: one table or stream, until drained or Ctrl-C. */
async function ingestFrom(args: ParsedCommandArgs, io: CliIo, url: string, format: string): Promise<number> {
  if (args.positionals.length > 0) throw new UsageError("give either FILES… or --from URL, not both");
  const source = openRemoteSource({
    url,
    format: findFormat(format)!,
    stream: stringOption(args, "stream"),
    subject: stringOption(args, "subject"),
    durable: stringOption(args, "durable"),
    table: stringOption(args, "table"),
    idColumn: stringOption(args, "id-column"),
    drain: args.values.drain === true,
  });
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    const result = await withNode(args, io, (node) =>
      node.ingestSource(source, {
        signal: controller.signal,
        onProgress: (p) => {
          if (io.stderr.isTTY) io.stderr.write(`\r${source.name}: ${p.records} records`);
        },
      }),
    );
    if (io.stderr.isTTY) io.stderr.write("\n");
    const { file, run } = result;
    if (args.values.json) {
      io.stdout.write(
        toJson({
          source: source.location,
          id: file.id,
          status: file.status,
          run,
          records: file.records,
          rated: file.rated,
          unbilled: file.unbilled,
          rejected: file.rejected,
        }),
      );
    } else {
      io.stdout.write(
        `${source.location}: ${run.records} new records = ${run.rated} rated + ${run.unbilled} unbilled + ` +
          `${run.rejected} rejected${run.redelivered > 0 ? ` (${run.redelivered} redelivered, not counted twice)` : ""}` +
          `${run.late > 0 ? `; ${run.late} late` : ""}\n` +
          `  in all: ${file.records} records = ${file.rated} rated + ${file.unbilled} unbilled + ${file.rejected} rejected\n`,
      );
    }
    return 0;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}
