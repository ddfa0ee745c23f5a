/**
 * The discrepancy report as a drill-down: direction → destination → day → the calls in question, with
 * this node's CDRs behind them. The calls one side lacks can be sealed as dispute evidence from here.
 */
import { api, periodPath } from "../api.js";
import { badge, flash, h, mount, table } from "../dom.js";
import { count, duration, isoWhen, money, plainAmount, plural, reasonWords, round } from "../format.js";
import { attempt, hasRole } from "../main.js";

/** A call's finding, as the calls table shows it. */
const FINDING_TEXT = {
  missing_on_their_side: "partner lacks it",
  duration_difference: "different duration",
  rate_difference: "different rate",
};

const isoDay = (day) => new Date(day * 86_400_000).toISOString().slice(0, 10);

function sum(leaves, field) {
  return leaves.reduce((total, l) => total + BigInt(l.delta[field]), 0n);
}

function kindsOf(leaves) {
  const counts = new Map();
  for (const leaf of leaves) for (const kind of leaf.kinds) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => badge(`${reasonWords(kind)} ×${n}`, "warn"));
}

function groupBy(items, key) {
  const groups = new Map();
  for (const item of items) {
    const k = key(item);
    groups.set(k, [...(groups.get(k) ?? []), item]);
  }
  return groups;
}

export async function reportPanel(context) {
  const { view, agreement, period } = context;
  const stored = await api.get(periodPath(agreement, period, "/report"));
  const report = stored.report;
  const d = view.token.decimals;
  const amount = (units) => money(units, view.token);
  const names = {
    AB: `${view.sides.A.name} → ${view.sides.B.name} (A→B)`,
    BA: `${view.sides.B.name} → ${view.sides.A.name} (B→A)`,
  };
  const deltaText = (leaves) =>
    `difference ${plural(sum(leaves, "records"), "call")}, ${duration(sum(leaves, "billed"))}, ${amount(sum(leaves, "amount"))}`;

  const tree = [...groupBy(report.leaves, (l) => l.leaf.direction)].map(([direction, byDirection]) =>
    h(
      "details.tree",
      { open: true, dataset: { direction } },
      h(
        "summary",
        h("strong", names[direction] ?? direction),
        " — ",
        deltaText(byDirection),
        " ",
        kindsOf(byDirection),
      ),
      [...groupBy(byDirection, (l) => `${l.leaf.service}|${l.leaf.destination}`)].map(([, byDestination]) =>
        h(
          "details.tree",
          { dataset: { destination: byDestination[0].leaf.destination } },
          h(
            "summary",
            `${byDestination[0].leaf.service} ${byDestination[0].leaf.destination} — `,
            deltaText(byDestination),
            " ",
            kindsOf(byDestination),
          ),
          byDestination.map((leaf) => dayLeaf(context, leaf, d, amount)),
        ),
      ),
    ),
  );

  const counts = Object.entries(report.counts).filter(([, n]) => n > 0);
  return h(
    "div.panel",
    { id: "report" },
    h("h2", "Discrepancy report"),
    h(
      "p",
      `${round(stored.round).replace(/^./, (c) => c.toUpperCase())}: ${plural(stored.leafCount, "differing day-destination", "differing day-destinations")} `,
      counts.map(([kind, n]) => badge(`${reasonWords(kind)}: ${count(n)}`, "warn")),
      ". Our totals over them: A→B ",
      amount(report.differingTotals.ours.AB),
      ", B→A ",
      amount(report.differingTotals.ours.BA),
      "; the partner's: A→B ",
      amount(report.differingTotals.theirs.AB),
      ", B→A ",
      amount(report.differingTotals.theirs.BA),
      ".",
    ),
    report.inconsistentLeaves.length > 0
      ? h(
          "p.neg",
          `${report.inconsistentLeaves.length} leaf(s) whose calls do not add up to their figures: a summary was built from other CDRs than it shows.`,
        )
      : null,
    h("p.muted", "Open a direction, then a destination, then a day to see the calls behind it."),
    tree,
  );
}

