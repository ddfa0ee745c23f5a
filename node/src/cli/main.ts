import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { BaseError, InputError, NotFoundError, UnavailableError } from "../errors";
import { MIGRATIONS } from "../db/migrate";
import { FORMAT_IDS } from "../mediation/formats/registry";
import { UsageError, commandHelp, type CliIo, type Command } from "./command";
/**
 * Every command of `icl`, in the order `icl --help` lists them. Each module is loaded only when its
 * command runs: `icl rate` must not pay for loading the chain client, which costs a tenth of a second.
 */
export const COMMANDS: readonly { words: readonly string[]; load(): Promise<Command> }[] = [
  { words: ["demo"], load: async () => (await import("./commands/demo")).demoCommand },
  { words: ["init"], load: async () => (await import("./commands/init")).initCommand },
  { words: ["partners", "add"], load: async () => (await import("./commands/partners")).partnersAddCommand },
  {
    words: ["partners", "list"],
    load: async () => (await import("./commands/partners")).partnersListCommand,
  },
  {
    words: ["tariffs", "import"],
    load: async () => (await import("./commands/tariffs")).tariffsImportCommand,
  },
  { words: ["tariffs", "check"], load: async () => (await import("./commands/tariffs")).tariffsCheckCommand },
  { words: ["tariffs", "list"], load: async () => (await import("./commands/tariffs")).tariffsListCommand },
  { words: ["ingest"], load: async () => (await import("./commands/ingest")).ingestCommand },
  { words: ["cdrs", "stats"], load: async () => (await import("./commands/cdrs")).cdrsStatsCommand },
  { words: ["cdrs", "rerate"], load: async () => (await import("./commands/cdrs")).cdrsRerateCommand },
  {
    words: ["cdrs", "partitions"],
    load: async () => (await import("./commands/cdr-archive")).cdrsPartitionsCommand,
  },
  {
    words: ["cdrs", "archive"],
    load: async () => (await import("./commands/cdr-archive")).cdrsArchiveCommand,
  },
  { words: ["rejects", "list"], load: async () => (await import("./commands/cdrs")).rejectsListCommand },
  { words: ["files", "list"], load: async () => (await import("./commands/files")).filesListCommand },
  { words: ["files", "discard"], load: async () => (await import("./commands/files")).filesDiscardCommand },
  { words: ["rate"], load: async () => (await import("./commands/rate")).rateCommand },
  {
    words: ["agreements", "add"],
    load: async () => (await import("./commands/agreements")).agreementsAddCommand,
  },
  {
    words: ["agreements", "list"],
    load: async () => (await import("./commands/agreements")).agreementsListCommand,
  },
  {
    words: ["agreements", "set-peer"],
    load: async () => (await import("./commands/agreements")).agreementsSetPeerCommand,
  },
  { words: ["period", "close"], load: async () => (await import("./commands/period")).periodCloseCommand },
  { words: ["period", "reveal"], load: async () => (await import("./commands/period")).periodRevealCommand },
  { words: ["period", "report"], load: async () => (await import("./commands/period")).periodReportCommand },
  { words: ["period", "show"], load: async () => (await import("./commands/periods")).periodShowCommand },
  {
    words: ["period", "export"],
    load: async () => (await import("./commands/period-export")).periodExportCommand,
  },
  { words: ["periods", "list"], load: async () => (await import("./commands/periods")).periodsListCommand },
  { words: ["run"], load: async () => (await import("./commands/run")).runCommand },
  { words: ["alerts"], load: async () => (await import("./commands/alerts")).alertsCommand },
  {
    words: ["officer", "approve"],
    load: async () => (await import("./commands/officer")).officerApproveCommand,
  },
  { words: ["dispute", "open"], load: async () => (await import("./commands/dispute")).disputeCommands.open },
  {
    words: ["dispute", "propose"],
    load: async () => (await import("./commands/dispute")).disputeCommands.propose,
  },
  {
    words: ["dispute", "counter"],
    load: async () => (await import("./commands/dispute")).disputeCommands.counter,
  },
  {
    words: ["dispute", "accept"],
    load: async () => (await import("./commands/dispute")).disputeCommands.accept,
  },
  {
    words: ["dispute", "escalate"],
    load: async () => (await import("./commands/dispute")).disputeCommands.escalate,
  },
  {
    words: ["dispute", "withdraw"],
    load: async () => (await import("./commands/dispute")).disputeCommands.withdraw,
  },
  { words: ["arbiter", "rule"], load: async () => (await import("./commands/dispute")).arbiterRuleCommand },
  { words: ["settle"], load: async () => (await import("./commands/settle")).settleCommand },
  {
    words: ["escrow", "balance"],
    load: async () => (await import("./commands/escrow")).escrowBalanceCommand,
  },
  {
    words: ["escrow", "deposit"],
    load: async () => (await import("./commands/escrow")).escrowDepositCommand,
  },
  {
    words: ["escrow", "withdraw"],
    load: async () => (await import("./commands/escrow")).escrowWithdrawCommand,
  },
  { words: ["audit", "verify"], load: async () => (await import("./commands/audit")).auditVerifyCommand },
  { words: ["audit", "report"], load: async () => (await import("./commands/audit")).auditReportCommand },
];

