/**
 * One agreement-period: both parties' figures side by side with the tolerance test, the final and
 * undisputed figures, the dispute, deadlines and approvals (on the co-signed fast path: who signed its
 * Settlement); the actions the person may take now; the discrepancy report with its drill-down from
 * direction to destination to day to the CDRs in question; and the period's events on the ledger.
 */
import { ApiError, api, periodPath } from "../api.js";
import { badge, download, h, money, mount, month, relative, table, when } from "../dom.js";
import { hasRole } from "../main.js";
import { actionsPanel } from "./actions.js";
import { DEADLINE_NAMES, relevantDeadlines } from "./dashboard.js";
import { reportPanel } from "./report.js";

const RULES = {
  Terminating: "the terminating carrier's figures",
  Originating: "the originating carrier's figures",
  Mean: "the mean",
};

export async function periodPage(app, agreement, period) {
  const view = await api.get(periodPath(agreement, period));
  const d = view.token.decimals;
  const sym = view.token.symbol;
  const amount = (units) => (units === null || units === undefined ? "—" : `${money(units, d)} ${sym}`);
  const context = { view, agreement, period, amount, reload: () => periodPage(app, agreement, period) };

  const parts = [
    h("h1", `${view.agreement} ${month(view.period)} `, badge(view.state)),
    h(
      "p.muted",
      `Round ${view.round}. `,
      view.side ? `This node is party ${view.side}. ` : "",
      `Party A: ${view.sides.A.name}; party B: ${view.sides.B.name}. Settles in ${sym}. `,
      `Tolerance: ${view.terms.toleranceBps / 100}% or ${amount(view.terms.toleranceAbs)}, whichever is larger; a default settles at ${RULES[view.terms.rule] ?? view.terms.rule}.`,
    ),
    h("div.grid", figuresPanel(view, amount), statusPanel(view, amount)),
  ];
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
  return h(
    "div.panel",
    h("h2", "Figures side by side"),
    table(
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
  const approvals = [
    ...view.approvals.final.map((a) => ({ ...a, part: "final" })),
    ...view.approvals.partial.map((a) => ({ ...a, part: "undisputed part" })),
  ];
  return h(
    "div.panel",
    h("h2", "Deadlines"),
    table(
      [
        ["Window", ([name]) => DEADLINE_NAMES[name] ?? name],
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
            dispute.resolution !== "None" ? `Resolution: ${dispute.resolution}.` : "",
          ),
        ]
      : null,
    h("h3", "Approvals"),
    table(
      [
        ["Carrier", (a) => a.name],
        ["Of", (a) => a.part],
        ["Signed", (a) => `${a.count} of ${a.threshold}`, "num"],
        ["", (a) => (a.approved ? badge("approved", "ok") : "")],
        ["Officers", (a) => a.officers.map((o) => h("div.mono", o))],
      ],
      approvals,
      { empty: "Nothing to approve yet." },
    ),
    view.fastPath ? fastPathPart(view.fastPath) : null,
    view.preReveal ? preRevealPart(view.preReveal, amount) : null,
    view.pendingSignatures.length > 0
      ? h(
          "p.muted",
          `${view.pendingSignatures.length} signature(s) gathered by this node, waiting for the threshold.`,
        )
      : null,
  );
}

/** A period this node leaves to the co-signed fast path: what both carriers' officers sign, and who did. */
function fastPathPart({ settlement, progress }) {
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
        ["Signed", (c) => `${c.signers.length} of ${c.threshold}`, "num"],
        ["Officers", (c) => c.signers.map((o) => h("div.mono", o))],
      ],
      [progress.ours, progress.theirs],
      { attrs: { id: "cosign-table" } },
    ),
  ];
}

/** A period held unrevealed while both carriers' officers approve the figures both openings give. */
function preRevealPart(pre, amount) {
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
        ["Signed", (c) => `${c.signers.length} of ${c.threshold} officers`, "num"],
        ["Officers", (c) => c.signers.map((o) => h("div.mono", o))],
      ],
      [pre.ours, pre.theirs],
      { attrs: { id: "pre-reveal-table" } },
    ),
  ];
}

async function timelinePanel({ view, agreement, period, amount }) {
  let events;
  try {
    ({ events } = await api.get(periodPath(agreement, period, "/timeline")));
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return null;
    throw error;
  }
  const evidence = (cid) =>
    hasRole("officer")
      ? h(
          "button",
          {
            class: "evidence",
            onclick: async () => {
              const bundle = await api.get(periodPath(agreement, period, `/evidence/${cid}`));
              saveBundle(bundle);
            },
          },
          `${cid.slice(0, 14)}…`,
        )
      : h("code", `${cid.slice(0, 14)}…`);
  return h(
    "div.panel",
    h("h2", "On the ledger"),
    table(
      [
        ["Time", (e) => e.time.slice(0, 19).replace("T", " ")],
        ["Event", (e) => e.event],
        ["By", (e) => [e.carrier ?? "", e.address ? h("div.mono", e.address) : null]],
        [
          "Figures",
          (e) =>
            e.outcome
              ? e.outcome
              : e.amountAB !== null
                ? `A→B ${amount(e.amountAB)}; B→A ${amount(e.amountBA)}`
                : e.netAB !== null
                  ? `net A→B ${money(e.netAB, view.token.decimals)}`
                  : (e.outcome ?? e.reason ?? ""),
        ],
        ["Evidence", (e) => (e.cid ? evidence(e.cid) : "")],
        ["Transaction", (e) => h("span.mono", { title: e.tx }, `${e.tx.slice(0, 10)}… #${e.block}`)],
      ],
      events,
      { empty: "Nothing on the ledger yet.", attrs: { id: "timeline-table" } },
    ),
  );
}

/** An opened evidence bundle: its files as they were, or the report as JSON. */
function saveBundle(bundle) {
  const files = bundle.content?.files;
  if (Array.isArray(files)) {
    for (const file of files) {
      const bytes = Uint8Array.from(atob(file.base64), (c) => c.charCodeAt(0));
      download(file.name, bytes);
    }
  } else {
    download(bundle.fileName, JSON.stringify(bundle.content, null, 2), "application/json");
  }
}
