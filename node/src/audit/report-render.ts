/**
 * The audit report as CSV (one row per event) and as a standalone HTML document (inline CSS and an
 * inline SVG chart, no external assets).
 */
import type { AuditReport } from "./report";

const CSV_COLUMNS = [
  "agreement_id",
  "agreement",
  "period",
  "block",
  "time",
  "tx",
  "log_index",
  "event",
  "who",
  "amount_ab",
  "amount_ba",
  "net_ab",
  "token",
  "detail",
] as const;

/** One row per event, RFC 4180 quoting. */
export function reportCsv(report: AuditReport): string {
  const rows = [CSV_COLUMNS.join(",")];
  for (const a of report.agreements) {
    for (const p of a.periods) {
      for (const e of p.events) {
        rows.push(
          [
            a.agreementId,
            a.name,
            String(p.period),
            String(e.block),
            e.time,
            e.tx,
            String(e.logIndex),
            e.event,
            e.who,
            e.amountAB ?? "",
            e.amountBA ?? "",
            e.netAB ?? "",
            a.token.symbol,
            e.detail,
          ]
            .map(csvCell)
            .join(","),
        );
      }
    }
  }
  return rows.join("\r\n") + "\r\n";
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function esc(value: string | number): string {
  return String(value)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

function month(period: number): string {
  return `${Math.floor(period / 100)}-${String(period % 100).padStart(2, "0")}`;
}

/** Bars of |settled net| per agreement-period; heights by integer arithmetic on token units. */
function chart(report: AuditReport): string {
  const bars = report.agreements.flatMap((a) =>
    a.periods
      .filter((p) => BigInt(p.settledNetUnits) !== 0n)
      .map((p) => ({
        label: `${a.name} ${month(p.period)}`,
        units: BigInt(p.settledNetUnits),
        text: `${p.settledNetAB.replace(/^-/, "")} ${a.token.symbol} ${BigInt(p.settledNetUnits) >= 0n ? a.carrierA + "→" + a.carrierB : a.carrierB + "→" + a.carrierA}`,
      })),
  );
  if (bars.length === 0) return "<p>No settlements yet.</p>";
  const abs = (v: bigint) => (v < 0n ? -v : v);
  const max = bars.reduce((m, b) => (abs(b.units) > m ? abs(b.units) : m), 1n);
  const barWidth = 48;
  const gap = 24;
  const plot = 220;
  // Room on the right for the last bar's label, which is drawn at 40°.
  const width = bars.length * (barWidth + gap) + gap + 90;
  const height = plot + 110;
  const parts = bars.map((b, i) => {
    const h = Number((abs(b.units) * BigInt(plot)) / max);
    const x = gap + i * (barWidth + gap);
    const y = 20 + plot - h;
    const cls = b.units >= 0n ? "ab" : "ba";
    return (
      `<g><title>${esc(b.label)}: ${esc(b.text)}</title>` +
      `<rect class="${cls}" x="${x}" y="${y}" width="${barWidth}" height="${Math.max(h, 1)}"/>` +
      `<text x="${x + barWidth / 2}" y="${y - 4}" text-anchor="middle" class="v">${esc(b.text.split(" ")[0] ?? "")}</text>` +
      `<text transform="translate(${x + barWidth / 2},${24 + plot}) rotate(35)" class="l">${esc(b.label)}</text></g>`
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Settled amounts per period" ` +
    `width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<line x1="${gap / 2}" y1="${20 + plot}" x2="${width - 90 - gap / 2}" y2="${20 + plot}" class="axis"/>` +
    parts.join("") +
    `</svg><p class="legend"><span class="sw ab"></span> A pays B <span class="sw ba"></span> B pays A (net moved per period)</p>`
  );
}

/** A standalone, readable HTML document of the report. */
export function reportHtml(report: AuditReport): string {
  const carriers = report.carriers
    .map(
      (c) =>
        `<tr><td>${esc(c.name)}</td><td>${esc(c.token.symbol)}</td><td class="n">${esc(c.paid)}</td>` +
        `<td class="n">${esc(c.received)}</td><td class="n">${esc(c.deposited)}</td>` +
        `<td class="n">${esc(c.withdrawn)}</td><td class="n">${esc(c.escrow)}</td></tr>`,
    )
    .join("\n");
  const agreements = report.agreements
    .map((a) => {
      const periods = a.periods
        .map((p) => {
          const rows = p.events
            .map(
              (e) =>
                `<tr><td class="n">${e.block}</td><td>${esc(e.time.replace("T", " ").replace(/\.\d+Z$/, "Z"))}</td>` +
                `<td>${esc(e.event)}</td><td>${esc(e.who)}</td><td class="n">${esc(e.amountAB ?? "")}</td>` +
                `<td class="n">${esc(e.amountBA ?? "")}</td><td class="n">${esc(e.netAB ?? "")}</td>` +
                `<td class="tx" title="${esc(e.tx)}">${esc(e.tx.slice(0, 10))}…</td><td>${esc(e.detail)}</td></tr>`,
            )
            .join("\n");
          return (
            `<h3>${esc(month(p.period))} <span class="state">${esc(p.state)}</span></h3>` +
            `<p>Net settled A→B: <b>${esc(p.settledNetAB)} ${esc(a.token.symbol)}</b></p>` +
            `<table><thead><tr><th>block</th><th>time (UTC)</th><th>event</th><th>who</th><th>A→B</th>` +
            `<th>B→A</th><th>net A→B</th><th>tx</th><th>detail</th></tr></thead><tbody>\n${rows}\n</tbody></table>`
          );
        })
        .join("\n");
      return (
        `<section><h2>${esc(a.name)}</h2><p class="meta">Agreement ${esc(a.agreementId)}; party A ${esc(a.carrierA)}, ` +
        `party B ${esc(a.carrierB)}; settles in ${esc(a.token.symbol)} (${esc(a.token.address)})</p>\n${periods || "<p>No period activity.</p>"}</section>`
      );
    })
    .join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Interconnect Ledger audit report — ${esc(report.ledger)}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2329; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { border-bottom: 2px solid #d7dde3; padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { margin: 1.4rem 0 .3rem; } .meta { color: #5a6570; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
th, td { border-bottom: 1px solid #e3e7eb; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f5f7; font-weight: 600; } td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.tx { font-family: ui-monospace, monospace; font-size: 12px; }
td:last-child, td.tx { overflow-wrap: anywhere; } td:nth-child(2) { white-space: nowrap; }
.state { font-size: .8rem; background: #e8eef5; border-radius: 4px; padding: .1rem .4rem; font-weight: 500; }
svg .ab { fill: #2f6db5; } svg .ba { fill: #c46a2b; } svg .axis { stroke: #8a949e; }
svg .v { font-size: 11px; fill: #1d2329; } svg .l { font-size: 11px; fill: #5a6570; }
.legend .sw { display: inline-block; width: 12px; height: 12px; margin: 0 .2rem 0 .8rem; vertical-align: -1px; }
.legend .sw.ab { background: #2f6db5; } .legend .sw.ba { background: #c46a2b; }
</style>
</head>
<body>
<h1>Interconnect Ledger — audit report</h1>
<p class="meta">Ledger ${esc(report.ledger)} on chain ${esc(report.chainId)}, blocks ${report.fromBlock}–${report.toBlock}; generated ${esc(report.generatedAt)}. Amounts in token units with the token's decimals.</p>
<h2>Carriers</h2>
<table><thead><tr><th>carrier</th><th>token</th><th>paid</th><th>received</th><th>deposited</th><th>withdrawn</th><th>escrow now</th></tr></thead>
<tbody>
${carriers || '<tr><td colspan="7">No settlements or deposits.</td></tr>'}
</tbody></table>
<h2>Settled amounts per period</h2>
${chart(report)}
${agreements}
</body>
</html>
`;
}
