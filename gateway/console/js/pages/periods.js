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
  // An agreement this node is not party to (a regulator's or arbiter's view) is named by its ledger id.
  const ref = period.side === null ? period.agreementId : period.agreement;
  return h(
    "a",
    { href: `#/period/${encodeURIComponent(ref)}/${month(period.period)}` },
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

/** Columns of the periods table: header, cell, class, and the value it sorts by. */
const COLUMNS = [
  ["Period", periodLink, undefined, (p) => `${p.agreement} ${month(p.period)}`],
  ["State", (p) => stateBadge(p.state), undefined, (p) => p.state],
  ["Round", (p) => round(p.round), undefined, (p) => Number(p.round)],
  ["Party A", (p) => p.sides.A.name, undefined, (p) => p.sides.A.name],
  ["A's figures", (p) => figuresOf(p, "A"), "num", (p) => amountOf(p.sides.A.amountAB)],
  ["Party B", (p) => p.sides.B.name, undefined, (p) => p.sides.B.name],
  ["B's figures", (p) => figuresOf(p, "B"), "num", (p) => amountOf(p.sides.B.amountAB)],
];

function amountOf(value) {
  return value === null || value === undefined ? -1n : BigInt(value);
}

export function periodsTable(periods, empty = "No periods yet.", sort = undefined) {
  return table(
    COLUMNS.map(([title, cell, cls]) => [title, cell, cls]),
    periods,
    {
      empty,
      sort,
      attrs: { id: "periods-table" },
      rowData: (p) => ({ period: `${p.agreement}/${month(p.period)}` }),
    },
  );
}

/** The filter in the address ("#/periods?state=Mismatched&agreement=A-B&q=2026-10&sort=0&dir=descending"). */
function readFilter() {
  const query = new URLSearchParams(location.hash.split("?")[1] ?? "");
  const column = query.has("sort") ? Number(query.get("sort")) : NaN;
  return {
    state: query.get("state") ?? "",
    agreement: query.get("agreement") ?? "",
    q: query.get("q") ?? "",
    column: Number.isInteger(column) && column >= 0 && column < COLUMNS.length ? column : null,
    direction: query.get("dir") === "descending" ? "descending" : "ascending",
  };
}

function writeFilter(filter) {
  const query = new URLSearchParams();
  if (filter.state) query.set("state", filter.state);
  if (filter.agreement) query.set("agreement", filter.agreement);
  if (filter.q) query.set("q", filter.q);
  if (filter.column !== null) {
    query.set("sort", String(filter.column));
    query.set("dir", filter.direction);
  }
  const text = query.toString();
  // replaceState: the address follows the filter without a hashchange, so the page is not redrawn.
  history.replaceState(null, "", `#/periods${text ? `?${text}` : ""}`);
}

/** Whether `period` passes the filter: state, agreement, and the search words in its name, month or state. */
function matches(period, filter) {
  if (filter.state && period.state !== filter.state) return false;
  if (filter.agreement && period.agreement !== filter.agreement) return false;
  const words = filter.q.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const text = [
    period.agreement,
    month(period.period),
    period.state,
    period.sides.A.name,
    period.sides.B.name,
  ]
    .join(" ")
    .toLowerCase();
  return words.every((word) => text.includes(word));
}

function sorted(periods, filter) {
  if (filter.column === null) return periods;
  const key = COLUMNS[filter.column][3];
  const sign = filter.direction === "ascending" ? 1 : -1;
  return [...periods].sort((x, y) => {
    const a = key(x);
    const b = key(y);
    return sign * (typeof a === "string" ? a.localeCompare(b) : a < b ? -1 : a > b ? 1 : 0);
  });
}

export async function periodsPage(app) {
  const { periods } = await api.get("/api/v1/periods");
  const filter = readFilter();
  const states = [...new Set(periods.map((p) => p.state))].sort();
  const agreements = [...new Set(periods.map((p) => p.agreement))].sort();
  const option = (value, text, current) => h("option", { value, selected: value === current }, text);
  const count = h("p.muted", { id: "periods-count", "aria-live": "polite" });
  const box = h("div");

  function draw() {
    const shown = sorted(
      periods.filter((p) => matches(p, filter)),
      filter,
    );
    count.textContent = `${shown.length} of ${periods.length} periods shown.`;
    const sort = {
      column: filter.column,
      direction: filter.direction,
      onSort: (index) => {
        filter.direction =
          filter.column === index && filter.direction === "ascending" ? "descending" : "ascending";
        filter.column = index;
        update();
        box.querySelector(`th:nth-child(${index + 1}) button`)?.focus();
      },
    };
    mount(box, periodsTable(shown, periods.length === 0 ? "No periods yet." : "No period matches.", sort));
  }
  function update() {
    writeFilter(filter);
    draw();
  }

  const stateSelect = h(
    "select",
    { id: "filter-state", onchange: (e) => ((filter.state = e.target.value), update()) },
    option("", "Any state", filter.state),
    states.map((s) => option(s, s, filter.state)),
  );
  const agreementSelect = h(
    "select",
    { id: "filter-agreement", onchange: (e) => ((filter.agreement = e.target.value), update()) },
    option("", "Any agreement", filter.agreement),
    agreements.map((a) => option(a, a, filter.agreement)),
  );
  const search = h("input", {
    id: "filter-search",
    type: "search",
    value: filter.q,
    placeholder: "agreement, 2026-10, state",
    oninput: (e) => ((filter.q = e.target.value), update()),
  });
  draw();
  mount(
    app,
    h("h1", "Periods"),
    h("p.muted", "Figures are what each party revealed on the ledger, in the settlement token."),
    h(
      "div.panel.filters",
      h("label", { for: "filter-state" }, "State "),
      stateSelect,
      " ",
      h("label", { for: "filter-agreement" }, "Partner / agreement "),
      agreementSelect,
      " ",
      h("label", { for: "filter-search" }, "Search "),
      search,
    ),
    h("div.panel", count, box),
  );
}
