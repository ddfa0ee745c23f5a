/**
 * One agreement-period: both parties' figures side by side with the tolerance test, the final and
 * undisputed figures, the dispute, deadlines and approvals (on the co-signed fast path: who signed its
 * Settlement); the actions the person may take now; the discrepancy report with its drill-down from
 * direction to destination to day to the CDRs in question; and the period's events on the ledger, with
 * the evidence and the ruling's rationale they name opened in place (evidence.js).
 */
import { ApiError, api, periodPath } from "../api.js";
import { badge, h, mount, table } from "../dom.js";
import {
  deadlineWords,
  eventWords,
  isoWhen,
  money,
  month,
  officersSigned,
  person,
  reasonWords,
  relative,
  resolutionWords,
  round,
  ruleWords,
  stateBadge,
  when,
} from "../format.js";
import { hasRole } from "../main.js";
import { actionsPanel } from "./actions.js";
import { evidenceViewer } from "./evidence.js";
import { relevantDeadlines } from "./dashboard.js";
import { reportPanel } from "./report.js";
import { noPeriodPage, refusesPeriod } from "./no-period.js";

export async function periodPage(app, agreement, period) {
  let view;
  try {
    view = await api.get(periodPath(agreement, period));
  } catch (error) {
    if (refusesPeriod(error)) return noPeriodPage(app, agreement, period, error);
    throw error;
  }
  const sym = view.token.symbol;
  const amount = (units) => money(units, view.token);
  const context = { view, agreement, period, amount, reload: () => periodPage(app, agreement, period) };

  const parts = [
    h("h1", `${view.agreement} ${month(view.period)} `, stateBadge(view.state)),
    h(
      "p.muted",
      `${round(view.round).replace(/^./, (c) => c.toUpperCase())}. `,
      view.side ? `This node is party ${view.side}. ` : "",
      `Party A: ${view.sides.A.name}; party B: ${view.sides.B.name}. Settles in ${sym}. `,
      `Tolerance: ${view.terms.toleranceBps / 100}% or ${amount(view.terms.toleranceAbs)}, whichever is larger; a default settles at ${ruleWords(view.terms.rule)}. `,
      view.terms.arbiter ? ["Arbiter: ", person(view.terms.arbiter, view.names), "."] : null,
    ),
    // The figures take the full width: six columns of amounts with their currency do not fit half of it.
    figuresPanel(view, amount),
    statusPanel(view, amount),
  ];
  if (view.settlement) parts.push(settlementRecord(view, amount));
  parts.push(await actionsPanel(context));
  if (view.report && hasRole("officer", "admin")) parts.push(await reportPanel(context));
  parts.push(await timelinePanel(context));
  mount(app, parts);
}

function figuresPanel(view, amount) {
  const rows = ["AB", "BA"].map((direction) => {
    const test = view.tolerance?.find((t) => t.direction === direction) ?? null;
    return {
      direction,
      label: direction === "AB" ? `A (${view.sides.A.name}) owes B` : `B (${view.sides.B.name}) owes A`,
      ofA: view.sides.A[`amount${direction}`],
      ofB: view.sides.B[`amount${direction}`],
      test,
    };
  });
  // Settled by the co-signed fast path: nothing was revealed, both carriers signed the same summary.
  const fastPath = view.settlement?.final?.fastPath === true;
  return h(
    "div.panel",
    h("h2", "Figures side by side"),
    fastPath
      ? h(
          "p",
          { id: "figures-table" },
          "Nothing was revealed: both nodes built the same summary, and both carriers' officers signed its figures ",
          "(the co-signed fast path), so there was nothing to compare.",
        )
      : table(
          [
            ["", (r) => r.label],
            [`${view.sides.A.name} (A) says`, (r) => amount(r.ofA), "num"],
            [`${view.sides.B.name} (B) says`, (r) => amount(r.ofB), "num"],
            ["Difference", (r) => (r.test ? amount(r.test.difference) : "—"), "num"],
            ["Allowed", (r) => (r.test ? amount(r.test.allowed) : "—"), "num"],
            [
              "Tolerance test",
              (r) =>
                r.test
                  ? badge(r.test.within ? "within" : "outside", r.test.within ? "ok" : "bad")
                  : h("span.muted", "after both reveal"),
            ],
          ],
          rows,
          { attrs: { id: "figures-table" } },
        ),
    view.local
      ? h(
          "p.muted",
          `This node's own summary: A owes B ${amount(view.local.amountAB)}, B owes A ${amount(view.local.amountBA)}${view.local.committed ? " (committed)" : " (not committed yet)"}.`,
        )
      : null,
    view.final
      ? h(
          "p",
          h("strong", "Final figures: "),
          `A owes B ${amount(view.final.amountAB)}; B owes A ${amount(view.final.amountBA)}.`,
        )
      : null,
    view.partial
      ? h(
          "p",
          h("strong", "Undisputed part (may settle first): "),
          `A owes B ${amount(view.partial.amountAB)}; B owes A ${amount(view.partial.amountBA)}.`,
        )
      : null,
  );
}

