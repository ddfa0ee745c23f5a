/**
 * The netting path of `icl settle` (settle.ts): every Approved period on the ledger, per token, in one
 * settleBatch each, with the plan and any escrow top-ups shown first, and after it the periods the
 * batch skipped (settled by someone else in the meantime, or no longer Approved).
 */
import { settleBatchRequest } from "../../settlement/settle-requests";
import { listedTokens, resolveToken, tokenOf } from "../../settlement/escrow-tokens";
import { loadFxTable } from "../../settlement/fx";
import { planView, renderPlan, type PlanView } from "../../settlement/netting-report";
import {
  escrowAfter,
  escrowBalances,
  planAgainst,
  requireSent,
  skippedInBatch,
  topUpRefusal,
  type SkippedPeriod,
} from "../../settlement/settle-plan";
import { findSettleable } from "../../settlement/settleable";
import { confirmStep, nodeDeployment, openChainAs, openNodeChain } from "../chain-context";
import { stringOption, type CliIo, type Command } from "../command";
import { toJson } from "../format";
import { withNode } from "../node-context";
import { formatPeriod } from "../../reconciliation/reveal";

/**
 * `icl settle --netting`: plans the netting of every Approved period per token (or only `--token`) and,
 * unless `--dry-run`, sends one settleBatch per token once no payer's escrow is short.
 * @throws ConflictError when a payer's escrow is short (nothing sent); BaseError when a batch reverts,
 * the chain is unreachable, or the node key cannot be opened.
 */
export async function settleNetting(args: Parameters<Command["run"]>[0], io: CliIo): Promise<number> {
  const json = args.values.json === true;
  const dryRun = args.values["dry-run"] === true;
  const output = await withNode(args, io, async (node) => {
    const chain = await openChainAs(node, null);
    let views: PlanView[];
    let batches: { token: string; keys: { agreementId: string; period: number }[] }[];
    try {
      await chain.indexer.sync();
      const tokens = await listedTokens(chain, node.db, nodeDeployment(node));
      const tokenText = stringOption(args, "token");
      const only = tokenText === undefined ? undefined : resolveToken(tokens, tokenText).address;
      const periods = await findSettleable(chain, node.db, { token: only });
      const balances = await escrowBalances(chain, periods);
      const fx = loadFxTable(node.config);
      const plans = planAgainst(periods, balances);
      views = plans.map((p) => planView(p, tokenOf(tokens, p.token), balances, fx));
      batches = plans.map((p) => ({
        token: tokenOf(tokens, p.token).address,
        keys: p.periods.map((x) => ({ agreementId: x.agreementId, period: x.period })),
      }));
      if (views.length === 0) {
        const which =
          only === undefined ? "any token" : (tokens.find((t) => t.address === only)?.symbol ?? only);
        if (!json) io.stdout.write(`Nothing to settle: no Approved period in ${which}.\n`);
      }
    } finally {
      chain.close();
    }
    const result = {
      dryRun,
      sent: false as boolean,
      plans: views.map((v) => ({
        ...v,
        transaction: null as unknown,
        escrowAfter: null as unknown,
        skipped: [] as (SkippedPeriod & { agreement: string })[],
      })),
    };
    if (!json) for (const v of views) io.stdout.write(renderPlan(v, "Netting plan") + "\n");
    if (dryRun || views.length === 0) return result;
    if (views.some((v) => v.topUps.length > 0)) {
      if (json) io.stdout.write(toJson(result));
      throw topUpRefusal(views.filter((v) => v.topUps.length > 0));
    }
    await confirmStep(
      args,
      io,
      views
        .map(
          (v) =>
            `settleBatch of ${v.periods.length} periods in ${v.token}: ${v.nettedTransfers.length} net movements instead of ${v.bilateralTransfers}`,
        )
        .join("\n") + "\nSent with the node key.",
    );
    const { chain: sending } = await openNodeChain(node, io);
    try {
      for (const [i, batch] of batches.entries()) {
        const sent = await sending.transactions!.send(settleBatchRequest(sending, batch.token, batch.keys));
        requireSent(sent, "settleBatch");
        const entry = result.plans[i]!;
        entry.transaction = { txHash: sent.txHash, blockNumber: sent.blockNumber, gasUsed: sent.gasUsed };
        // A period settled by someone else since the plan (or no longer Approved) was left out by the
        // ledger, not the batch: report it.
        const names = new Map(entry.periods.map((x) => [x.agreementId.toLowerCase(), x.agreement]));
        entry.skipped = (await skippedInBatch(sending, sent.txHash)).map((k) => ({
          ...k,
          agreement: names.get(k.agreementId) ?? k.agreementId,
        }));
        entry.escrowAfter = await escrowAfter(sending, views[i]!);
        result.sent = true;
      }
    } finally {
      sending.close();
    }
    return result;
  });
  if (json) io.stdout.write(toJson(output));
  else if (output.sent) {
    for (const p of output.plans) {
      const tx = p.transaction as { txHash: string; blockNumber: bigint };
      io.stdout.write(
        `Settled ${p.periods.length - p.skipped.length} ${p.token} periods in transaction ${tx.txHash}, ` +
          `block ${tx.blockNumber}\n`,
      );
      for (const k of p.skipped)
        io.stdout.write(
          `  skipped ${k.agreement} ${formatPeriod(k.period)}: it was ${k.state} when the batch ran, not Approved\n`,
        );
    }
  } else if (output.plans.length > 0) io.stdout.write("Dry run: nothing was sent.\n");
  return 0;
}
