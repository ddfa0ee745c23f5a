/**
 * Agreements (ids and parties are on the ledger anyway; never their secrets) and, for the carrier's own
 * staff, tariff decks with a check of a new deck and, for operators and admins, its import.
 */
import { api } from "../api.js";
import { badge, flash, h, mount, table } from "../dom.js";
import { count, isoWhen, shortHash } from "../format.js";
import { attempt, hasRole } from "../main.js";

export async function agreementsPage(app) {
  const { agreements } = await api.get("/api/v1/agreements");
  const parts = [
    h("h1", "Agreements & tariffs"),
    h(
      "div.panel",
      h("h2", "Agreements"),
      table(
        [
          ["Name", (a) => a.name],
          ["Partner", (a) => a.partnerId],
          ["We are party", (a) => a.side],
          ["Ledger id", (a) => shortHash(a.agreementId, 14)],
          ["Partner node", (a) => a.peerUrl ?? h("span.muted", "not set")],
        ],
        agreements,
        { attrs: { id: "agreements-table" } },
      ),
    ),
  ];
  if (hasRole("operator", "officer", "admin")) {
    const { decks } = await api.get("/api/v1/tariffs");
    parts.push(
      h(
        "div.panel",
        h("h2", "Tariff decks"),
        table(
          [
            ["Deck", (d) => d.name],
            ["Partner", (d) => d.partner],
            [
              "Direction",
              (d) =>
                d.direction === "in"
                  ? "in: our rates to them"
                  : d.direction === "out"
                    ? "out: their rates to us"
                    : d.direction,
            ],
            ["Currency", (d) => d.currency],
            ["Rows", (d) => count(d.rows), "num"],
            ["Imported", (d) => isoWhen(d.importedAt)],
            ["", (d) => (d.active ? badge("active", "ok") : badge("superseded"))],
          ],
          decks,
          { attrs: { id: "decks-table" } },
        ),
      ),
      deckPanel(),
    );
  }
  mount(app, parts);
}

function deckPanel() {
  const input = h("input", { type: "file", id: "deck-file", accept: ".csv,text/csv" });
  const partner = h("input", { id: "deck-partner", placeholder: "partner id, e.g. GLOBEX" });
  const direction = h(
    "select",
    { id: "deck-direction" },
    h("option", { value: "out" }, "out: their rates for traffic we hand them"),
    h("option", { value: "in" }, "in: our rates for traffic they hand us"),
  );
  const result = h("div");
  const text = async () => {
    const file = input.files?.[0];
    if (!file) throw new Error("choose a deck first");
    return file.text();
  };
  const check = () =>
    attempt(async () => {
      const report = await api.upload("/api/v1/tariffs/check", await text(), {}, "text/csv");
      mount(
        result,
        h(
          "p",
          report.valid ? badge("valid", "ok") : badge("invalid", "bad"),
          ` ${report.rows} row(s), ${report.problems.length} problem(s).`,
        ),
        report.problems.length > 0
          ? table(
              [
                ["Line", (p) => String(p.line ?? ""), "num"],
                ["Column", (p) => p.column ?? p.field ?? ""],
                ["Problem", (p) => p.message],
              ],
              report.problems,
            )
          : null,
      );
    });
  const importDeck = () =>
    attempt(async () => {
      const done = await api.upload(
        "/api/v1/tariffs/import",
        await text(),
        { partner: partner.value.trim(), direction: direction.value },
        "text/csv",
      );
      flash(`Imported ${done.rows} rows as ${done.name}; it rates from now on.`);
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    });
  return h(
    "div.panel",
    h("h2", "Check or import a deck"),
    h("label", { for: "deck-file" }, "Deck (CSV)"),
    input,
    hasRole("operator", "admin")
      ? [
          h("label", { for: "deck-partner" }, "Partner"),
          partner,
          h("label", { for: "deck-direction" }, "Direction"),
          direction,
        ]
      : null,
    h(
      "div.actions",
      h("button", { onclick: check }, "Check"),
      hasRole("operator", "admin") ? h("button.primary", { onclick: importDeck }, "Import") : null,
    ),
    result,
  );
}
