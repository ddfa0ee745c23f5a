/**
 * An officer's approval of a period the node leaves to the co-signed fast path: the `Settlement` of
 * the node's own summary (root, totals, valid until round 0's commit deadline), shown in words,
 * confirmed and signed; the running node exchanges it with the partner's node and submits once both
 * carriers' officers signed (reconciliation/fast-path.ts).
 */
import { getAddress, type Wallet } from "ethers";
import type { ChainClient } from "../../chain/client";
import type { SettlementData } from "../../protocol";
import type { CarrierNode } from "../../node";
import {
  acceptSettlementSignature,
  gatheredSignatures,
  ourSettlement,
  signSettlement,
} from "../../settlement/cosign";
import { carrierName, formatAmount, isoTime, type PeriodContext } from "../../settlement/period-context";
import type { CliIo, ParsedCommandArgs } from "../command";
import { confirmStep } from "../chain-context";
import { toJson } from "../format";

/** What the officer is shown before signing a `Settlement`. */
export function describeSettlement(ctx: PeriodContext, settlement: SettlementData, officer: string): string {
  const a = carrierName(ctx.terms.carrierA);
  const b = carrierName(ctx.terms.carrierB);
  const net = settlement.amountAB - settlement.amountBA;
  const netText =
    net === 0n
      ? "nothing moves (the directions cancel)"
      : net > 0n
        ? `${a} pays ${b} ${formatAmount(net, ctx.token)}`
        : `${b} pays ${a} ${formatAmount(-net, ctx.token)}`;
  return [
    `You are about to sign, as officer ${officer} of ${carrierName(ctx.ourCarrier!)}:`,
    `  the co-signed settlement of ${ctx.label} (fast path: your node's summary, not yet committed;`,
    `  it settles only if ${carrierName(ctx.theirCarrier!)}'s officers sign exactly the same figures)`,
    `    A (${a}) owes B (${b})  ${formatAmount(settlement.amountAB, ctx.token)}`,
    `    B (${b}) owes A (${a})  ${formatAmount(settlement.amountBA, ctx.token)}`,
    `    net: ${netText}`,
    `    summary root ${settlement.root}`,
    `    valid until ${isoTime(settlement.deadline)} (chain time; the commit window's close)`,
    "",
  ].join("\n");
}

/**
 * Signs the period's `Settlement` with `wallet` after confirmation and keeps the signature.
 * @returns what prints the outcome (how many of each carrier's officers signed), once the chain is closed.
 * @throws InputError when the period is not closed; ConflictError when the signature is refused.
 */
export async function cosignSettlement(
  node: CarrierNode,
  chain: ChainClient,
  ctx: PeriodContext,
  agreement: { agreementId: string; name: string },
  wallet: Wallet,
  args: ParsedCommandArgs,
  io: CliIo,
): Promise<() => void> {
  const settlement = await ourSettlement(node.db, chain, agreement, ctx.period);
  await confirmStep(args, io, describeSettlement(ctx, settlement, getAddress(wallet.address)));
  const signature = await signSettlement(chain, wallet, settlement);
  await acceptSettlementSignature(node.db, chain, settlement, ctx.ourCarrier!, signature, ctx.chainNow);
  const ours = await gatheredSignatures(node.db, chain, settlement, ctx.ourCarrier!);
  const theirs = await gatheredSignatures(node.db, chain, settlement, ctx.theirCarrier!);
  return () => {
    if (args.values.json) {
      io.stdout.write(
        toJson({
          agreement: ctx.name,
          agreementId: ctx.agreementId,
          period: ctx.period,
          path: "fast",
          officer: getAddress(wallet.address),
          settlement,
          signature,
          signers: ours.officers,
          threshold: ours.threshold,
          partner: {
            carrier: carrierName(ctx.theirCarrier!),
            count: theirs.officers.length,
            threshold: theirs.threshold,
          },
          state: ctx.state,
        }),
      );
      return;
    }
    const name = carrierName(ctx.ourCarrier!);
    io.stdout.write(
      [
        `Signed the co-signed settlement by ${getAddress(wallet.address)} for ${name}: ${ours.officers.length} of ${ours.threshold} officers.`,
        `  ${carrierName(ctx.theirCarrier!)}: ${theirs.officers.length} of ${theirs.threshold} officers' signatures received so far`,
        "  the running node (icl run) exchanges them with the partner's node and settles once both carriers signed;",
        "  it commits instead (commit–reveal) if the partner's figures differ or time runs out",
        "",
      ].join("\n"),
    );
  };
}