/** Exit codes (sysexits.h): usage 64, bad input 65, not found 66, dependency unavailable 69, other failures 1. */
export const EXIT = { ok: 0, failure: 1, usage: 64, dataError: 65, notFound: 66, unavailable: 69 } as const;

async function overview(): Promise<string> {
  const commands = await Promise.all(COMMANDS.map((entry) => entry.load()));
  const width = Math.max(...commands.map((c) => c.words.join(" ").length + (c.args ? c.args.length + 1 : 0)));
  return [
    "icl — Interconnect Ledger carrier node",
    "",
    "Usage: icl <command> [options]      (icl <command> --help for its options)",
    "",
    ...commands.map(
      (c) => `  ${(c.words.join(" ") + (c.args ? " " + c.args : "")).padEnd(width)}  ${c.summary}`,
    ),
    "",
    "Environment: ICL_DATA_DIR (data directory, default ./.icl), DATABASE_URL (use PostgreSQL instead of PGlite).",
    "",
    "Getting started:",
    "  $ icl init --country-code 44 --time-zone Europe/London     a node in ./.icl (PGlite), or --database-url",
    "  $ icl partners add GLOBEX --match out:trunk=^globex$       who your switch hands calls to",
    "  $ icl tariffs import deck.csv --partner GLOBEX --direction out",
    `  $ icl ingest Master.csv --format asterisk                  formats: ${FORMAT_IDS.join(", ")}`,
    "  $ icl cdrs stats                                           what was rated, unbilled, rejected",
    "",
  ].join("\n");
}

/** `icl --version`: the node's version, the database schema it writes and what it reads. */
function versionText(): string {
  // The package root is three levels up from the sources and four from dist/.
  let version = "unknown";
  for (const up of ["../../..", "../../../.."]) {
    const file = path.join(__dirname, up, "package.json");
    if (!fs.existsSync(file)) continue;
    const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version?: string };
    if (pkg.name === "interconnect-ledger") {
      version = pkg.version ?? version;
      break;
    }
  }
  const schema = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
  return (
    `icl ${version} (Interconnect Ledger node)\n` +
    `database schema ${schema}; CDR formats ${FORMAT_IDS.join(", ")}; Node.js ${process.versions.node}\n`
  );
}

/**
 * Runs `icl` with `argv` (without the node and script paths) and resolves to the exit code. Errors
 * are printed to stderr as one clear message (file, line and field where known); no stack traces.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  const firstOption = argv.findIndex((arg) => arg.startsWith("-"));
  const words = firstOption < 0 ? [...argv] : argv.slice(0, firstOption);
  const entry = [...COMMANDS]
    .sort((a, b) => b.words.length - a.words.length)
    .find((c) => c.words.every((word, i) => words[i] === word));
  if (!entry) {
    if (argv[0] === "--version" || argv[0] === "-V" || argv[0] === "version") {
      io.stdout.write(versionText());
      return EXIT.ok;
    }
    if (argv.length === 0 || argv.includes("--help") || argv.includes("-h") || argv[0] === "help") {
      io.stdout.write(await overview());
      return argv.length === 0 ? EXIT.usage : EXIT.ok;
    }
    io.stderr.write(`icl: unknown command '${words.join(" ")}'\n\n${await overview()}`);
    return EXIT.usage;
  }
  const command = await entry.load();
  const rest = [...argv];
  for (const word of command.words) rest.splice(rest.indexOf(word), 1);
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout.write(commandHelp(command));
    return EXIT.ok;
  }
  try {
    const options = Object.fromEntries(
      Object.entries(command.options).map(([name, spec]) => [
        name,
        spec.multiple ? { type: spec.type, multiple: true } : { type: spec.type },
      ]),
    );
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ""));
    }
    const { min, max } = command.positionals ?? { min: 0, max: 0 };
    if (parsed.positionals.length < min || parsed.positionals.length > max) {
      throw new UsageError(
        min === max && min === 0
          ? `takes no arguments, got '${parsed.positionals.join(" ")}'`
          : `expects ${command.args ?? "arguments"}${parsed.positionals.length > max ? `, got extra '${parsed.positionals.slice(max).join(" ")}'` : ""}`,
      );
    }
    return await command.run({ values: parsed.values, positionals: parsed.positionals }, io);
  } catch (error) {
    return reportError(command, error, io);
  }
}

function reportError(command: Command, error: unknown, io: CliIo): number {
  const name = `icl ${command.words.join(" ")}`;
  if (error instanceof UsageError) {
    io.stderr.write(`${name}: ${error.shortMessage}\n${error.showHelp ? `\n${commandHelp(command)}` : ""}`);
    return EXIT.usage;
  }
  if (error instanceof BaseError) {
    io.stderr.write(`${name}: ${error.shortMessage}\n${error.details ? error.details + "\n" : ""}`);
    if (error instanceof InputError) return EXIT.dataError;
    if (error instanceof NotFoundError) return EXIT.notFound;
    if (error instanceof UnavailableError) return EXIT.unavailable;
    return EXIT.failure;
  }
  io.stderr.write(`${name}: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
  if (io.env.ICL_DEBUG && error instanceof Error) io.stderr.write(`${error.stack}\n`);
  return EXIT.failure;
}
