/**
 * The regulator's audit view: every agreement-period's history on the ledger as a timeline of events
 * with their transactions, a verify button that replays the whole ledger from its deployment and checks
 * every settled amount against the commitments, and the report as CSV or HTML.
 */
import { api } from "../api.js";
import { badge, h, mount, table } from "../dom.js";
import {
  count,
  decimal,
  eventWords,
  isoWhen,
  month,
  person,
  reasonWords,
  round,
  shortHash,
  withNames,
} from "../format.js";
import { attempt, hasRole } from "../main.js";

export async function auditPage(app) {
  const result = h("div", { id: "verify-result" });
  const verify = () =>
    attempt(async () => {
      mount(result, h("p.muted", "Replaying the ledger…"));
      const outcome = await api.get("/api/v1/audit/verify");
      mount(result, verifyPanel(outcome));
    });
  const parts = [
    h("h1", "Audit"),
    h(
      "div.panel",
      h("h2", "Verify the ledger"),
      h(
        "p",
        "Replays every event from the deployment block: each reveal against its commitment, each settlement against the ",
        "approved figures and the netting, every escrow movement. Nothing is taken from this node's own records.",
      ),
      h("div.actions", h("button.primary", { id: "verify", onclick: verify }, "Verify")),
      result,
    ),
  ];
  if (hasRole("regulator", "admin")) {
    const report = await api.get("/api/v1/audit/report");
    parts.push(
      h(
        "div.panel",
        h("h2", "Report"),
        h(
          "p",
          `Chain ${report.chainId}, ledger `,
          shortHash(report.ledger, 12),
          `, blocks ${report.fromBlock}–${report.toBlock}.`,
        ),
        h(
          "div.actions",
          h("a.button", { href: "/api/v1/audit/report.csv", id: "report-csv" }, "Download CSV"),
          h("a.button", { href: "/api/v1/audit/report.html", id: "report-html" }, "Download HTML"),
        ),
      ),
      carriersPanel(report),
      timelinePanel(report),
    );
  }
  mount(app, parts);
}

function verifyPanel(outcome) {
  const checked = Object.entries(outcome.checked)
    .map(([what, n]) => `${count(n)} ${what}`)
    .join(", ");
  return h(
    "div",
    h(
      "p",
      { id: "verify-outcome" },
      outcome.ok ? badge("pass", "ok") : badge("fail", "bad"),
      ` Checked ${checked} over blocks ${outcome.fromBlock}–${outcome.toBlock} (at ${isoWhen(outcome.verifiedAt)}).`,
    ),
    outcome.findings.length > 0
      ? table(
          [
            ["Severity", (f) => badge(f.severity, f.severity === "error" ? "bad" : "warn")],
            ["Kind", (f) => f.kind],
            ["Agreement", (f) => f.agreement ?? ""],
            ["Period", (f) => (f.period === null ? "" : month(f.period))],
            ["Block", (f) => (f.block === null ? "" : String(f.block))],
            ["What", (f) => f.message],
          ],
          outcome.findings,
        )
      : h("p.muted", "No findings."),
  );
}

/** Per carrier what it paid and received through settlement, and its escrow now. */
function carriersPanel(report) {
  return h(
    "div.panel",
    h("h2", "Paid and received per carrier"),
    table(
      [
        ["Carrier", (c) => c.name],
        ["Paid", (c) => decimal(c.paid, c.token.symbol), "num"],
        ["Received", (c) => decimal(c.received, c.token.symbol), "num"],
        ["Deposited", (c) => decimal(c.deposited, c.token.symbol), "num"],
        ["Withdrawn", (c) => decimal(c.withdrawn, c.token.symbol), "num"],
        ["In escrow now", (c) => decimal(c.escrow, c.token.symbol), "num"],
      ],
      report.carriers ?? [],
      { attrs: { id: "audit-carriers" } },
    ),
  );
}