function statusPanel(view, amount) {
  const deadlines = relevantDeadlines(view);
  const dispute = view.dispute;
  // The undisputed part exists only in a dispute: a period that never had one shows no row for it.
  const approvals = [
    ...view.approvals.final.map((a) => ({ ...a, part: "final figures" })),
    ...(view.dispute || view.approvals.partial.some((a) => a.count > 0)
      ? view.approvals.partial.map((a) => ({ ...a, part: "undisputed part" }))
      : []),
  ];
  return h(
    "div.panel",
    h("h2", "Deadlines"),
    table(
      [
        ["Window", ([name]) => deadlineWords(name)],
        ["At (chain time)", ([, at]) => when(at)],
        ["", ([, at]) => relative(at, view.chainTime)],
      ],
      deadlines,
      { empty: "No window open in this state." },
    ),
    dispute
      ? [
          h("h3", "Dispute"),
          h(
            "p",
            `Opened by ${dispute.opener ?? "—"}. `,
            dispute.proposed
              ? `${dispute.proposer} proposed: A owes B ${amount(dispute.proposed.amountAB)}, B owes A ${amount(dispute.proposed.amountBA)}. `
              : "No proposal yet. ",
            dispute.escalatedAt ? `Escalated to the arbiter ${when(dispute.escalatedAt)}. ` : "",
            dispute.resolution !== "None"
              ? `Resolved: ${resolutionWords(dispute.resolution)}${dispute.resolved ? `, at A owes B ${amount(dispute.resolved.amountAB)}, B owes A ${amount(dispute.resolved.amountBA)}` : ""}.`
              : "",
          ),
        ]
      : null,
    h("h3", "Approvals"),
    table(
      [
        ["Carrier", (a) => a.name],
        ["Of", (a) => a.part],
        ["Signed", (a) => officersSigned(a.count, a.threshold, view.officerCounts?.[a.carrier])],
        ["", (a) => (a.approved ? badge("approved", "ok") : "")],
        ["Officers", (a) => a.officers.map((o) => h("div", person(o, view.names)))],
      ],
      approvals,
      { empty: "Nothing to approve yet." },
    ),
    view.fastPath ? fastPathPart(view.fastPath, view) : null,
    view.preReveal ? preRevealPart(view.preReveal, amount, view) : null,
    view.pendingSignatures.length > 0
      ? h(
          "p.muted",
          `${view.pendingSignatures.length} signature(s) gathered by this node, waiting for the threshold.`,
        )
      : null,
  );
}

/** A period this node leaves to the co-signed fast path: what both carriers' officers sign, and who did. */
function fastPathPart({ settlement, progress }, view) {
  return [
    h("h3", "Co-signed settlement (fast path)"),
    h(
      "p.muted",
      `Not committed: the node settles the period in one transaction once both carriers' officers signed ` +
        `the same figures, before ${when(settlement.deadline)}; else it commits and goes on by commit–reveal.`,
    ),
    table(
      [
        ["Carrier", (c) => c.name],
        ["Signed", (c) => officersSigned(c.signers.length, c.threshold, view.officerCounts?.[c.carrier])],
        ["Officers", (c) => c.signers.map((o) => h("div", person(o, view.names)))],
      ],
      [progress.ours, progress.theirs],
      { attrs: { id: "cosign-table" } },
    ),
  ];
}

/** A period held unrevealed while both carriers' officers approve the figures both openings give. */
function preRevealPart(pre, amount, view) {
  return [
    h("h3", "Approval before the reveal"),
    h(
      "p.muted",
      `Both nodes hold both openings and they reconcile (${pre.outcome}): A owes B ${amount(pre.amountAB)}, ` +
        `B owes A ${amount(pre.amountBA)}. The node keeps the period unrevealed while both carriers' officers ` +
        `approve these figures (valid until ${when(pre.deadline)}), then reveals, records both approvals and ` +
        "settles in one transaction; shortly before the reveal deadline it reveals anyway, and the approvals " +
        "signed so far still count.",
    ),
    table(
      [
        ["Carrier", (c) => c.name],
        ["Signed", (c) => officersSigned(c.signers.length, c.threshold, view.officerCounts?.[c.carrier])],
        ["Officers", (c) => c.signers.map((o) => h("div", person(o, view.names)))],
      ],
      [pre.ours, pre.theirs],
      { attrs: { id: "pre-reveal-table" } },
    ),
  ];
}

