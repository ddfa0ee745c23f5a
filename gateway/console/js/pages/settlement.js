/**
 * Settlement: the multilateral netting plan of the Approved periods, shown before anything is sent
 * (what each carrier pays or receives, the transfers saved, escrow top-ups needed), and this carrier's
 * escrow balances. Execution is `icl settle --netting` on the node (see README); the plan here is the
 * same computation.
 */
import { api } from "../api.js";
import { h, mount, table } from "../dom.js";
import { decimal, month } from "../format.js";

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
          ["In escrow", (b) => decimal(b.escrow, b.token), "num"],
          ["Reserved by our approvals", (b) => decimal(b.reserved, b.token), "num"],
          ["Available", (b) => decimal(b.available, b.token), "num"],
          ["Approved periods waiting", (b) => String(b.pendingPeriods), "num"],
          ["Their net for us", (b) => decimal(b.pendingNet, b.token), "num"],
          ["After settlement", (b) => decimal(b.afterSettlement, b.token), "num"],
          ["Top-up needed", (b) => decimal(b.topUp, b.token), "num"],
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
  const t = (text) => decimal(text, plan.token);
  return h(
    "div.panel.netting-plan",
    h("h2", `Netting plan in ${plan.token}`),
    h(
      "p",
      `${plan.periods.length} period(s), gross ${t(plan.gross)}; netted away ${t(plan.netted)}; ${plan.transfersSaved} of ${plan.bilateralTransfers} transfers saved.`,
    ),
    h("h3", "Periods"),
    table(
      [
        ["Agreement", (p) => p.agreement],
        ["Period", (p) => month(p.period)],
        ["Payer", (p) => p.payer],
        ["Payee", (p) => p.payee],
        ["Amount", (p) => t(p.amount), "num"],
      ],
      plan.periods,
    ),
    h("h3", "Net positions"),
    table(
      [
        ["Carrier", (p) => p.carrier],
        ["Net", (p) => h(p.net.startsWith("-") ? "span.neg" : "span.pos", t(p.net)), "num"],
        ["Escrow", (p) => t(p.escrow), "num"],
        ["Reserved", (p) => t(p.reserved), "num"],
        ["Escrow after", (p) => t(p.escrowAfter), "num"],
      ],
      plan.positions,
    ),
    h("h3", "Transfers after netting"),
    table(
      [
        ["From", (x) => x.from],
        ["To", (x) => x.to],
        ["Amount", (x) => t(x.amount), "num"],
      ],
      plan.nettedTransfers,
      { empty: "Nothing moves." },
    ),
    plan.topUps.length > 0
      ? [
          h("h3.neg", "Escrow top-ups needed before it can run"),
          table(
            [
              ["Carrier", (x) => x.carrier],
              ["Needed", (x) => t(x.needed), "num"],
              ["Available", (x) => t(x.available), "num"],
              ["Shortfall", (x) => t(x.shortfall), "num"],
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
