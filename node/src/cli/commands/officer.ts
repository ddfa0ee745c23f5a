import { getAddress } from "ethers";
import type { ApprovalData } from "../../protocol";
import { loadSummary, type StoredSummary } from "../../db/summaries";
import { ConflictError } from "../../errors";
import { periodState } from "../../reconciliation/reveal";
import {
  DEFAULT_VALID_SECONDS,
  acceptSignature,
  prepareApproval,
  signApproval,
  submitIfReady,
} from "../../settlement/approvals";
import {
  carrierName,
  formatAmount,
  isoTime,
  loadPeriodContext,
  type PeriodContext,
} from "../../settlement/period-context";
import { DATA_DIR_OPTION, JSON_OPTION, UsageError, stringOption, type Command } from "../command";
import { SIGNER_OPTIONS, confirmStep, loadSignerKey, openChainAs } from "../chain-context";
import { toJson } from "../format";
import { awaitsFastPath } from "../../settlement/cosign";
import { cosignSettlement } from "./officer-cosign";
import { withNode } from "../node-context";
import { AGREEMENT_PERIOD_ARGS, AGREEMENT_PERIOD_POSITIONALS, resolveAgreementPeriod } from "../period-args";

/** What the officer is shown before signing: every figure of the struct, in words. */
export function describeApproval(
  ctx: PeriodContext,
  approval: ApprovalData,
  officer: string,
  digest: string,
  local: StoredSummary | null,
): string {
  const a = carrierName(ctx.terms.carrierA);
  const b = carrierName(ctx.terms.carrierB);
  const ours = (value: bigint | undefined) =>
    value === undefined ? "" : `   your node's summary: ${formatAmount(value, ctx.token)}`;
  const net = approval.amountAB - approval.amountBA;
  const netText =
    net === 0n
      ? "nothing moves (the directions cancel)"
      : net > 0n
        ? `${a} pays ${b} ${formatAmount(net, ctx.token)}`
        : `${b} pays ${a} ${formatAmount(-net, ctx.token)}`;
  return [
    `You are about to sign, as officer ${officer} of ${carrierName(approval.carrierId)}:`,
    `  approval of ${ctx.label}, ${approval.partialSettlement ? "the undisputed part (partial settlement)" : "final figures"}, ` +
      `round ${approval.round} (the period is ${ctx.state})`,
    `    A (${a}) owes B (${b})  ${formatAmount(approval.amountAB, ctx.token)}${ours(local?.amountAB)}`,
    `    B (${b}) owes A (${a})  ${formatAmount(approval.amountBA, ctx.token)}${ours(local?.amountBA)}`,
    `    net: ${netText}`,
    `    revealed roots: A ${approval.rootA}`,
    `                    B ${approval.rootB}`,
    `    valid until ${isoTime(approval.deadline)} (chain time)`,
    `    EIP-712 digest ${digest}`,
    "",
  ].join("\n");
}

