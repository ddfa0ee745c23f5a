/**
 * Evidence on a period's timeline, for everyone who should see it, opened in place below the timeline:
 *
 * - the two parties' officers open a bundle the ledger names for the period, whichever party cited it
 *   (the node fetches the other party's from its node) and read its files or report here;
 * - the arbiter, once the dispute is escalated, gets the bundle re-sealed to their own key and opens it in
 *   this tab with that key (arbiter-copy.js), which is asked for when the tab holds none;
 * - everyone else (the regulator, admins) sees that sealed evidence exists, its CID and the SHA-256 the
 *   CID carries, not what it holds;
 * - everyone reads a ruling's rationale, public text.
 *
 * Whatever fails (the partner's node unreachable, a CID not named for the period, bytes that are not the
 * CID's, a bundle that does not open) is said in words in the same place; nothing throws.
 */
import { ApiError, api, periodPath } from "../api.js";
import { openArbiterCopy } from "../arbiter-copy.js";
import { download, h, mount, reveal, table } from "../dom.js";
import { cidDigest, count, duration, money, plural, reasonWords } from "../format.js";
import { hasRole, session } from "../main.js";
import { connectKey, signer } from "../wallet.js";

/** The most of a file or report shown on the page; the rest is in the saved file. */
const SHOWN_CHARS = 20_000;

/** The panel evidence opens into (one per period page), and the cell of one timeline event. */
export function evidenceViewer({ agreement, period, view }) {
  const panel = h("div.panel", { id: "evidence-view", hidden: true });
  const show = (title, ...children) => {
    panel.hidden = false;
    mount(panel, h("h2", title), ...children);
    reveal(panel);
  };
  const failed = (title, error) =>
    show(title, h("p.error", { role: "alert" }, `Could not open it: ${messageOf(error)}.`));
  const path = (tail) => periodPath(agreement, period, tail);

  async function openAsParty(cid) {
    const title = `Evidence ${cid.slice(0, 14)}…`;
    show(title, h("p.muted", "Opening…"));
    try {
      const bundle = await api.get(path(`/evidence/${cid}`));
      show(
        title,
        h(
          "p.muted",
          bundle.source === "partner"
            ? "Fetched from the partner's node, checked against its CID and opened with the agreement's key."
            : "Opened with the agreement's key.",
        ),
        contentView(bundle.content, bundle.fileName, view),
      );
    } catch (error) {
      failed(title, error);
    }
  }

  async function openAsArbiter(cid) {
    const title = `Evidence ${cid.slice(0, 14)}…`;
    const current = signer();
    const mine = current && current.address.toLowerCase() === session.current.address.toLowerCase();
    if (!mine || current.sharedSecret === null) {
      const input = h("input", {
        type: "password",
        id: "arbiter-key",
        autocomplete: "off",
        placeholder: "0x…",
      });
      const load = () => {
        try {
          const loaded = connectKey(input.value);
          if (loaded.address.toLowerCase() !== session.current.address.toLowerCase())
            throw new Error("that key is not the signed-in arbiter's");
          return openAsArbiter(cid);
        } catch (error) {
          return failed(title, error);
        }
      };
      show(
        title,
        h(
          "p",
          "The evidence is sealed to your own key. ",
          mine ? "A browser wallet cannot decrypt: " : "",
          "load your key to open it here (kept in this tab's memory only, never sent).",
        ),
        h("label", { for: "arbiter-key" }, "Your key"),
        input,
        h("div.actions", h("button.primary", { id: "open-with-key", onclick: load }, "Open with my key")),
      );
      return;
    }
    show(title, h("p.muted", "Opening…"));
    try {
      const copy = await api.get(path(`/evidence/${cid}/arbiter-copy`), { publicKey: current.publicKey });
      const opened = await openArbiterCopy(copy.sealed, current.sharedSecret);
      if (opened.cid !== cid || opened.period !== Number(copy.period))
        throw new Error("the copy opened is not of the evidence asked for");
      show(
        title,
        h("p.muted", "Re-sealed to your key by the node and opened here with it."),
        contentView(opened.content, copy.fileName, view),
      );
    } catch (error) {
      failed(title, error);
    }
  }

  async function openRationale(cid) {
    const title = "The arbiter's rationale";
    show(title, h("p.muted", "Opening…"));
    try {
      const { text } = await api.get(path(`/rationale/${cid}`));
      show(title, h("p.rationale-text", { id: "rationale-text" }, text));
    } catch (error) {
      failed(title, error);
    }
  }

  /** What the timeline shows in an event's evidence column. */
  function cell(event) {
    const cid = event.cid;
    const button = (onclick, label = null) =>
      h(
        "button",
        { class: "evidence", "aria-label": label ?? `Open evidence ${cid}`, onclick: () => onclick(cid) },
        h("span", { title: cid }, `${cid.slice(0, 14)}…`),
      );
    if (event.event === "DisputeRuled") return button(openRationale, `Read the rationale ${cid}`);
    if (hasRole("officer")) return button(openAsParty);
    if (hasRole("arbiter")) return button(openAsArbiter);
    const digest = cidDigest(cid);
    return h(
      "span.sealed",
      h("span.mono", { title: cid }, `${cid.slice(0, 14)}…`),
      h(
        "div.muted",
        "sealed: the parties and, once escalated, the arbiter open it",
        digest ? h("div.mono", { title: digest }, `SHA-256 ${digest.slice(0, 16)}…`) : null,
      ),
    );
  }

  return { panel, cell };
}

