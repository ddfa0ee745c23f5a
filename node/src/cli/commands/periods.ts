import { PERIOD_STATES, type PeriodStateName } from "../../protocol";
import { formatPeriod } from "../../reconciliation/reveal";
import { RATE_SCALE, formatMicros, formatScaled } from "../../money/decimal";
import { loadFxTable } from "../../settlement/fx";
import { periodReference, periodViewJson } from "../../settlement/period-json";
import { formatAmount, isoTime } from "../../settlement/period-context";
import { loadPeriodView, type PeriodView } from "../../settlement/period-view";
import { DATA_DIR_OPTION, JSON_OPTION, UsageError, stringOption, type Command } from "../command";
import { openChainAs } from "../chain-context";
import { table, toJson } from "../format";
import { withNode } from "../node-context";
import { AGREEMENT_PERIOD_ARGS, AGREEMENT_PERIOD_POSITIONALS, resolveAgreementPeriod } from "../period-args";

const DEADLINE_LABELS: Record<string, string> = {
  roundStart: "round start",
  commitDeadline: "commit",
  revealDeadline: "reveal",
  reconcileDeadline: "correct (a new round) or open a dispute",
  defaultDisputeDeadline: "contest the default",
  responseDeadline: "answer the dispute",
  arbitrationDeadline: "arbiter's ruling",
  approvalDeadline: "approve; after it anyone may settle without approvals",
};

/** The ledger window that matters in each state (docs/CONTRACTS.md); other states have none. */
const STATE_WINDOW: Partial<Record<string, string>> = {
  Committing: "commitDeadline",
  Revealing: "revealDeadline",
  Mismatched: "reconcileDeadline",
  Defaulted: "defaultDisputeDeadline",
  Disputed: "responseDeadline",
  Escalated: "arbitrationDeadline",
  Uncontested: "approvalDeadline",
  Resolved: "approvalDeadline",
};

/** What is due next in the period's state, by chain time. */
function nextStep(view: PeriodView): { name: string; at: bigint | null; open: boolean } | null {
  const window = STATE_WINDOW[view.ctx.state];
  const at = window === undefined ? undefined : view.deadlines[window];
  if (window === "approvalDeadline" && at !== undefined && at < view.ctx.chainNow)
    return { name: "settlement without approvals (anyone may settle)", at: null, open: true };
  if (window !== undefined && at !== undefined)
    return { name: DEADLINE_LABELS[window] ?? window, at, open: at >= view.ctx.chainNow };
  if (["Matched", "Reconciled"].includes(view.ctx.state))
    return { name: "officers' approvals", at: null, open: true };
  if (view.ctx.state === "Approved") return { name: "settlement (anyone may settle)", at: null, open: true };
  return null;
}

function approvalsText(view: PeriodView, partial = false): string {
  return (partial ? view.approvals.partial : view.approvals.final)
    .map((c) => `${c.name} ${c.approved ? "✓" : `${c.count}/${c.threshold}`}`)
    .join(" ");
}

function parseState(text: string | undefined): PeriodStateName | undefined {
  if (text === undefined) return undefined;
  const state = PERIOD_STATES.find((s) => s.toLowerCase() === text.toLowerCase());
  if (!state) throw new UsageError(`--state '${text}' is not one of ${PERIOD_STATES.join(", ")}`);
  return state;
}

