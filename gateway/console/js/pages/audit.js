/**
 * The regulator's audit view: every agreement-period's history on the ledger as a timeline of events
 * with their transactions, a verify button that replays the whole ledger from its deployment and checks
 * every settled amount against the commitments, and the report as CSV or HTML.
 */
import { api } from "../api.js";
import { badge, h, mount, table } from "../dom.js";
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
          h("code", report.ledger),
          `, blocks ${report.fromBlock}–${report.toBlock}.`,
        ),
        h(
          "div.actions",
          h("a.button", { href: "/api/v1/audit/report.csv", id: "report-csv" }, "Download CSV"),
          h("a.button", { href: "/api/v1/audit/report.html", id: "report-html" }, "Download HTML"),
        ),
      ),
      timelinePanel(report),
    );
  }
  mount(app, parts);
}

function verifyPanel(outcome) {
  const checked = Object.entries(outcome.checked)
    .map(([what, n]) => `${n} ${what}`)
    .join(", ");
  return h(
    "div",
    h(
      "p",
      { id: "verify-outcome" },
      outcome.ok ? badge("pass", "ok") : badge("fail", "bad"),
      ` Checked ${checked} over blocks ${outcome.fromBlock}–${outcome.toBlock} (at ${outcome.verifiedAt.slice(0, 19).replace("T", " ")} UTC).`,
    ),
    outcome.findings.length > 0
      ? table(
          [
            ["Severity", (f) => badge(f.severity, f.severity === "error" ? "bad" : "warn")],
            ["Kind", (f) => f.kind],
            ["Agreement", (f) => f.agreement ?? ""],
            ["Period", (f) => (f.period === null ? "" : String(f.period))],
            ["Block", (f) => (f.block === null ? "" : String(f.block))],
            ["What", (f) => f.message],
          ],
          outcome.findings,
        )
      : h("p.muted", "No findings."),
  );
}

function timelinePanel(report) {
  const rows = [];
  for (const agreement of report.agreements) {
    for (const period of agreement.periods) {
      for (const event of period.events) rows.push({ agreement, period, event });
    }
  }
  rows.sort((x, y) => x.event.block - y.event.block || x.event.logIndex - y.event.logIndex);
  return h(
    "div.panel",
    h("h2", "Timeline"),
    table(
      [
        ["Time", (r) => r.event.time.slice(0, 19).replace("T", " ")],
        ["Agreement", (r) => r.agreement.name],
        ["Period", (r) => String(r.period.period)],
        ["Event", (r) => r.event.event],
        ["Who", (r) => r.event.who],
        ["Detail", (r) => r.event.detail],
        [
          "Transaction",
          (r) => h("span.mono", { title: r.event.tx }, `${r.event.tx.slice(0, 12)}… #${r.event.block}`),
        ],
      ],
      rows,
      { attrs: { id: "audit-timeline" }, empty: "Nothing on the ledger yet." },
    ),
  );
}
