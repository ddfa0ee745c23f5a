/** Every agreement-period this node knows, newest first, with its state and both parties' figures. */
import { api } from "../api.js";
import { badge, h, money, mount, month, table } from "../dom.js";

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
  const d = period.token.decimals;
  return `${money(s.amountAB, d)} / ${money(s.amountBA, d)}`;
}

export function periodsTable(periods, empty = "No periods yet.") {
  return table(
    [
      ["Period", periodLink],
      ["State", (p) => badge(p.state)],
      ["Round", (p) => String(p.round), "num"],
      ["Party A", (p) => p.sides.A.name],
      ["A's figures (A→B / B→A)", (p) => figuresOf(p, "A"), "num"],
      ["Party B", (p) => p.sides.B.name],
      ["B's figures", (p) => figuresOf(p, "B"), "num"],
      ["Token", (p) => p.token.symbol],
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