export const officerApproveCommand: Command = {
  words: ["officer", "approve"],
  args: AGREEMENT_PERIOD_ARGS,
  summary: "Sign this carrier's approval of a period's figures; submitted once enough officers signed.",
  description:
    "Shows the figures the ledger holds for the period (final, or with --partial the undisputed part during a\n" +
    "dispute), both revealed roots and your node's own summary, then asks for confirmation and signs them\n" +
    "(EIP-712) with your key. The node checks the signature and keeps it; when a threshold of current\n" +
    "officers of this carrier signed the same approval, it submits them in one transaction. Officers of the\n" +
    "carrier sign the same deadline: the first signature fixes it (--valid-days), later ones reuse it.\n" +
    "Allowed in Matched, Reconciled, Uncontested or Resolved (final), Disputed or Escalated (--partial).\n" +
    "A period the node leaves to the co-signed fast path (closed, not committed, settlement.fastPath) is\n" +
    "approved by signing its Settlement instead: this node's summary's root and totals, until the commit\n" +
    "window closes; icl run settles it once the partner's officers signed the same figures.",
  options: {
    ...DATA_DIR_OPTION,
    ...SIGNER_OPTIONS,
    partial: { type: "boolean", description: "approve the undisputed part of a disputed period" },
    "valid-days": {
      type: "string",
      valueName: "N",
      description: `days a new approval stays valid (default ${DEFAULT_VALID_SECONDS / 86_400})`,
    },
    ...JSON_OPTION,
  },
  positionals: AGREEMENT_PERIOD_POSITIONALS,
  async run(args, io) {
    const validText = stringOption(args, "valid-days");
    if (validText !== undefined && !/^[1-9]\d{0,2}$/.test(validText))
      throw new UsageError(`--valid-days '${validText}' is not a number of days (1–999)`);
    const validSeconds = validText === undefined ? DEFAULT_VALID_SECONDS : Number(validText) * 86_400;
    const partial = args.values.partial === true;
    const result = await withNode(args, io, async (node) => {
      const { agreement, period } = await resolveAgreementPeriod(node.db, args);
      const wallet = await loadSignerKey(args, io);
      const chain = await openChainAs(node, wallet);
      try {
        const ctx = await loadPeriodContext(chain, agreement, period);
        const carrier = ctx.ourCarrier!;
        if (!(await chain.registry.isOfficer(carrier, wallet.address))) {
          throw new ConflictError(
            `${wallet.address} is not a current officer of ${carrierName(carrier)}; nothing was signed`,
          );
        }
        if (
          !partial &&
          (await awaitsFastPath(node.db, chain, agreement, period, node.config.config.settlement.fastPath))
        ) {
          return {
            kind: "fast" as const,
            print: await cosignSettlement(node, chain, ctx, agreement, wallet, args, io),
          };
        }
        const { approval } = await prepareApproval(node.db, chain, ctx, partial, validSeconds);
        const digest = await chain.ledger.approvalDigest(approval);
        const local = await loadSummary(node.db, ctx.agreementId, period, { leaves: false });
        await confirmStep(args, io, describeApproval(ctx, approval, wallet.address, digest, local));
        const signature = await signApproval(chain, wallet, approval);
        await acceptSignature(node.db, chain, ctx, approval, signature);
        const progress = await submitIfReady(node.db, chain, ctx, approval);
        const theirs = await chain.ledger.approvalsOf(ctx.agreementId, period, ctx.theirCarrier!, partial);
        return {
          kind: "approval" as const,
          ctx,
          approval,
          digest,
          signature,
          officer: getAddress(wallet.address),
          progress,
          theirs: {
            count: Number(theirs.count),
            threshold: Number(theirs.threshold),
            approved: theirs.approved,
          },
          state: await periodState(chain, ctx.agreementId, period),
        };
      } finally {
        chain.close();
      }
    });
    if (result.kind === "fast") {
      result.print();
      return 0;
    }
    const { ctx, approval, progress, theirs, state } = result;
    if (args.values.json) {
      io.stdout.write(
        toJson({
          agreement: ctx.name,
          agreementId: ctx.agreementId,
          period: ctx.period,
          partial,
          officer: result.officer,
          approval,
          digest: result.digest,
          signature: result.signature,
          status: progress.status,
          signers: progress.signers,
          dropped: progress.dropped,
          threshold: progress.threshold,
          txHash: progress.txHash,
          partner: { carrier: carrierName(ctx.theirCarrier!), ...theirs },
          state,
        }),
      );
      return 0;
    }
    const ours = carrierName(ctx.ourCarrier!);
    const lines = [
      `Signed by ${result.officer} for ${ours}: ${progress.signers.length} of ${progress.threshold} officers.`,
    ];
    if (progress.dropped.length > 0)
      lines.push(`  ignored signatures of former officers: ${progress.dropped.join(", ")}`);
    if (progress.status === "submitted")
      lines.push(
        `  ${ours}'s approval submitted in transaction ${progress.txHash} (block ${progress.blockNumber})`,
      );
    else if (progress.status === "approved") lines.push(`  ${ours} had already approved on the ledger`);
    else if (progress.status === "held")
      lines.push(
        `  ${ours}'s officers approved before the reveal: icl run reveals, records both carriers' approvals ` +
          `and settles in one revealAndSettle once ${carrierName(ctx.theirCarrier!)}'s officers approve too`,
      );
    else
      lines.push(`  waiting for ${progress.threshold - progress.signers.length} more officer(s) of ${ours}`);
    lines.push(
      `  ${carrierName(ctx.theirCarrier!)}: ${theirs.approved ? "approved" : `${theirs.count} of ${theirs.threshold} officers so far`}`,
      `  ${ctx.label} is now ${state}`,
    );
    io.stdout.write(lines.join("\n") + "\n");
    return 0;
  },
};