function dayLeaf(context, leaf, d, amount) {
  const box = h("div");
  const showCalls = () =>
    attempt(async () => {
      const calls = await api.get(periodPath(context.agreement, context.period, "/calls"), {
        direction: leaf.leaf.direction,
        service: leaf.leaf.service,
        destination: leaf.leaf.destination,
        day: isoDay(leaf.leaf.day),
      });
      mount(box, callsTable(context, calls, d, amount));
    });
  return h(
    "details.tree",
    { dataset: { day: isoDay(leaf.leaf.day) } },
    h(
      "summary",
      `${isoDay(leaf.leaf.day)} — ${plural(leaf.ours?.records ?? 0, "call")} here, ${count(leaf.theirs?.records ?? 0)} at the partner; difference ${duration(leaf.delta.billed)}, ${amount(leaf.delta.amount)} `,
      leaf.kinds.map((k) => badge(reasonWords(k), "warn")),
    ),
    h(
      "p",
      leaf.missingOnTheirSide.length > 0 ? `${leaf.missingOnTheirSide.length} call(s) only we have. ` : "",
      leaf.missingOnOurSide.length > 0
        ? `${leaf.missingOnOurSide.length} call(s) only the partner has. `
        : "",
      leaf.durationDifferences.length > 0
        ? `${leaf.durationDifferences.length} billed for different seconds. `
        : "",
      leaf.rateDifferences.length > 0 ? `${leaf.rateDifferences.length} priced differently. ` : "",
      leaf.shift
        ? `Traffic moved between ${isoDay(leaf.shift.fromDay)} and ${isoDay(leaf.shift.toDay)} (a clock or time-zone issue). `
        : "",
    ),
    h("button.show-calls", { onclick: showCalls }, "Show the calls"),
    box,
  );
}

/**
 * The partner's figure of a call that differs: its billed seconds for a duration difference, its amount
 * (micro-units in the API) for a rate difference.
 */
function partnerFigure(call, amount) {
  if (call.theirs === null || call.theirs === undefined) return "";
  if (call.finding === "duration_difference") return duration(call.theirs);
  return amount(call.theirs);
}

function callsTable(context, result, d, amount) {
  const flagged = result.calls.filter((c) => c.finding !== null);
  const csv = () =>
    [
      "cdr_id,call_key,a_number,b_number,start,billed_seconds,amount,finding,partner_figure",
      ...flagged.map((c) =>
        [
          c.cdrId,
          c.callKey,
          c.aNumber,
          c.bNumber,
          c.start,
          c.billedSeconds,
          plainAmount(c.amount, d),
          c.finding,
          c.theirs ?? "",
        ].join(","),
      ),
    ].join("\n") + "\n";
  const attach = () =>
    attempt(async () => {
      const name = `calls-${result.leaf.direction}-${result.leaf.day}.csv`.replace(/[^A-Za-z0-9_.-]/g, "_");
      const stored = await api.upload(
        periodPath(context.agreement, context.period, "/evidence"),
        csv(),
        { name },
        "text/csv",
      );
      context.evidenceCid = stored.cid;
      const input = document.getElementById("evidence-cid");
      if (input) input.value = stored.cid;
      flash(`Sealed ${flagged.length} call(s) as evidence ${stored.cid}; the dispute form cites it.`);
    });
  return h(
    "div",
    table(
      [
        ["CDR", (c) => h("code", c.cdrId)],
        ["Calling", (c) => c.aNumber],
        ["Called", (c) => c.bNumber],
        ["Start", (c) => isoWhen(c.start)],
        ["Billed", (c) => duration(c.billedSeconds), "num"],
        ["Amount", (c) => amount(c.amount), "num"],
        [
          "Finding",
          (c) => (c.finding ? badge(FINDING_TEXT[c.finding] ?? reasonWords(c.finding), "bad") : ""),
        ],
        ["Partner's figure", (c) => partnerFigure(c, amount), "num"],
      ],
      result.calls,
      {
        attrs: { class: "calls" },
        rowClass: (c) => (c.finding ? "finding" : null),
        empty: "No CDRs of ours behind this leaf.",
      },
    ),
    result.truncated ? h("p.muted", "More calls than shown.") : null,
    result.missingOnOurSide.length > 0
      ? h(
          "p",
          `The partner has ${result.missingOnOurSide.length} call(s) we have no CDR for: `,
          result.missingOnOurSide.map((k) => h("code", `${k.slice(0, 12)}… `)),
        )
      : null,
    flagged.length > 0 && hasRole("officer")
      ? h(
          "div.actions",
          h(
            "button.attach-evidence",
            { onclick: attach },
            `Seal these ${flagged.length} call(s) as dispute evidence`,
          ),
        )
      : null,
  );
}
