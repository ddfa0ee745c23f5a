import fs from "node:fs";
import path from "node:path";
import { CONFIG_FILE, loadConfig, parseConfig, resolveDataDir, writeConfig } from "../../config/config";
import { DATA_DIR_OPTION, JSON_OPTION, stringOption, type Command } from "../command";
import { toJson } from "../format";
import { withNode } from "../node-context";

export const initCommand: Command = {
  words: ["init"],
  summary: "Create the node's data directory and config file and set up its database.",
  description:
    "Writes <data-dir>/config.json and applies the database migrations. Run again on an existing node, it sets\n" +
    "the keys given as flags, keeps the others, and applies any new migrations.",
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
    "ipfs-api": {
      type: "string",
      valueName: "URL",
      description: "Kubo RPC API for evidence (default: the local store under the data dir)",
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
    // Flags given on the command line set those keys; an existing config keeps every other key.
    const current = created ? {} : (loadConfig(dataDir, {}).config as Record<string, unknown>);
    const section = (name: string) => ({ ...((current[name] as Record<string, unknown> | undefined) ?? {}) });
    const database = section("database");
    const mediation = section("mediation");
    const numbering = section("numbering");
    const set = (target: Record<string, unknown>, key: string, value: unknown) => {
      if (value !== undefined) target[key] = value;
    };
    set(database, "url", stringOption(args, "database-url"));
    set(database, "schema", stringOption(args, "database-schema"));
    set(mediation, "timeZone", stringOption(args, "time-zone"));
    set(mediation, "useGmtTime", args.values.gmt === true ? true : undefined);
    set(numbering, "countryCode", stringOption(args, "country-code"));
    set(numbering, "nationalPrefix", stringOption(args, "national-prefix"));
    set(numbering, "internationalPrefix", stringOption(args, "international-prefix"));
    const ipfs = section("ipfs");
    set(ipfs, "apiUrl", stringOption(args, "ipfs-api"));
    // The sections init does not manage (chain, peer, watch, gateway, fx, …) stay as the file has them.
    const untouched = created
      ? {}
      : (JSON.parse(fs.readFileSync(configPath, "utf8")) as Record<string, unknown>);
    const config = { ...untouched, database, mediation, ipfs, numbering };
    parseConfig(config, configPath);
    writeConfig(dataDir, config, { overwrite: true });
    const kind = await withNode(args, io, async (node) => node.db.kind);
    if (args.values.json)
      io.stdout.write(toJson({ dataDir, config: configPath, created, database: kind, settings: config }));
    else {
      io.stdout.write(`${created ? "Created" : "Updated"} ${configPath}\n`);
      io.stdout.write(
        `Database: ${kind === "pglite" ? `PGlite in ${path.join(dataDir, "db")}` : "PostgreSQL"} (migrated)\n`,
      );
    }
    return 0;
  },
};
