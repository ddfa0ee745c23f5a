import path from "node:path";
import { listCdrArchives } from "../../db/cdr-archive";
import { listCdrPartitions } from "../../db/cdr-partitions";
import { NotFoundError } from "../../errors";
import { formatPeriod } from "../../reconciliation/reveal";
import { archiveSettledMonth } from "../../services/cdr-archive";
import { openNodeChain } from "../chain-context";
import { DATA_DIR_OPTION, JSON_OPTION, requiredOption, stringOption, type Command } from "../command";
import { table, toJson } from "../format";
import { withNode } from "../node-context";
import { parsePeriod } from "./period";

export const cdrsPartitionsCommand: Command = {
  words: ["cdrs", "partitions"],
  summary: "The months of stored CDRs (one partition each) with their counts, and the months archived.",
  description:
    "The CDR table is partitioned by UTC month of the call's start (cdrs_pYYYYMM, created as CDRs arrive).\n" +
    "Archived months show their file, row count and SHA-256 (icl cdrs archive).",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const { partitions, archives } = await withNode(args, io, async (node) => ({
      partitions: await listCdrPartitions(node.db),
      archives: await listCdrArchives(node.db),
    }));
    if (args.values.json) {
      io.stdout.write(
        toJson({
          partitions: partitions.map((p) => ({ period: formatPeriod(p.period), records: p.records })),
          archives: archives.map((a) => ({ ...a, period: formatPeriod(a.period) })),
        }),
      );
      return 0;
    }
    if (partitions.length + archives.length === 0) {
      io.stdout.write("No CDRs stored yet.\n");
      return 0;
    }
    io.stdout.write(
      table(
        ["month", "records", "archived to"],
        [
          ...partitions.map((p) => [formatPeriod(p.period), String(p.records), ""]),
          ...archives.map((a) => [
            formatPeriod(a.period),
            String(a.records),
            `${a.file} (sha256 ${a.sha256})`,
          ]),
        ].sort((x, y) => x[0]!.localeCompare(y[0]!)),
      ),
    );
    return 0;
  },
};

export const cdrsArchiveCommand: Command = {
  words: ["cdrs", "archive"],
  summary: "Detach a settled month's CDR partition, write it to a gzipped CSV file and drop it.",
  description:
    "Refused (exit 1, each partner named) until every partner with CDRs in the month has its period closed\n" +
    "and Settled (or Void) on the ledger. Writes <dir>/cdrs-YYYYMM.csv.gz (a header of the column names,\n" +
    "one row per CDR in key order), records its row count and SHA-256, and drops the partition, in one\n" +
    "transaction: a failure leaves the month in place. The month's CDR keys stay, so a re-sent CDR of it is\n" +
    "still rejected as a DUPLICATE. Needs the node's chain settings.",
  options: {
    ...DATA_DIR_OPTION,
    period: { type: "string", valueName: "YYYY-MM", description: "the month, e.g. 2026-10 (required)" },
    to: { type: "string", valueName: "DIR", description: "where the file goes (default <data dir>/archive)" },
    ...JSON_OPTION,
  },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const period = parsePeriod(requiredOption(args, "period"));
    const archive = await withNode(args, io, async (node) => {
      const dir = path.resolve(stringOption(args, "to") ?? path.join(node.config.dataDir, "archive"));
      // Before the chain is asked anything: a month with no CDRs stored is simply not there.
      if (!(await listCdrPartitions(node.db)).some((p) => p.period === period)) {
        throw new NotFoundError(`no CDRs of ${formatPeriod(period)} are stored (icl cdrs partitions)`);
      }
      const { chain } = await openNodeChain(node, io);
      try {
        return await archiveSettledMonth(node.db, chain, period, dir);
      } finally {
        chain.close();
      }
    });
    if (args.values.json) {
      io.stdout.write(toJson({ ...archive, period: formatPeriod(archive.period) }));
    } else {
      io.stdout.write(
        `Archived ${archive.records} CDRs of ${formatPeriod(archive.period)} to ${archive.file} (sha256 ${archive.sha256}); the partition is dropped\n`,
      );
    }
    return 0;
  },
};
