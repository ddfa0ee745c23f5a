/** Periods in dispute, or that were: where each stands and whose move it is. */
import { api } from "../api.js";
import { badge, h, money, mount, relative, table } from "../dom.js";
import { periodLink } from "./periods.js";

const OPEN = ["Mismatched", "Disputed", "Escalated"];

export async function disputesPage(app) {
  const { periods } = await api.get("/api/v1/periods");
  const relevant = periods.filter((p) => p.dispute !== null || OPEN.includes(p.state));
  const next = (p) => {
    const at =
      p.deadlines.arbitrationDeadline ?? p.deadlines.responseDeadline ?? p.deadlines.reconcileDeadline;
    return at ? relative(at, p.chainTime) : "—";
  };
  const figures = (pair, p) =>
    pair ? `${money(pair.amountAB, p.token.decimals)} / ${money(pair.amountBA, p.token.decimals)}` : "—";
  mount(
    app,
    h("h1", "Disputes"),
    h(
      "p.muted",
      "Mismatched periods wait for a dispute or approval; disputed ones for a proposal, an answer or the arbiter.",
    ),
    h(
      "div.panel",
      table(
        [
          ["Period", periodLink],
          ["State", (p) => badge(p.state)],
          ["Opened by", (p) => p.dispute?.opener ?? "—"],
          [
            "Proposal (A→B / B→A)",
            (p) =>
              p.dispute?.proposed
                ? [figures(p.dispute.proposed, p), h("div.muted", `by ${p.dispute.proposer}`)]
                : "—",
            "num",
          ],
          ["Resolution", (p) => p.dispute?.resolution ?? "—"],
          ["Next deadline", next],
        ],
        relevant,
        { empty: "No disputes.", attrs: { id: "disputes-table" } },
      ),
    ),
  );
}
