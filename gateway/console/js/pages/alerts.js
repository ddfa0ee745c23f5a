/**
 * Alerts: what the deadline watch of `icl run` told this node — windows about to close, defaults the
 * ledger applied, settlements sent or stuck (a top-up named) — newest first, filtered by level and
 * window the way `icl alerts --level … --since …` filters them. The filter lives in the address
 * ("#/alerts?level=warning&since=7d") so a link shows the same list.
 */
import { api } from "../api.js";
import { badge, h, mount, table } from "../dom.js";
import { month, when } from "../format.js";

export const ALERT_ROLES = ["operator", "officer", "admin"];

const LEVELS = [
  ["", "every level"],
  ["warning", "warnings"],
  ["action", "actions taken"],
  ["error", "errors"],
];
const WINDOWS = [
  ["", "any time"],
  ["1h", "the last hour"],
  ["24h", "the last day"],
  ["7d", "the last week"],
  ["30d", "the last 30 days"],
];
/** A level's badge colours: a warning asks for attention, an error for a fix. */
const LEVEL_KIND = { warning: "warn", action: "ok", error: "bad" };
const LEVEL_WORDS = { warning: "warning", action: "action taken", error: "error" };

function readFilter() {
  const query = new URLSearchParams(location.hash.split("?")[1] ?? "");
  return { level: query.get("level") ?? "", since: query.get("since") ?? "" };
}

function select(id, options, value, onchange) {
  return h(
    "select",
    { id, onchange },
    options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)),
  );
}

export async function alertsPage(app) {
  const filter = readFilter();
  const { alerts } = await api.get("/api/v1/alerts", filter);
  const refilter = () => {
    const query = new URLSearchParams();
    const level = document.getElementById("alerts-level").value;
    const since = document.getElementById("alerts-since").value;
    if (level) query.set("level", level);
    if (since) query.set("since", since);
    const text = query.toString();
    location.hash = `#/alerts${text ? `?${text}` : ""}`;
  };
  mount(
    app,
    h("h1", "Alerts"),
    h(
      "div.panel",
      h("label", { for: "alerts-level" }, "Level"),
      select("alerts-level", LEVELS, filter.level, refilter),
      h("label", { for: "alerts-since" }, "When"),
      select("alerts-since", WINDOWS, filter.since, refilter),
      h("p.muted", { id: "alerts-count" }, `${alerts.length} ${alerts.length === 1 ? "alert" : "alerts"}`),
      table(
        [
          ["Time", (a) => `${a.createdAt.slice(0, 16).replace("T", " ")} UTC`],
          ["Level", (a) => badge(LEVEL_WORDS[a.level] ?? a.level, LEVEL_KIND[a.level] ?? a.level)],
          ["Period", (a) => periodCell(a)],
          ["Deadline", (a) => (a.deadline === null ? "—" : when(a.deadline))],
          ["What", (a) => a.message.replace(/^period \S+ \d{4}-\d{2}: /, "")],
        ],
        [...alerts].reverse(),
        { empty: "No alerts.", attrs: { id: "alerts-table" } },
      ),
    ),
  );
}

/** The period an alert is about, linked to its page (the agreement by name where this node knows it). */
function periodCell(alert) {
  const agreement = alert.agreementName ?? alert.agreementId;
  const label = `${alert.agreementName ?? `${alert.agreementId.slice(0, 10)}…`} ${month(alert.period)}`;
  return [
    h("a", { href: `#/period/${encodeURIComponent(agreement)}/${month(alert.period)}` }, label),
    alert.round > 0 ? h("span.muted", ` correction round ${alert.round}`) : null,
  ];
}
