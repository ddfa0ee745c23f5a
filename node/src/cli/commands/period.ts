import { requireAgreement } from "../../db/agreements";
import { loadReport, type ReportJson } from "../../db/reports";
import type { ChainClient } from "../../chain/client";
import type { CloseMode } from "../../reconciliation/close-period";
import { formatMicros } from "../../money/decimal";
import { NotFoundError } from "../../errors";
import { formatPeriod, revealSummary } from "../../reconciliation/reveal";
import { DATA_DIR_OPTION, JSON_OPTION, UsageError, requiredOption, type Command } from "../command";
import { table, toJson } from "../format";
import { withNode } from "../node-context";
import { openNodeChain } from "../chain-context";

/** `2026-10` or `202610` → 202610. @throws UsageError otherwise. */
export function parsePeriod(text: string): number {
  const match = /^(\d{4})-?(\d{2})$/.exec(text.trim());
  const month = match ? Number(match[2]) : 0;
  if (!match || month < 1 || month > 12)
    throw new UsageError(`--period '${text}' is not a month like 2026-10`);
  return Number(match[1]) * 100 + month;
}

export const periodCloseCommand: Command = {
  words: ["period", "close"],
  summary: "Build and store the usage summary of an agreement for a month: leaves, totals and Merkle root.",
  description:
    "Aggregates this node's rated CDRs with the agreement's partner in the calendar month (UTC) into\n" +
    "agreement-relative leaves (docs/PROTOCOL.md), salts them with the agreement secret and stores the summary.\n" +
    "When the node has chain settings (config.json `chain`), it then commits the summary to the ledger with the\n" +
    "node key (password from ICL_KEY_PASSWORD or a prompt). Until committed, running it again rebuilds the summary\n" +
    "(e.g. after a late batch); once committed the summary is final and a re-run sends nothing twice.\n" +
    "With the fast path on (settlement.fastPath, the default) and a peer URL for the agreement, the summary is\n" +
    "frozen but not committed: the running node (icl run) first tries the co-signed fast path with the partner's\n" +
    "node and commits only when it is out. --commit commits now (commit–reveal for this period).",
  options: {
    ...DATA_DIR_OPTION,
    agreement: { type: "string", valueName: "NAME|ID", description: "the agreement (required)" },
    period: { type: "string", valueName: "YYYY-MM", description: "the month, e.g. 2026-10 (required)" },
    "no-commit": {
      type: "boolean",
      description: "build and store only, even when the node has chain settings",
    },
    commit: {
      type: "boolean",
      description: "commit now even when the fast path could settle the period (commit–reveal)",
    },
    ...JSON_OPTION,
  },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const period = parsePeriod(requiredOption(args, "period"));
    const summary = await withNode(args, io, async (node) => {
      const mode: CloseMode =
        node.config.config.chain === undefined || args.values["no-commit"] === true
          ? "store"
          : args.values.commit === true
            ? "commit"
            : "auto";
      let chain: ChainClient | null = null;
      try {
        const closed = await node.periods.close(
          requiredOption(args, "agreement"),
          period,
          mode,
          async () => (chain ??= (await openNodeChain(node, io)).chain),
        );
        return {
          agreement: closed.agreement,
          built: closed.summary,
          commit: closed.commit,
          fastPath: closed.awaitingFastPath,
        };
      } finally {
        (chain as ChainClient | null)?.close();
      }
    });
    const { agreement, built, commit, fastPath } = summary;
    const result = {
      agreement: agreement.name,
      agreementId: agreement.agreementId,
      period,
      partner: agreement.partnerId,
      side: agreement.side,
      leaves: built.leafCount,
      records: built.records,
      amountAB: formatMicros(built.amountAB),
      amountBA: formatMicros(built.amountBA),
      root: built.root,
      committed: commit
        ? {
            carrier: commit.carrierId,
            round: commit.round,
            commitment: commit.commitment,
            txHash: commit.txHash,
            blockNumber: commit.blockNumber,
          }
        : null,
      awaitingFastPath: fastPath,
    };
    if (args.values.json) io.stdout.write(toJson(result));
    else {
      io.stdout.write(
        `Summary of ${agreement.name} ${formatPeriod(period)} (this carrier is party ${agreement.side}):\n` +
          `  ${built.records} rated CDRs in ${built.leafCount} leaves\n` +
          `  A owes B ${formatMicros(built.amountAB)}, B owes A ${formatMicros(built.amountBA)}\n` +
          `  root ${built.root}\n` +
          (commit
            ? `  committed (round ${commit.round}) in transaction ${commit.txHash}, block ${commit.blockNumber}\n`
            : fastPath
              ? "  frozen, not committed: the running node tries the fast path with the partner first (icl run)\n"
              : "  not committed: this node has no chain settings (or --no-commit was given)\n"),
      );
    }
    return 0;
  },
};

