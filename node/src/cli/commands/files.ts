import { discardIngest, getFile, listFiles } from "../../db/ingest-store";
import { NotFoundError } from "../../errors";
import { DATA_DIR_OPTION, JSON_OPTION, UsageError, type Command } from "../command";
import { confirmAction } from "../confirm";
import { table, toJson } from "../format";
import { withNode } from "../node-context";

export const filesListCommand: Command = {
  words: ["files", "list"],
  summary: "List every ingest (files, tables, streams): status, counts, and why an incomplete one stopped.",
  description:
    "Status: ingesting (running, or stopped abruptly: run icl ingest on it again to resume), incomplete (stopped\n" +
    "with the reason shown), done, live (a table or stream, stored up to its position), discarded. A period is\n" +
    "not closed while an unfinished file may touch it.",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const files = await withNode(args, io, (node) => listFiles(node.db));
    if (args.values.json) {
      io.stdout.write(toJson({ files }));
      return 0;
    }
    io.stdout.write(
      table(
        ["id", "kind", "name", "format", "status", "records", "rated", "unbilled", "rejected", "note"],
        files.map((f) => [
          f.id,
          f.kind,
          f.fileName,
          f.format,
          f.status,
          f.records,
          f.rated,
          f.unbilled,
          f.rejected,
          f.status === "incomplete"
            ? `after line ${f.checkpointLine}: ${f.incompleteReason ?? ""}`.slice(0, 100)
            : f.status === "ingesting"
              ? `after line ${f.checkpointLine}`
              : "",
        ]),
      ),
    );
    return 0;
  },
};

export const filesDiscardCommand: Command = {
  words: ["files", "discard"],
  args: "ID",
  summary: "Set an ingest aside: remove its CDRs and rejects (refused when a committed summary counts them).",
  description:
    "For a file that cannot be finished (it is gone, or was the wrong file): its rows leave the node, the ingest\n" +
    "stays listed as discarded so the same content is not taken again by accident. Asks first unless --yes.",
  options: {
    ...DATA_DIR_OPTION,
    yes: { type: "boolean", description: "do not ask" },
    ...JSON_OPTION,
  },
  positionals: { min: 1, max: 1 },
  async run(args, io) {
    const id = Number(args.positionals[0]);
    if (!Number.isSafeInteger(id) || id < 1) throw new UsageError("ID must be an ingest id (icl files list)");
    const result = await withNode(args, io, async (node) => {
      const file = await getFile(node.db, id);
      if (file === null) throw new NotFoundError(`no ingest ${id}`, "See icl files list.");
      await confirmAction(
        args,
        io,
        `Ingest ${id}: ${file.source ?? file.fileName}, ${file.records} records, ${file.status}. Its CDRs and rejects will be deleted.`,
        { question: "Discard it?", nothing: "nothing was discarded" },
      );
      return discardIngest(node.db, id);
    });
    if (args.values.json) io.stdout.write(toJson({ file: result }));
    else io.stdout.write(`Discarded ingest ${result.id} (${result.fileName})\n`);
    return 0;
  },
};
