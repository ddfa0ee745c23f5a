import readline from "node:readline";
import { InputError } from "../errors";
import { UsageError, type CliIo, type ParsedCommandArgs } from "./command";

/**
 * Shows `summary` on stderr and asks `question` unless --yes was given. Without a terminal to ask on,
 * refuses rather than acting unseen.
 * @throws UsageError when stdin is not a terminal and --yes was not given; InputError when declined.
 */
export async function confirmAction(
  args: ParsedCommandArgs,
  io: CliIo,
  summary: string,
  words: { question: string; nothing: string },
  input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
): Promise<void> {
  io.stderr.write(summary.endsWith("\n") ? summary : summary + "\n");
  if (args.values.yes === true) return;
  if (!input.isTTY) {
    throw new UsageError(`${words.nothing}: confirm on a terminal, or pass --yes to confirm in a script`, {
      showHelp: false,
    });
  }
  const rl = readline.createInterface({ input, output: io.stderr, terminal: true });
  const answer = await new Promise<string>((resolve) => rl.question(`${words.question} [y/N] `, resolve));
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new InputError(`declined: ${words.nothing}`);
}
