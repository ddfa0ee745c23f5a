import { requireAgreement } from "../../db/agreements";
import { formatMicros } from "../../money/decimal";
import { buildSummary } from "../../summaries/build-summary";
import { periodSalt } from "../../summaries/encoding";
import { DATA_DIR_OPTION, JSON_OPTION, UsageError, requiredOption, type Command } from "../command";
import { toJson } from "../format";
import { withNode } from "../node-context";

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
    "Running it again rebuilds the summary (e.g. after a late batch) until it has been committed to the ledger.\n" +
    "Committing to the ledger is not part of this command yet.",
  options: {
    ...DATA_DIR_OPTION,
    agreement: { type: "string", valueName: "NAME|ID", description: "the agreement (required)" },
    period: { type: "string", valueName: "YYYY-MM", description: "the month, e.g. 2026-10 (required)" },
    ...JSON_OPTION,
  },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const period = parsePeriod(requiredOption(args, "period"));
    const summary = await withNode(args, io, async (node) => {
      const agreement = await requireAgreement(node.db, requiredOption(args, "agreement"));
      const salt = periodSalt(agreement.secret, agreement.agreementId, period);
      const built = await buildSummary(
        node.db,
        { agreementId: agreement.agreementId, period, partnerId: agreement.partnerId, side: agreement.side },
        salt,
      );
      return { agreement, built };
    });
    const { agreement, built } = summary;
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
    };
    if (args.values.json) io.stdout.write(toJson(result));
    else {
      io.stdout.write(
        `Summary of ${agreement.name} ${String(period).slice(0, 4)}-${String(period).slice(4)} (this carrier is party ${agreement.side}):\n` +
          `  ${built.records} rated CDRs in ${built.leafCount} leaves\n` +
          `  A owes B ${formatMicros(built.amountAB)}, B owes A ${formatMicros(built.amountBA)}\n` +
          `  root ${built.root}\n`,
      );
    }
    return 0;
  },
};
