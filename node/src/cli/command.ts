import fs from "node:fs";
import type { ParseArgsConfig } from "node:util";
import { BaseError, InputError } from "../errors";
import { FORMAT_IDS, findFormat } from "../mediation/formats/registry";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>[string] & {
  description: string;
  valueName?: string;
};

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export interface ParsedCommandArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/** One `icl` command: its words (`["partners", "add"]`), help text, options and handler. */
export interface Command {
  words: readonly string[];
  summary: string;
  /** Positional arguments as shown in usage, e.g. `FILES…`. */
  args?: string;
  description?: string;
  options: Record<string, OptionSpec>;
  /** Minimum and maximum number of positionals. */
  positionals?: { min: number; max: number };
  run(args: ParsedCommandArgs, io: CliIo): Promise<number>;
}

/** A mistake in how a command was called (unknown flag, missing argument): exit 64 with usage. */
export class UsageError extends BaseError {
  override name = "UsageError";
  /** Whether the command's help follows the message (not when the call was right but unconfirmed). */
  readonly showHelp: boolean;
  constructor(message: string, options: { showHelp?: boolean } = {}) {
    super(message, { code: "USAGE" });
    this.showHelp = options.showHelp ?? true;
  }
}

/** Options every node command takes. */
export const DATA_DIR_OPTION: Record<string, OptionSpec> = {
  "data-dir": {
    type: "string",
    valueName: "DIR",
    description: "node data directory (PGlite files, evidence, keys); default $ICL_DATA_DIR or ./.icl",
  },
};

export const JSON_OPTION: Record<string, OptionSpec> = {
  json: { type: "boolean", description: "print one JSON object for scripts instead of a table" },
};

/** Reads a string option. */
export function stringOption(args: ParsedCommandArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === "string" ? value : undefined;
}

/** Reads a required string option. @throws UsageError when it is missing. */
export function requiredOption(args: ParsedCommandArgs, name: string): string {
  const value = stringOption(args, name);
  if (value === undefined || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

/** @throws UsageError unless `value` names a CDR format of the registry. */
export function parseFormat(value: string): string {
  if (findFormat(value) === undefined) {
    throw new UsageError(`--format must be one of ${FORMAT_IDS.join(", ")}`);
  }
  return value;
}

/** Reads a file for a command. @throws InputError naming the file when it cannot be read. */
export function readInputFile(filePath: string): string {
  try {
    return fs.readFileSync(filePath, "utf8");
  } catch (error) {
    throw new InputError(
      `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      {
        file: filePath,
      },
    );
  }
}

/** Reads a repeatable string option. */
export function listOption(args: ParsedCommandArgs, name: string): string[] {
  const value = args.values[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** Help text of one command. */
export function commandHelp(command: Command): string {
  const lines = [
    `Usage: icl ${command.words.join(" ")}${command.args ? " " + command.args : ""} [options]`,
    "",
    command.summary,
  ];
  if (command.description) lines.push("", command.description);
  const entries = Object.entries(command.options);
  lines.push("", "Options:");
  for (const [name, spec] of entries) {
    const flag = `--${name}${spec.type === "string" ? " " + (spec.valueName ?? "VALUE") : ""}${spec.multiple ? " (repeatable)" : ""}`;
    lines.push(`  ${flag.padEnd(34)} ${spec.description}`);
  }
  lines.push(`  ${"--help".padEnd(34)} show this help`);
  return lines.join("\n") + "\n";
}
