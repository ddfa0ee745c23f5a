/**
 * Opening the ledger from a CLI command: as the node (node key), as an officer or arbiter (their own
 * keystore), or read-only; and asking a person to confirm what is about to be signed.
 */
import path from "node:path";
import type { Wallet } from "ethers";
import { createChainClient, type ChainClient } from "../chain/client";
import { loadDeployment, type LoadedDeployment } from "../chain/deployment";
import { loadNodeKey, readKeyPassword } from "../chain/keys";
import type { CarrierNode } from "../node";
import { InputError } from "../errors";
import { UsageError, stringOption, type CliIo, type OptionSpec, type ParsedCommandArgs } from "./command";
import { confirmAction } from "./confirm";

/** `--key` and `--yes`, taken by every command an officer or arbiter signs with. */
export const SIGNER_OPTIONS: Record<string, OptionSpec> = {
  key: {
    type: "string",
    valueName: "FILE",
    description:
      "your keystore (officer or arbiter); default $ICL_OFFICER_KEY; password $ICL_OFFICER_PASSWORD or prompt",
  },
  yes: { type: "boolean", description: "do not ask for confirmation (scripts)" },
};

function chainSettings(node: CarrierNode): {
  settings: NonNullable<CarrierNode["config"]["config"]["chain"]>;
  resolve: (file: string) => string;
} {
  const settings = node.config.config.chain;
  if (!settings) throw new InputError("this node has no chain settings (config.json `chain`)");
  return { settings, resolve: (file: string) => path.resolve(node.config.dataDir, file) };
}

/** The deployment the node's chain settings name. @throws InputError without chain settings. */
export function nodeDeployment(node: CarrierNode): LoadedDeployment {
  const { settings, resolve } = chainSettings(node);
  return loadDeployment(resolve(settings.deployment));
}

/**
 * Connects to the ledger as the node's chain settings say, signing with `signer` (null: read-only).
 * @throws InputError when the node has no chain settings.
 */
export async function openChainAs(node: CarrierNode, signer: Wallet | null): Promise<ChainClient> {
  const { settings } = chainSettings(node);
  return createChainClient({
    rpcUrl: settings.rpcUrl,
    deployment: nodeDeployment(node),
    signer: signer ?? undefined,
    db: node.db,
    logger: node.logger,
    transactions: { confirmations: settings.confirmations },
  });
}

/**
 * Connects with the node key (password from ICL_KEY_PASSWORD or a prompt); returns the key too.
 * @throws InputError when the node has no chain settings.
 */
export async function openNodeChain(
  node: CarrierNode,
  io: CliIo,
): Promise<{ chain: ChainClient; signer: Wallet }> {
  const { settings, resolve } = chainSettings(node);
  const password = await readKeyPassword({ env: io.env, input: process.stdin, output: io.stderr });
  const signer = await loadNodeKey(resolve(settings.keystore), password);
  return { chain: await openChainAs(node, signer), signer };
}

/**
 * The person's own key: `--key FILE` or $ICL_OFFICER_KEY, password from $ICL_OFFICER_PASSWORD or a
 * prompt without echo. @throws UsageError when no key file is named; InputError when it cannot be opened.
 */
export async function loadSignerKey(args: ParsedCommandArgs, io: CliIo): Promise<Wallet> {
  const file = stringOption(args, "key") ?? io.env.ICL_OFFICER_KEY;
  if (file === undefined || file === "") {
    throw new UsageError("this step is signed with your own key: pass --key FILE or set ICL_OFFICER_KEY");
  }
  const password = await readKeyPassword(
    { env: io.env, input: process.stdin, output: io.stderr },
    { variable: "ICL_OFFICER_PASSWORD", prompt: `Password for ${path.basename(file)}: ` },
  );
  return loadNodeKey(path.resolve(file), password);
}

/**
 * Shows `summary` on stderr and asks "Sign and send? [y/N]" unless --yes was given. Without a terminal
 * to ask on, refuses rather than signing unseen figures.
 * @throws UsageError when stdin is not a terminal and --yes was not given; InputError when declined.
 */
export async function confirmStep(
  args: ParsedCommandArgs,
  io: CliIo,
  summary: string,
  input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
): Promise<void> {
  await confirmAction(
    args,
    io,
    summary,
    { question: "Sign and send?", nothing: "nothing was signed or sent" },
    input,
  );
}