export const periodRevealCommand: Command = {
  words: ["period", "reveal"],
  summary:
    "Reveal the committed summary of an agreement-period to the ledger, which evaluates it on the second reveal.",
  description:
    "Sends root, totals and the round's salt; the ledger checks them against this carrier's commitment. Allowed\n" +
    "once both parties committed (or the commit window closed). Prints the period's state afterwards: Revealing\n" +
    "until the other side reveals, then Matched, Reconciled or Mismatched. Needs the node's chain settings.",
  options: {
    ...DATA_DIR_OPTION,
    agreement: { type: "string", valueName: "NAME|ID", description: "the agreement (required)" },
    period: { type: "string", valueName: "YYYY-MM", description: "the month, e.g. 2026-10 (required)" },
    ...JSON_OPTION,
  },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const period = parsePeriod(requiredOption(args, "period"));
    const result = await withNode(args, io, async (node) => {
      const agreement = await requireAgreement(node.db, requiredOption(args, "agreement"));
      const { chain } = await openNodeChain(node, io);
      try {
        return { agreement, revealed: await revealSummary(node.db, chain, agreement, period) };
      } finally {
        chain.close();
      }
    });
    const { agreement, revealed } = result;
    if (args.values.json) {
      io.stdout.write(
        toJson({ agreement: agreement.name, agreementId: agreement.agreementId, period, ...revealed }),
      );
    } else {
      io.stdout.write(
        `Revealed ${agreement.name} ${formatPeriod(period)} (round ${revealed.round}) ` +
          `in transaction ${revealed.txHash}; the period is now ${revealed.state}\n`,
      );
    }
    return 0;
  },
};

export const periodReportCommand: Command = {
  words: ["period", "report"],
  summary: "Show the discrepancy report the running node wrote for an agreement-period whose roots differ.",
  description:
    "One row per differing leaf (direction, service, destination, UTC day): the delta ours minus theirs in\n" +
    "records, billed units and amount, the classification (missing_cdrs, duration_difference, rate_difference,\n" +
    "day_boundary_shift) and this carrier's CDRs behind it. --json prints the whole stored report, with\n" +
    "every call key and CDR id. Written by icl run once both parties revealed and the roots differ.",
  options: {
    ...DATA_DIR_OPTION,
    agreement: { type: "string", valueName: "NAME|ID", description: "the agreement (required)" },
    period: { type: "string", valueName: "YYYY-MM", description: "the month, e.g. 2026-10 (required)" },
    round: { type: "string", valueName: "N", description: "the commit-reveal round (default: the latest)" },
    ...JSON_OPTION,
  },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const period = parsePeriod(requiredOption(args, "period"));
    const roundText = args.values.round;
    if (roundText !== undefined && !/^\d{1,3}$/.test(String(roundText)))
      throw new UsageError(`--round '${String(roundText)}' is not a round number`);
    const { agreement, stored } = await withNode(args, io, async (node) => {
      const agreement = await requireAgreement(node.db, requiredOption(args, "agreement"));
      const round = roundText === undefined ? undefined : Number(roundText);
      return { agreement, stored: await loadReport(node.db, agreement.agreementId, period, round) };
    });
    if (stored === null) {
      throw new NotFoundError(
        `no discrepancy report for ${agreement.name} ${formatPeriod(period)}`,
        "One is written by icl run once both parties revealed and their roots differ.",
      );
    }
    if (args.values.json) {
      io.stdout.write(toJson({ agreement: agreement.name, ...stored }));
      return 0;
    }
    const report = stored.report as ReportJson;
    const money = (text: string) => {
      const value = BigInt(text);
      return (value > 0n ? "+" : "") + formatMicros(value);
    };
    const signed = (text: string) => (BigInt(text) > 0n ? "+" + text : text);
    const day = (days: number) => new Date(days * 86_400_000).toISOString().slice(0, 10);
    const cdrs = (leaf: ReportJson["leaves"][number]) => {
      const ids = [
        ...leaf.missingOnTheirSide,
        ...leaf.durationDifferences.map((d) => d.callKey),
        ...leaf.rateDifferences.map((d) => d.callKey),
      ]
        .map((key) => report.ourCdrs[key])
        .filter((id): id is string => id !== undefined);
      const theirs = leaf.missingOnOurSide.length;
      const shown = ids.slice(0, 3).join(" ") + (ids.length > 3 ? ` (+${ids.length - 3})` : "");
      return [shown, theirs > 0 ? `${theirs} only theirs` : ""].filter(Boolean).join("; ");
    };
    const counts = Object.entries(report.counts)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(", ");
    io.stdout.write(
      `Discrepancy report ${agreement.name} ${formatPeriod(period)}, round ${stored.round} (this carrier is party ${agreement.side})\n` +
        `  roots: ours ${stored.ourRoot}, theirs ${stored.theirRoot}\n` +
        `  ${stored.leafCount} differing ${stored.leafCount === 1 ? "leaf" : "leaves"}: ${counts}\n` +
        `  on those leaves: ours A→B ${formatMicros(BigInt(report.differingTotals.ours.AB))} ` +
        `B→A ${formatMicros(BigInt(report.differingTotals.ours.BA))}; theirs A→B ` +
        `${formatMicros(BigInt(report.differingTotals.theirs.AB))} B→A ${formatMicros(BigInt(report.differingTotals.theirs.BA))}\n` +
        (stored.evidenceCid
          ? `  evidence: ${stored.evidenceCid}\n`
          : "  evidence: not stored (see the node log)\n") +
        (report.inconsistentLeaves.length > 0
          ? `  warning: the calls behind ${report.inconsistentLeaves.length} leaves do not add up to the summary ` +
            "(CDRs ingested after the close?)\n"
          : "") +
        "\n" +
        table(
          ["dir", "service", "destination", "day", "records Δ", "billed Δ", "amount Δ", "why", "our CDRs"],
          report.leaves.map((leaf) => [
            leaf.leaf.direction,
            leaf.leaf.service,
            leaf.leaf.destination,
            day(leaf.leaf.day),
            signed(leaf.delta.records),
            signed(leaf.delta.billed),
            money(leaf.delta.amount),
            leaf.kinds.join(","),
            cdrs(leaf),
          ]),
        ),
    );
    return 0;
  },
};