export const periodsListCommand: Command = {
  words: ["periods", "list"],
  summary:
    "List this node's agreement-periods with their ledger state, figures, next deadline and approvals.",
  description:
    "Every period this node built a summary for or the ledger holds a commitment for, newest first. Figures are\n" +
    "the final ones where the ledger has them, else this node's summary. Read-only: needs the node's chain\n" +
    "settings, no key.",
  options: {
    ...DATA_DIR_OPTION,
    state: {
      type: "string",
      valueName: "STATE",
      description: "only periods in this state (e.g. Mismatched)",
    },
    ...JSON_OPTION,
  },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const only = parseState(stringOption(args, "state"));
    const views = await withNode(args, io, async (node) => {
      const chain = await openChainAs(node, null);
      try {
        return await node.periods.list(chain, { state: only });
      } finally {
        chain.close();
      }
    });
    if (args.values.json) {
      io.stdout.write(toJson({ periods: views.map(periodViewJson) }));
      return 0;
    }
    if (views.length === 0) {
      io.stdout.write(only ? `No periods are ${only}.\n` : "No periods yet (icl period close builds one).\n");
      return 0;
    }
    io.stdout.write(
      table(
        [
          "agreement",
          "period",
          "state",
          "round",
          "A owes B",
          "B owes A",
          "figures",
          "next deadline",
          "approvals",
        ],
        views.map((view) => {
          const figures = view.final ?? view.local;
          const next = nextStep(view);
          const decimals = view.ctx.token.decimals;
          return [
            view.ctx.name,
            formatPeriod(view.ctx.period),
            view.ctx.state,
            view.round,
            figures ? formatScaled(figures.amountAB, decimals) : "",
            figures ? formatScaled(figures.amountBA, decimals) : "",
            view.final ? `final ${view.ctx.token.symbol}` : figures ? `ours ${view.ctx.token.symbol}` : "",
            next
              ? `${next.name}${next.at === null ? "" : ` ${isoTime(next.at)}${next.open ? "" : " (passed)"}`}`
              : "",
            approvalsText(view),
          ];
        }),
      ),
    );
    return 0;
  },
};

export const periodShowCommand: Command = {
  words: ["period", "show"],
  args: AGREEMENT_PERIOD_ARGS,
  summary:
    "Show one agreement-period: both parties' figures, the tolerance test, dispute, deadlines, approvals.",
  description:
    "Reads the ledger (state, revealed figures and roots, dispute, deadlines, approvals) and this node's own\n" +
    "summary and discrepancy report. Deadlines are judged by the chain's clock. With an FX table (config.json\n" +
    "fx) the figures are also shown in the reference currency. Read-only: needs the node's chain settings, no key.",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  positionals: AGREEMENT_PERIOD_POSITIONALS,
  async run(args, io) {
    const { view, reference } = await withNode(args, io, async (node) => {
      const { agreement, period } = await resolveAgreementPeriod(node.db, args);
      const chain = await openChainAs(node, null);
      try {
        const view = await loadPeriodView(node.db, chain, agreement, period);
        return { view, reference: periodReference(view, loadFxTable(node.config)) };
      } finally {
        chain.close();
      }
    });
    if (args.values.json) {
      io.stdout.write(toJson({ ...periodViewJson(view), reference }));
      return 0;
    }
    io.stdout.write(renderPeriodView(view));
    if (reference) {
      const rate = reference.rate
        ? ` at ${formatScaled(reference.rate.rate, RATE_SCALE).replace(/\.?0+$/, "")} (${reference.rate.date}, ${reference.rate.source})`
        : "";
      io.stdout.write(
        `\nIn ${reference.currency}${rate}, ${reference.of}: A owes B ${formatMicros(reference.amountAB)}, ` +
          `B owes A ${formatMicros(reference.amountBA)}\n`,
      );
    }
    return 0;
  },
};

