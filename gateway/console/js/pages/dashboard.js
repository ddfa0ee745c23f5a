/**
 * The dashboard: periods by state, money owed and owing per partner over the periods not yet settled,
 * the deadlines coming up, the last closed month's totals per partner and direction, and charts of
 * traffic and amounts per day. Each part shows only where the
 * person's roles may read its data.
 */
import { api } from "../api.js";
import { h, mount, table } from "../dom.js";
import { count, deadlineWords, duration, money, relative, stateBadge, when } from "../format.js";
import { hasRole, session } from "../main.js";
import { PERIOD_ROLES, partnerOf, periodLink } from "./periods.js";

/** The windows that matter in each state (the others are past their phase, whatever the clock says). */
const RELEVANT = {
  Pending: ["commitDeadline"],
  Committing: ["commitDeadline"],
  Revealing: ["revealDeadline"],
  Matched: ["reconcileDeadline"],
  Reconciled: ["reconcileDeadline"],
  Mismatched: ["reconcileDeadline"],
  Defaulted: ["defaultDisputeDeadline"],
  Disputed: ["responseDeadline"],
  Escalated: ["arbitrationDeadline"],
  Uncontested: ["approvalDeadline"],
  Resolved: ["approvalDeadline"],
};

/** The period's deadlines that still matter in its state, soonest first, as [name, seconds]. */
export function relevantDeadlines(period) {
  const names = RELEVANT[period.state] ?? [];
  return Object.entries(period.deadlines)
    .filter(([name]) => names.includes(name))
    .sort((x, y) => Number(BigInt(x[1]) - BigInt(y[1])));
}

export async function dashboardPage(app) {
  const parts = [h("h1", "Dashboard")];
  if (hasRole(...PERIOD_ROLES)) {
    const { periods } = await api.get("/api/v1/periods");
    parts.push(stateTiles(periods), h("div.grid", owedPanel(periods), deadlinesPanel(periods)));
  }
  if (hasRole("operator", "officer", "admin")) parts.push(await closedMonthPanel(), await chartsPanel());
  if (parts.length === 1) parts.push(h("p.muted", `Signed in as ${session.current.roles.join(", ")}.`));
  mount(app, parts);
}

function stateTiles(periods) {
  const counts = new Map();
  for (const period of periods) counts.set(period.state, (counts.get(period.state) ?? 0) + 1);
  return h(
    "div.panel",
    h("h2", "Periods by state"),
    h(
      "div.tiles",
      { id: "state-tiles" },
      counts.size === 0
        ? h("p.muted", "No periods yet.")
        : [...counts].map(([state, n]) => h("div.tile", h("div.n", String(n)), stateBadge(state))),
    ),
  );
}

/** Per partner, over periods not settled: what this carrier owes and is owed (final figures, else its own). */
function owedPanel(periods) {
  const byPartner = new Map();
  for (const period of periods) {
    if (period.state === "Settled" || period.side === null) continue;
    const figures = period.final ?? period.local;
    if (!figures) continue;
    const partner = partnerOf(period);
    const row = byPartner.get(partner) ?? {
      partner,
      periods: 0,
      owe: 0n,
      owed: 0n,
      token: period.token,
    };
    const [ours, theirs] =
      period.side === "A" ? [figures.amountAB, figures.amountBA] : [figures.amountBA, figures.amountAB];
    row.periods += 1;
    row.owe += BigInt(ours);
    row.owed += BigInt(theirs);
    byPartner.set(partner, row);
  }
  return h(
    "div.panel",
    h("h2", "Owed and owing, periods not yet settled"),
    table(
      [
        ["Partner", (r) => r.partner],
        ["Periods", (r) => String(r.periods), "num"],
        ["We owe", (r) => money(r.owe, r.token), "num"],
        ["Owed to us", (r) => money(r.owed, r.token), "num"],
        ["Net", (r) => h(r.owed >= r.owe ? "span.pos" : "span.neg", money(r.owed - r.owe, r.token)), "num"],
      ],
      [...byPartner.values()],
      { empty: "Every period is settled.", attrs: { id: "owed-table" } },
    ),
    h("p.muted", "Final figures where the ledger has them, else this node's own."),
  );
}

