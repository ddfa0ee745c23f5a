import { ALERT_LEVELS, type AlertLevel } from "../../db/alerts";
import { formatPeriod } from "../../reconciliation/reveal";
import { alertWindowMs } from "../../services/alerts";
import { DATA_DIR_OPTION, JSON_OPTION, UsageError, stringOption, type Command } from "../command";
import { table, toJson } from "../format";
import { withNode } from "../node-context";

export const alertsCommand: Command = {
  words: ["alerts"],
  summary: "List the deadline watch's alerts: windows about to close, default actions taken, errors.",
  description:
    "icl run stores an alert once per agreement, period, round, kind and deadline: a warning when a period's\n" +
    "window closes within watch.warnBeforeMs (officers: commit, reveal, correct or dispute, contest, accept or\n" +
    "escalate, approve), an action when the node settled a period or the ledger applied a default (Uncontested,\n" +
    "lapsed arbitration resolved at the mean of the claims), an error when a settlement could not be sent (e.g.\n" +
    "the payer's escrow is short: the top-up is named). Oldest first.",
  options: {
    ...DATA_DIR_OPTION,
    since: {
      type: "string",
      valueName: "DURATION",
      description: "only alerts of the last 30m, 12h, 7d, 2w…",
    },
    level: { type: "string", valueName: "LEVEL", description: ALERT_LEVELS.join(", ") },
    agreement: { type: "string", valueName: "NAME|ID", description: "only this agreement" },
    ...JSON_OPTION,
  },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const since = stringOption(args, "since");
    // A bad window is a usage mistake here (exit 64), as any other malformed option.
    if (since !== undefined && alertWindowMs(since) === null)
      throw new UsageError(`--since '${since}' is not a duration like 30m, 12h, 7d or 2w`);
    const levelText = stringOption(args, "level");
    const level = ALERT_LEVELS.find((l) => l === levelText?.toLowerCase()) as AlertLevel | undefined;
    if (levelText !== undefined && level === undefined)
      throw new UsageError(`--level must be one of ${ALERT_LEVELS.join(", ")}`);
    const agreement = stringOption(args, "agreement");
    const alerts = await withNode(args, io, (node) => node.alerts.list({ since, level, agreement }));
    if (args.values.json) {
      io.stdout.write(toJson({ alerts }));
      return 0;
    }
    if (alerts.length === 0) {
      io.stdout.write("no alerts\n");
      return 0;
    }
    io.stdout.write(
      table(
        ["time", "level", "agreement", "period", "kind", "deadline", "message"],
        alerts.map((a) => [
          a.createdAt.toISOString().replace(/\.\d{3}Z$/, "Z"),
          a.level,
          a.agreementName ?? a.agreementId.slice(0, 10),
          formatPeriod(a.period) + (a.round > 0 ? ` r${a.round}` : ""),
          a.kind,
          a.deadline === null ? "-" : new Date(a.deadline * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
          a.message.replace(/^period \S+ \d{4}-\d{2}: /, ""),
        ]),
      ),
    );
    return 0;
  },
};
