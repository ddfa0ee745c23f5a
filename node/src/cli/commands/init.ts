import fs from "node:fs";
import path from "node:path";
import { CONFIG_FILE, resolveDataDir, writeConfig } from "../../config/config";
import { DATA_DIR_OPTION, JSON_OPTION, stringOption, type Command } from "../command";
import { toJson } from "../format";
import { withNode } from "../node-context";

export const initCommand: Command = {
  words: ["init"],
  summary: "Create the node's data directory and config file and set up its database.",
  description:
    "Writes <data-dir>/config.json (unless it exists) and applies the database migrations. Run it once per node;\n" +
    "running it again only applies migrations.",
  options: {
    ...DATA_DIR_OPTION,
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
    "time-zone": {
      type: "string",
      valueName: "ZONE",
      description: "IANA zone of the switches' local timestamps (default UTC)",
    },
    gmt: { type: "boolean", description: "switch timestamps are UTC (Asterisk usegmtime)" },
    "database-url": {
      type: "string",
      valueName: "URL",
      description: "use PostgreSQL at URL instead of embedded PGlite",
    },
    "database-schema": {
      type: "string",
      valueName: "NAME",
      description: "PostgreSQL schema for this node's tables",
    },
    ...JSON_OPTION,
  },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const dataDir = resolveDataDir(stringOption(args, "data-dir"), io.env);
    const configPath = path.join(dataDir, CONFIG_FILE);
    const created = !fs.existsSync(configPath);
    if (created) {
      const database: Record<string, string> = {};
      const url = stringOption(args, "database-url");
      const schema = stringOption(args, "database-schema");
      if (url) database.url = url;
      if (schema) database.schema = schema;
      writeConfig(dataDir, {
        database,
        mediation: {
          timeZone: stringOption(args, "time-zone") ?? "UTC",
          useGmtTime: args.values.gmt === true,
        },
        numbering: {
          countryCode: stringOption(args, "country-code") ?? "1",
          nationalPrefix: stringOption(args, "national-prefix") ?? "0",
          internationalPrefix: stringOption(args, "international-prefix") ?? "00",
        },
      });
    }
    const database = await withNode(args, io, async (node) => node.db.kind);
    if (args.values.json) io.stdout.write(toJson({ dataDir, config: configPath, created, database }));
    else {
      io.stdout.write(`${created ? "Created" : "Found"} ${configPath}\n`);
      io.stdout.write(
        `Database: ${database === "pglite" ? `PGlite in ${path.join(dataDir, "db")}` : "PostgreSQL"} (migrated)\n`,
      );
    }
    return 0;
  },
};