function deadlinesPanel(periods) {
  const upcoming = [];
  for (const period of periods) {
    for (const [name, at] of relevantDeadlines(period)) {
      if (BigInt(at) > BigInt(period.chainTime)) upcoming.push({ period, name, at, now: period.chainTime });
    }
  }
  upcoming.sort((x, y) => Number(BigInt(x.at) - BigInt(y.at)));
  return h(
    "div.panel",
    h("h2", "Deadlines coming up"),
    table(
      [
        ["When (chain time)", (d) => h("span", { title: when(d.at) }, relative(d.at, d.now))],
        ["Period", (d) => periodLink(d.period)],
        ["What", (d) => deadlineWords(d.name)],
        ["State", (d) => stateBadge(d.period.state)],
      ],
      upcoming.slice(0, 12),
      { empty: "No open windows." },
    ),
  );
}

/** Directions in words, from this carrier's side. */
const DIRECTION_WORDS = { out: "to the partner (we pay)", in: "from the partner (we bill)" };

/** The last closed month per partner and direction: the figures the node froze when it closed it. */
async function closedMonthPanel() {
  const { period, totals } = await api.get("/api/v1/traffic/closed-month");
  return h(
    "div.panel",
    h("h2", period === null ? "Last closed month" : `Last closed month: ${period}`),
    table(
      [
        ["Partner", (t) => t.partner],
        ["Agreement", (t) => t.agreement],
        ["Direction", (t) => DIRECTION_WORDS[t.direction] ?? t.direction],
        ["Calls", (t) => count(t.calls), "num"],
        ["Minutes", (t) => duration(t.billedSeconds), "num"],
        ["Amount", (t) => money(t.amount, { decimals: 6, symbol: t.currency ?? "" }), "num"],
      ],
      totals,
      { empty: "No month closed yet.", attrs: { id: "closed-month-table" } },
    ),
    h("p.muted", "From the summaries this node closed the month with: the figures it committed."),
  );
}

async function chartsPanel() {
  const traffic = await api.get("/api/v1/traffic/daily");
  const days = [];
  for (let t = Date.parse(traffic.from); t <= Date.parse(traffic.to); t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  const series = (direction, field, scale) => {
    const sums = new Map(days.map((d) => [d, 0]));
    for (const row of traffic.days) {
      if (row.direction === direction)
        sums.set(row.day, sums.get(row.day) + Number(BigInt(row[field])) / scale);
    }
    return days.map((d) => Math.round(sums.get(d) * 100) / 100);
  };
  const minutes = h("canvas", { id: "traffic-chart", "aria-label": "Minutes per day" });
  const amounts = h("canvas", { id: "amount-chart", "aria-label": "Amounts per day" });
  const panel = h(
    "div.grid",
    h(
      "div.panel",
      h("h2", `Traffic per day, minutes (${traffic.from} – ${traffic.to})`),
      h("div.chart", minutes),
    ),
    h("div.panel", h("h2", "Rated amounts per day, in the tariffs' currency"), h("div.chart", amounts)),
  );
  if (window.Chart) {
    const options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { position: "bottom" } },
    };
    new window.Chart(minutes, {
      type: "line",
      data: {
        labels: days,
        datasets: [
          {
            label: "from partners (in)",
            data: series("in", "billedSeconds", 60),
            borderColor: "#0969da",
            pointRadius: 0,
          },
          {
            label: "to partners (out)",
            data: series("out", "billedSeconds", 60),
            borderColor: "#bf8700",
            pointRadius: 0,
          },
        ],
      },
      options,
    });
    new window.Chart(amounts, {
      type: "bar",
      data: {
        labels: days,
        datasets: [
          { label: "we bill (in)", data: series("in", "amount", 1e6), backgroundColor: "#2da44e" },
          { label: "we pay (out)", data: series("out", "amount", 1e6), backgroundColor: "#cf222e" },
        ],
      },
      options,
    });
  }
  return panel;
}