function timelinePanel(report) {
  const names = report.names ?? {};
  const rows = [];
  for (const agreement of report.agreements) {
    for (const period of agreement.periods) {
      for (const event of period.events) rows.push({ agreement, period, event });
    }
  }
  rows.sort((x, y) => x.event.block - y.event.block || x.event.logIndex - y.event.logIndex);
  // Why each settlement moved what it did: after the undisputed part, a final settlement moves only the
  // remainder; several periods settled in one transaction were netted against each other.
  const settledIn = new Map();
  const partlyPaid = new Set();
  for (const r of rows) {
    if (r.event.event !== "Settled") continue;
    settledIn.set(r.event.tx, (settledIn.get(r.event.tx) ?? 0) + 1);
    const key = `${r.agreement.agreementId}:${r.period.period}`;
    if (/partial/.test(r.event.detail)) partlyPaid.add(key);
    else if (partlyPaid.has(key)) r.remainder = true;
  }
  for (const r of rows) if (r.event.event === "Settled") r.batch = settledIn.get(r.event.tx);
  return h(
    "div.panel",
    h("h2", "Timeline"),
    table(
      [
        ["Time", (r) => isoWhen(r.event.time)],
        ["Period", (r) => auditPeriodLink(r)],
        ["Event", (r) => eventWords(r.event.event, /partial|undisputed/.test(r.event.detail))],
        ["Who", (r) => (/^0x[0-9a-fA-F]{40}$/.test(r.event.who) ? person(r.event.who, names) : r.event.who)],
        ["Detail", (r) => auditDetail(r, names)],
        [
          "Transaction",
          (r) => h("span.mono", { title: r.event.tx }, `${r.event.tx.slice(0, 10)}… block ${r.event.block}`),
        ],
      ],
      rows,
      { attrs: { id: "audit-timeline" }, empty: "Nothing on the ledger yet." },
    ),
  );
}

/**
 * The period's page, by the agreement's ledger id: every agreement of the ledger opens from here, also
 * one this node is not party to (read from the chain alone).
 */
function auditPeriodLink({ agreement, period }) {
  return h(
    "a",
    { href: `#/period/${agreement.agreementId}/${month(period.period)}` },
    agreement.name,
    " ",
    h("span.nowrap", month(period.period)),
  );
}

/** An audit event's detail in words: its figures with the currency, names for addresses, short hashes. */
function auditDetail({ agreement, event, remainder, batch }, names) {
  const symbol = agreement.token.symbol;
  const figures =
    event.amountAB !== null && !/Mismatched/.test(event.detail)
      ? `A→B ${decimal(event.amountAB, symbol)}, B→A ${decimal(event.amountBA, symbol)}`
      : null;
  const net =
    event.netAB !== null && event.netAB !== undefined
      ? `${remainder ? "the remainder after the undisputed part: " : ""}moved ${event.netAB.startsWith("-") ? `${agreement.carrierB} → ${agreement.carrierA}` : `${agreement.carrierA} → ${agreement.carrierB}`} ${decimal(event.netAB.replace(/^-/, ""), symbol)}`
      : null;
  const netted = batch > 1 ? `netted with ${batch - 1} other period(s) in one batch` : null;
  const slots = (list) =>
    list
      .split(",")
      .map((slot) => Number(slot) + 1)
      .join(" and ");
  // Long hashes (commitments, roots, CIDs) shortened; addresses by name.
  const detail = String(event.detail ?? "")
    .replace(/\b(0x[0-9a-fA-F]{64})\b/g, (hash) => `${hash.slice(0, 10)}…`)
    .replace(/\b(baf[a-z2-7]{20,})\b/g, (cid) => `${cid.slice(0, 14)}…`)
    .replace(/^round (\d+)/, (_, n) => round(n))
    .replace(/: Mismatched$/, ": Mismatched (no figures agreed)")
    .replace(/reason ([a-z_]+) \(\d+\)/, (_, reason) => `reason: ${reasonWords(reason)}`)
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, (iso) => isoWhen(iso))
    .replace(
      /officer slots A ([\d,]+), B ([\d,]+)/,
      (_, a, b) =>
        `signed by ${agreement.carrierA} officers ${slots(a)}, ${agreement.carrierB} officers ${slots(b)}`,
    );
  return [
    detail ? h("div", withNames(detail, names)) : null,
    figures ? h("div", figures) : null,
    net ? h("div", h("strong", net)) : null,
    netted ? h("div.muted", netted) : null,
  ];
}