async function timelinePanel(context) {
  const { view, agreement, period, amount } = context;
  let events;
  try {
    ({ events } = await api.get(periodPath(agreement, period, "/timeline")));
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return null;
    if (error instanceof ApiError && error.status === 401) throw error;
    // The rest of the page stands: say why the ledger's events are missing, in their place.
    return h(
      "div.panel",
      h("h2", "On the ledger"),
      h("p.error", { role: "alert" }, `The period's ledger events cannot be shown: ${error.message}`),
    );
  }
  const viewer = evidenceViewer(context);
  return [
    h(
      "div.panel",
      h("h2", "On the ledger"),
      table(
        [
          ["Time", (e) => isoWhen(e.time)],
          ["Event", (e) => eventWords(e.event, e.partialSettlement === true)],
          [
            "By",
            (e) => [
              e.address ? person(e.address, view.names) : (e.carrier ?? ""),
              e.address && e.carrier ? h("div.muted", e.carrier) : null,
            ],
          ],
          ["What", (e) => eventFigures(view, e, amount)],
          ["Evidence", (e) => (e.cid ? viewer.cell(e) : "")],
          ["Transaction", (e) => h("span.mono", { title: e.tx }, `${e.tx.slice(0, 10)}… block ${e.block}`)],
        ],
        events,
        { empty: "Nothing on the ledger yet.", attrs: { id: "timeline-table" } },
      ),
    ),
    viewer.panel,
  ];
}

/** What an event on the ledger says, in words: the round, the outcome, the reason, the figures, what moved. */
function eventFigures(view, e, amount) {
  const parts = [];
  if (e.round !== null && e.round !== undefined) parts.push(`${round(e.round)}`);
  if (e.outcome) parts.push(e.outcome);
  if (e.reason) parts.push(`reason: ${reasonWords(e.reason)}`);
  if (e.event === "Settled") {
    const move = movedWords(view, BigInt(e.netAB ?? "0"), amount);
    parts.push(
      `${e.partialSettlement ? "undisputed part" : "final figures"} A→B ${amount(e.amountAB)}, B→A ${amount(e.amountBA)}`,
    );
    return [parts.join("; "), h("div", h("strong", move))];
  }
  // A Mismatched evaluation carries zeros, not figures.
  if (e.amountAB !== null && e.outcome !== "Mismatched")
    parts.push(`A→B ${amount(e.amountAB)}; B→A ${amount(e.amountBA)}`);
  return parts.join("; ");
}

/** "moved 33.147974 ICUSD from GLOBEX to INITECH" for a net A→B (negative: B→A). */
function movedWords(view, netAB, amount) {
  if (netAB === 0n) return "nothing moved (the directions cancel out)";
  const [from, to] =
    netAB > 0n ? [view.sides.A.name, view.sides.B.name] : [view.sides.B.name, view.sides.A.name];
  return `moved ${amount(netAB > 0n ? netAB : -netAB)} from ${from} to ${to}`;
}

/**
 * A settled period's record: what moved and why. A settlement of the undisputed part moves its net first;
 * the final settlement then moves only the remainder, so the rows must not be added up.
 */
function settlementRecord(view, amount) {
  const s = view.settlement;
  const net = (pair) => BigInt(pair.amountAB) - BigInt(pair.amountBA);
  const rows = [];
  if (s.partial)
    rows.push({
      what: "Undisputed part, settled first",
      figures: s.partial,
      moved: BigInt(s.partial.netAB),
      how: s.partial.batch,
    });
  if (s.final)
    rows.push({
      what: s.partial ? "Final figures, less the undisputed part already paid" : "Final figures",
      figures: s.final,
      moved: BigInt(s.final.netAB),
      how: s.final.batch,
      fastPath: s.final.fastPath,
    });
  const total = rows.reduce((sum, r) => sum + r.moved, 0n);
  return h(
    "div.panel",
    { id: "settlement-record" },
    h("h2", "What was paid"),
    table(
      [
        ["Settlement", (r) => r.what],
        ["A owes B", (r) => amount(r.figures.amountAB), "num"],
        ["B owes A", (r) => amount(r.figures.amountBA), "num"],
        ["Net of the figures", (r) => amount(net(r.figures) < 0n ? -net(r.figures) : net(r.figures)), "num"],
        ["Moved between escrows", (r) => movedWords(view, r.moved, amount)],
        [
          "How",
          (r) =>
            r.fastPath
              ? "by the co-signed fast path: both carriers' officers signed the same summary"
              : r.how > 1
                ? `netted with ${r.how - 1} other period(s) in one batch: the escrow transfers were offset`
                : "on its own",
        ],
      ],
      rows,
    ),
    h(
      "p",
      { id: "net-moved" },
      h("strong", "In all: "),
      `${movedWords(view, total, amount)}`,
      s.final
        ? ` — the net of the final figures, A owes B ${amount(s.final.amountAB)} less B owes A ${amount(s.final.amountBA)}.`
        : ".",
    ),
  );
}
