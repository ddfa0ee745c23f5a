import { formatPeriod } from "../../reconciliation/reveal";
import { renderPlan } from "../../settlement/netting-report";
import { topUpRefusal } from "../../settlement/settle-plan";
import { confirmStep, openChainAs, openNodeChain } from "../chain-context";
import { DATA_DIR_OPTION, JSON_OPTION, UsageError, stringOption, type CliIo, type Command } from "../command";
import { toJson } from "../format";
import { withNode } from "../node-context";
import { AGREEMENT_PERIOD_ARGS, agreementOrId, agreementPeriodArgs } from "../period-args";
import { settleNetting } from "./settle-netting";

export const settleCommand: Command = {
  words: ["settle"],
  summary: "Settle an Approved period, or net every Approved period of a token in one settleBatch.",
  args: `[${AGREEMENT_PERIOD_ARGS}]`,
  description:
    "icl settle AGREEMENT PERIOD settles one period: the final figures once Approved, or the undisputed part\n" +
    "when both carriers approved it during Disputed/Escalated. AGREEMENT is a local agreement's name or any\n" +
    "agreement's 0x id. It shows who pays whom, the payer's escrow and any top-up needed before sending.\n" +
    "icl settle --netting [--token SYMBOL|ADDRESS] [--dry-run] plans the netting of every Approved period on the\n" +
    "ledger (any carriers': settlement is callable by anyone), per token: gross obligations, each carrier's net\n" +
    "position, bilateral vs netted transfers and the escrow top-ups needed; without --dry-run it then sends one\n" +
    "settleBatch per token, which moves only each carrier's net position. Without --token every token is planned.\n" +
    "Nothing is sent while a payer's escrow is short. Sent with the node key (ICL_KEY_PASSWORD or a prompt),\n" +
    "once per idempotency key; confirm on the terminal or pass --yes. With fx configured, amounts are also\n" +
    "shown in the reference currency (config.json fx.reference, fx.table).",
  options: {
    ...DATA_DIR_OPTION,
    netting: {
      type: "boolean",
      description: "net every Approved period of the token(s) in one settleBatch each",
    },
    token: { type: "string", valueName: "SYMBOL|ADDRESS", description: "with --netting: only this token" },
    "dry-run": { type: "boolean", description: "show the plan and the top-ups, send nothing" },
    yes: { type: "boolean", description: "do not ask for confirmation (scripts)" },
    ...JSON_OPTION,
  },
  positionals: { min: 0, max: 2 },
  async run(args, io) {
    if (args.values.netting === true) {
      if (args.positionals.length > 0) throw new UsageError("--netting takes no AGREEMENT PERIOD");
      return settleNetting(args, io);
    }
    if (stringOption(args, "token") !== undefined) throw new UsageError("--token goes with --netting");
    if (args.positionals.length !== 2) throw new UsageError(`expects ${AGREEMENT_PERIOD_ARGS}, or --netting`);
    return settleOne(args, io);
  },
};

async function settleOne(args: Parameters<Command["run"]>[0], io: CliIo): Promise<number> {
  const { agreement, period } = agreementPeriodArgs(args);
  const json = args.values.json === true;
  const dryRun = args.values["dry-run"] === true;
  const output = await withNode(args, io, async (node) => {
    const { agreementId, name } = await agreementOrId(node.db, agreement);
    const key = { agreementId, name, period };
    const reading = await openChainAs(node, null);
    const {
      kind,
      state,
      plan: view,
    } = await node.settlement.preview(reading, key).finally(() => reading.close());
    const title = `${kind === "settlePartial" ? "Partial settlement (undisputed part)" : "Settlement"} of ${key.name} ${formatPeriod(period)} (${state})`;
    const result = {
      agreement: key.name,
      agreementId: key.agreementId,
      period,
      kind,
      state: state as string,
      plan: view,
      sent: false as boolean,
      transaction: null as unknown,
      escrowAfter: null as unknown,
    };
    if (!json) io.stdout.write(renderPlan(view, title));
    if (dryRun) return result;
    if (view.topUps.length > 0) {
      if (json) io.stdout.write(toJson(result));
      throw topUpRefusal([view]);
    }
    const obligation = view.periods[0]!;
    await confirmStep(
      args,
      io,
      `${kind} ${key.name} ${formatPeriod(period)}: ${obligation.payer} pays ${obligation.payee} ` +
        `${obligation.amount} ${view.token}, sent with the node key.`,
    );
    const { chain: sending } = await openNodeChain(node, io);
    try {
      const sent = await node.settlement.settle(sending, key);
      result.sent = true;
      result.transaction = sent.transaction;
      result.escrowAfter = sent.escrowAfter;
      result.state = sent.state;
    } finally {
      sending.close();
    }
    return result;
  });
  if (json) io.stdout.write(toJson(output));
  else if (output.sent) {
    const tx = output.transaction as { txHash: string; blockNumber: bigint };
    io.stdout.write(
      `Settled in transaction ${tx.txHash}, block ${tx.blockNumber}; the period is now ${output.state}\n`,
    );
  } else io.stdout.write("Dry run: nothing was sent.\n");
  return 0;
}