/** A bundle's files as they were (text shown, every file saved on request), or a report as JSON. */
function contentView(content, fileName, view) {
  const files = content?.files;
  if (Array.isArray(files)) {
    return files.map((file) => {
      const bytes = Uint8Array.from(atob(file.base64), (c) => c.charCodeAt(0));
      let text = null;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      } catch {
        text = null;
      }
      return h(
        "div.evidence-file",
        h("h3", file.name),
        h("p.muted", `${count(bytes.length)} bytes`, file.sha256 ? `; SHA-256 ${file.sha256}` : ""),
        text === null
          ? h("p.muted", "Not text: save the file to read it.")
          : h("pre.evidence-text", truncated(text)),
        h("button", { onclick: () => download(file.name, bytes) }, `Save ${file.name}`),
      );
    });
  }
  const json = JSON.stringify(content, null, 2);
  const save = h("button", { onclick: () => download(fileName, json, "application/json") }, "Save as JSON");
  if (content?.kind === "discrepancy-report" && Array.isArray(content.report?.leaves)) {
    return [
      reportSummary(content, view),
      h("details", h("summary", "The report as sealed (JSON)"), h("pre.evidence-text", truncated(json))),
      save,
    ];
  }
  return [h("pre.evidence-text", truncated(json)), save];
}

const isoDay = (day) => new Date(day * 86_400_000).toISOString().slice(0, 10);

/**
 * A sealed discrepancy report in words: what the sealing party's node found, per day-destination that
 * differs, its own calls beside the other party's.
 */
function reportSummary(content, view) {
  const { report } = content;
  const amount = (units) => money(units, view.token);
  const sealer = view.sides[content.side]?.name ?? `party ${content.side}`;
  const other = view.sides[content.side === "A" ? "B" : "A"]?.name ?? "the other party";
  const kinds = Object.entries(report.counts ?? {})
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${reasonWords(kind)}: ${count(n)}`);
  const cdrs = Array.isArray(content.cdrs) ? content.cdrs.length : 0;
  return h(
    "div",
    { id: "evidence-report" },
    h(
      "p",
      `${sealer}'s discrepancy report: ${plural(report.leaves.length, "differing day-destination", "differing day-destinations")}`,
      kinds.length > 0 ? ` (${kinds.join("; ")})` : "",
      cdrs > 0 ? `, with ${plural(cdrs, "of its CDRs", "of its CDRs")} sealed beside it.` : ".",
    ),
    table(
      [
        ["Direction", (l) => l.leaf.direction.replace(/^(.)(.)$/, "$1→$2")],
        ["Destination", (l) => `${l.leaf.service} ${l.leaf.destination}`],
        ["Day", (l) => isoDay(l.leaf.day)],
        [`${sealer}'s calls`, (l) => count(l.ours?.records ?? 0), "num"],
        [`${other}'s calls`, (l) => count(l.theirs?.records ?? 0), "num"],
        ["Difference", (l) => `${duration(l.delta.billed)}, ${amount(l.delta.amount)}`, "num"],
        ["Found", (l) => l.kinds.map(reasonWords).join(", ")],
      ],
      report.leaves,
      { attrs: { id: "evidence-report-leaves" } },
    ),
  );
}

function truncated(text) {
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}\n… (save the file for the rest)` : text;
}

function messageOf(error) {
  const text = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  return text.replace(/[.\s]+$/, "");
}
