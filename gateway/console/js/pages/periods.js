/** Every agreement-period this node knows, newest first, with its state and both parties' figures. */
import { api } from "../api.js";
import { h, mount, table } from "../dom.js";
import { money, month, round, stateBadge } from "../format.js";

export const PERIOD_ROLES = ["officer", "regulator", "arbiter", "admin"];

/** The other carrier of a period, by name (or party B's for a viewer who is neither). */
export function partnerOf(period) {
  if (period.side === "A") return period.sides.B.name;
  if (period.side === "B") return period.sides.A.name;
  return `${period.sides.A.name} – ${period.sides.B.name}`;
}

export function periodLink(period) {
  return h(
    "a",
    { href: `#/period/${encodeURIComponent(period.agreement)}/${month(period.period)}` },
    `${period.agreement} ${month(period.period)}`,
  );
}

export function figuresOf(period, side) {
  const s = period.sides[side];
  if (s.amountAB === null) return h("span.muted", s.status);
  return [
    h("div", `A→B ${money(s.amountAB, period.token)}`),
    h("div", `B→A ${money(s.amountBA, period.token)}`),
  ];
}

export function periodsTable(periods, empty = "No periods yet.") {
  return table(
    [
      ["Period", periodLink],
      ["State", (p) => stateBadge(p.state)],
      ["Round", (p) => round(p.round)],
      ["Party A", (p) => p.sides.A.name],
      ["A's figures", (p) => figuresOf(p, "A"), "num"],
      ["Party B", (p) => p.sides.B.name],
      ["B's figures", (p) => figuresOf(p, "B"), "num"],
    ],
    periods,
    {
      empty,
      attrs: { id: "periods-table" },
      rowData: (p) => ({ period: `${p.agreement}/${month(p.period)}` }),
    },
  );
}

export async function periodsPage(app) {
  const { periods } = await api.get("/api/v1/periods");
  mount(
    app,
    h("h1", "Periods"),
    h("p.muted", "Figures are what each party revealed on the ledger, in the settlement token."),
    h("div.panel", periodsTable(periods)),
  );
}
