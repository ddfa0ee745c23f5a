/**
 * Settlement: the multilateral netting plan of the Approved periods, shown before anything is sent
 * (what each carrier pays or receives, the transfers saved, escrow top-ups needed), and this carrier's
 * escrow balances. Execution is `icl settle --netting` on the node (see README); the plan here is the
 * same computation.
 */
import { api } from "../api.js";
import { h, mount, table } from "../dom.js";

export async function settlementPage(app) {
  const [{ plans }, escrow] = await Promise.all([
    api.get("/api/v1/settlement/plan"),
    api.get("/api/v1/escrow"),
  ]);
  mount(
    app,
    h("h1", "Settlement"),
    h(
      "div.panel",
      h("h2", `Escrow of ${escrow.carrier}`),
      table(
        [
          ["Token", (b) => b.token],
          ["In escrow", (b) => b.escrow, "num"],
          ["Reserved by our approvals", (b) => b.reserved, "num"],
          ["Available", (b) => b.available, "num"],
          ["Approved periods waiting", (b) => String(b.pendingPeriods), "num"],
          ["Their net for us", (b) => b.pendingNet, "num"],
          ["After settlement", (b) => b.afterSettlement, "num"],
          ["Top-up needed", (b) => b.topUp, "num"],
        ],
        escrow.balances,
        { attrs: { id: "escrow-table" }, empty: "No listed token." },
      ),
    ),
    plans.length === 0
      ? h("div.panel", h("p.muted", "No Approved period waits for settlement."))
      : plans.map(planPanel),
  );
}

function planPanel(plan) {
  return h(
    "div.panel.netting-plan",
    h("h2", `Netting plan in ${plan.token}`),
    h(
      "p",
      `${plan.periods.length} period(s), gross ${plan.gross} ${plan.token}; netted away ${plan.netted}; ${plan.transfersSaved} of ${plan.bilateralTransfers} transfers saved.`,
    ),
    h("h3", "Periods"),
    table(
      [
        ["Agreement", (p) => p.agreement],
        ["Period", (p) => p.period],
        ["Payer", (p) => p.payer],
        ["Payee", (p) => p.payee],
        ["Amount", (p) => p.amount, "num"],
      ],
      plan.periods,
    ),
    h("h3", "Net positions"),
    table(
      [
        ["Carrier", (p) => p.carrier],
        ["Net", (p) => h(p.net.startsWith("-") ? "span.neg" : "span.pos", p.net), "num"],
        ["Escrow", (p) => p.escrow, "num"],
        ["Reserved", (p) => p.reserved, "num"],
        ["Escrow after", (p) => p.escrowAfter, "num"],
      ],
      plan.positions,
    ),
    h("h3", "Transfers after netting"),
    table(
      [
        ["From", (t) => t.from],
        ["To", (t) => t.to],
        ["Amount", (t) => t.amount, "num"],
      ],
      plan.nettedTransfers,
      { empty: "Nothing moves." },
    ),
    plan.topUps.length > 0
      ? [
          h("h3.neg", "Escrow top-ups needed before it can run"),
          table(
            [
              ["Carrier", (t) => t.carrier],
              ["Needed", (t) => t.needed, "num"],
              ["Available", (t) => t.available, "num"],
              ["Shortfall", (t) => t.shortfall, "num"],
            ],
            plan.topUps,
          ),
        ]
      : null,
    plan.warnings.map((w) => h("p.neg", w)),
    h(
      "p.muted",
      "To execute: ",
      h("code", "icl settle --netting"),
      " on this node (sent with the node key, once).",
    ),
  );
}