/** The human rendering of `icl period show`. */
export function renderPeriodView(view: PeriodView): string {
  const { ctx, sides } = view;
  const token = ctx.token;
  const money = (value: bigint | null | undefined) =>
    value === null || value === undefined ? "—" : formatScaled(value, token.decimals);
  const ours =
    ctx.side === null
      ? ""
      : `; this node is party ${ctx.side} (${ctx.side === "A" ? sides.A.name : sides.B.name})`;
  const out: string[] = [
    `${ctx.label} — ${ctx.state} (round ${view.round})${ours}`,
    `Terms v${ctx.terms.version}: settles in ${token.symbol}; tolerance ${(ctx.terms.toleranceBps / 100).toFixed(2)}% ` +
      `or ${formatAmount(ctx.terms.toleranceAbs, token)}, rule ${ctx.terms.rule}; arbiter ${ctx.terms.arbiter}`,
    "",
  ];
  const headers = ["", `A ${sides.A.name} (${sides.A.status})`, `B ${sides.B.name} (${sides.B.status})`];
  const rows: string[][] = [
    ["A owes B", money(sides.A.amountAB), money(sides.B.amountAB)],
    ["B owes A", money(sides.A.amountBA), money(sides.B.amountBA)],
  ];
  if (view.local) {
    headers.push("this node's summary");
    rows[0]!.push(money(view.local.amountAB));
    rows[1]!.push(money(view.local.amountBA));
  }
  if (view.final) {
    headers.push("final");
    rows[0]!.push(money(view.final.amountAB));
    rows[1]!.push(money(view.final.amountBA));
  }
  if (view.partial) {
    headers.push("undisputed");
    rows[0]!.push(money(view.partial.amountAB));
    rows[1]!.push(money(view.partial.amountBA));
  }
  out.push(table(headers, rows).trimEnd(), `  amounts in ${token.symbol}`);
  out.push(`  root A ${sides.A.root ?? "—"}`, `  root B ${sides.B.root ?? "—"}`);
  if (view.local) {
    out.push(`  this node's root ${view.local.root}${view.local.committed ? "" : " (not committed)"}`);
  }
  if (view.tolerance) {
    out.push("", "Tolerance test (|A − B| ≤ max(bps × larger, absolute)):");
    for (const t of view.tolerance) {
      out.push(
        `  ${t.direction === "AB" ? "A→B" : "B→A"}: difference ${money(t.difference)}, allowed ${money(t.allowed)}: ` +
          (t.within ? "within" : "OUTSIDE"),
      );
    }
  }
  if (view.dispute) {
    const d = view.dispute;
    out.push("", `Dispute opened by ${d.opener}:`);
    if (d.proposed)
      out.push(
        `  latest proposal by ${d.proposer}: A→B ${money(d.proposed.amountAB)}, B→A ${money(d.proposed.amountBA)}`,
      );
    if (d.escalatedAt !== null) out.push(`  escalated at ${isoTime(d.escalatedAt)}`);
    if (d.resolved)
      out.push(
        `  resolved (${d.resolution}): A→B ${money(d.resolved.amountAB)}, B→A ${money(d.resolved.amountBA)}`,
      );
  }
  const next = nextStep(view);
  out.push("", `Chain time now ${isoTime(ctx.chainNow)}.`);
  if (next !== null && next.at !== null) {
    out.push(`Next: ${next.name} by ${isoTime(next.at)} (${next.open ? "open" : "passed"})`);
  } else if (next) {
    out.push(`Next: ${next.name}; no ledger deadline`);
  }
  const approvals = (label: string, list: PeriodView["approvals"]["final"]) => {
    if (list.every((c) => c.count === 0 && c.officers.length === 0)) return;
    out.push(`Approvals (${label}):`);
    for (const c of list) {
      out.push(
        `  ${c.name}: ${c.count} of ${c.threshold}${c.approved ? " — approved" : ""}` +
          (c.officers.length > 0 ? ` (${c.officers.join(", ")})` : ""),
      );
    }
  };
  out.push("");
  approvals("final figures", view.approvals.final);
  approvals("undisputed part", view.approvals.partial);
  if (view.approvals.final.every((c) => c.count === 0) && view.approvals.partial.every((c) => c.count === 0))
    out.push("Approvals: none yet");
  for (const s of view.pendingSignatures) {
    out.push(
      `  signed on this node, not yet submitted: ${s.officer} (${s.partial ? "partial" : "final"}, valid until ${isoTime(s.deadline)})`,
    );
  }
  if (view.report) {
    const counts = Object.entries(view.report.counts)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(", ");
    out.push(
      "",
      `Discrepancy report (round ${view.report.round}): ${view.report.leafCount} differing leaves${counts ? `: ${counts}` : ""}; ` +
        `evidence ${view.report.evidenceCid ?? "not stored"} (icl period report for details)`,
    );
  }
  return out.join("\n") + "\n";
}
