/** Periods in dispute, or that were: where each stands and whose move it is. */
import { api } from "../api.js";
import { h, mount, table } from "../dom.js";
import { deadlineWords, money, relative, resolutionWords, stateBadge } from "../format.js";
import { relevantDeadlines } from "./dashboard.js";
import { periodLink } from "./periods.js";

const OPEN = ["Mismatched", "Disputed", "Escalated"];

export async function disputesPage(app) {
  const { periods } = await api.get("/api/v1/periods");
  const relevant = periods.filter((p) => p.dispute !== null || OPEN.includes(p.state));
  // Only the windows that matter in the period's state: a settled period has no next deadline.
  const next = (p) => {
    const [name, at] = relevantDeadlines(p).find(([, t]) => BigInt(t) > BigInt(p.chainTime)) ?? [];
    return at ? [relative(at, p.chainTime), h("div.muted", deadlineWords(name))] : "—";
  };
  const figures = (pair, p) =>
    pair
      ? [h("div", `A→B ${money(pair.amountAB, p.token)}`), h("div", `B→A ${money(pair.amountBA, p.token)}`)]
      : "—";
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
          ["State", (p) => stateBadge(p.state)],
          ["Opened by", (p) => p.dispute?.opener ?? "—"],
          [
            "Proposal",
            (p) =>
              p.dispute?.proposed
                ? [figures(p.dispute.proposed, p), h("div.muted", `by ${p.dispute.proposer}`)]
                : "—",
            "num",
          ],
          ["Resolution", (p) => (p.dispute ? resolutionWords(p.dispute.resolution) : "—")],
          ["Next deadline", next],
        ],
        relevant,
        { empty: "No disputes.", attrs: { id: "disputes-table" } },
      ),
    ),
  );
}
