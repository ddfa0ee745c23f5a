import path from "node:path";
import { createChainClient } from "../../chain/client";
import { loadDeployment } from "../../chain/deployment";
import { loadNodeKey, readKeyPassword } from "../../chain/keys";
import { requireAgreement } from "../../db/agreements";
import { loadSummary } from "../../db/summaries";
import { commitSummary, type CommitResult } from "../../reconciliation/commit";
import { formatMicros } from "../../money/decimal";
import { buildSummary } from "../../summaries/build-summary";
import { periodSalt } from "../../summaries/encoding";
import type { CarrierNode } from "../../node";
import type { NodeConfig } from "../../config/config";
import { InputError } from "../../errors";
import { formatPeriod, revealSummary } from "../../reconciliation/reveal";
import {
  DATA_DIR_OPTION,
  JSON_OPTION,
  UsageError,
  requiredOption,
  type CliIo,
  type Command,
} from "../command";
import { toJson } from "../format";
import { withNode } from "../node-context";

/** Connects to the ledger with the node key, as the node's `chain` settings say. */
async function openChain(node: CarrierNode, chainConfig: NonNullable<NodeConfig["chain"]>, io: CliIo) {
  const resolve = (file: string) => path.resolve(node.config.dataDir, file);
  const deployment = loadDeployment(resolve(chainConfig.deployment));
  const password = await readKeyPassword({ env: io.env, input: process.stdin, output: io.stderr });
  const signer = await loadNodeKey(resolve(chainConfig.keystore), password);
  return createChainClient({
    rpcUrl: chainConfig.rpcUrl,
    deployment,
    signer,
    db: node.db,
    logger: node.logger,
    transactions: { confirmations: chainConfig.confirmations },
  });
}

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
    "(e.g. after a late batch); once committed the summary is final and a re-run sends nothing twice.",
  options: {
    ...DATA_DIR_OPTION,
    agreement: { type: "string", valueName: "NAME|ID", description: "the agreement (required)" },
    period: { type: "string", valueName: "YYYY-MM", description: "the month, e.g. 2026-10 (required)" },
    "no-commit": {
      type: "boolean",
      description: "build and store only, even when the node has chain settings",
    },
    ...JSON_OPTION,
  },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const period = parsePeriod(requiredOption(args, "period"));
    const summary = await withNode(args, io, async (node) => {
      const agreement = await requireAgreement(node.db, requiredOption(args, "agreement"));
      const stored = await loadSummary(node.db, agreement.agreementId, period, { leaves: false });
      const built =
        stored !== null && stored.committedAt !== null
          ? stored
          : await buildSummary(
              node.db,
              {
                agreementId: agreement.agreementId,
                period,
                partnerId: agreement.partnerId,
                side: agreement.side,
              },
              periodSalt(agreement.secret, agreement.agreementId, period),
            );
      const chainConfig = node.config.config.chain;
      let commit: CommitResult | null = null;
      if (chainConfig && args.values["no-commit"] !== true) {
        const chain = await openChain(node, chainConfig, io);
        try {
          commit = await commitSummary(node.db, chain, agreement, period);
        } finally {
          chain.close();
        }
      }
      return { agreement, built, commit };
    });
    const { agreement, built, commit } = summary;
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
      const chainConfig = node.config.config.chain;
      if (!chainConfig) throw new InputError("this node has no chain settings (config.json `chain`)");
      const agreement = await requireAgreement(node.db, requiredOption(args, "agreement"));
      const chain = await openChain(node, chainConfig, io);
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
