import crypto from "node:crypto";
import path from "node:path";
import { requirePartner } from "../../db/partners";
import { importDeck, listDecks } from "../../db/tariffs";
import { DECK_COLUMNS, loadTariffDeck, parseTariffDeck } from "../../rating/tariff-deck";
import {
  DATA_DIR_OPTION,
  JSON_OPTION,
  UsageError,
  readInputFile,
  requiredOption,
  stringOption,
  type Command,
} from "../command";
import { table, toJson } from "../format";
import { withNode } from "../node-context";

/**
 * The deck's columns as `--help` shows them, one line each, derived from DECK_COLUMNS so the help
 * never drifts from what the parser accepts.
 */
export function deckColumnsHelp(): string {
  const width = Math.max(...DECK_COLUMNS.map((column) => column.name.length));
  const lines = DECK_COLUMNS.map((column) => {
    const fallback =
      column.default === null
        ? " (required)"
        : ` (default: ${column.default === "" ? "empty" : column.default})`;
    return `  ${column.name.padEnd(width)}  ${column.meaning}${fallback}`;
  });
  return [
    "Deck columns (CSV with a header row, columns in any order; docs/RATING.md explains them and the arithmetic):",
    ...lines,
  ].join("\n");
}

export const tariffsImportCommand: Command = {
  words: ["tariffs", "import"],
  args: "DECK.csv",
  summary: "Validate a tariff deck and make it the active deck for a partner and direction.",
  description:
    "--direction out: the partner's rates for traffic we hand to it (we owe); in: our rates for traffic it hands\n" +
    "to us (it owes). The whole deck is refused if any row is wrong; every problem is listed. The previous deck\n" +
    "stays stored, inactive.\n\n" +
    deckColumnsHelp(),
  options: {
    ...DATA_DIR_OPTION,
    partner: { type: "string", valueName: "ID", description: "partner the deck applies to (required)" },
    direction: { type: "string", valueName: "in|out", description: "traffic direction it prices (required)" },
    currency: { type: "string", valueName: "CODE", description: "deck currency, ISO 4217 (default USD)" },
    name: { type: "string", valueName: "NAME", description: "deck name (default: the file name)" },
    ...JSON_OPTION,
  },
  positionals: { min: 1, max: 1 },
  async run(args, io) {
    const file = args.positionals[0]!;
    const partner = requiredOption(args, "partner");
    const direction = requiredOption(args, "direction");
    if (direction !== "in" && direction !== "out") throw new UsageError("--direction must be in or out");
    const currency = stringOption(args, "currency") ?? "USD";
    if (!/^[A-Z]{3}$/.test(currency)) throw new UsageError("--currency must be a three-letter ISO 4217 code");
    const text = readInputFile(file);
    const rows = loadTariffDeck(text, file);
    const contentHash = crypto.createHash("sha256").update(text).digest("hex");
    const id = await withNode(args, io, async (node) => {
      await requirePartner(node.db, partner);
      return importDeck(node.db, {
        partner,
        direction,
        name: stringOption(args, "name") ?? path.basename(file),
        currency,
        contentHash,
        rows,
      });
    });
    if (args.values.json)
      io.stdout.write(toJson({ deck: id, partner, direction, currency, rows: rows.length }));
    else
      io.stdout.write(
        `Imported deck ${id}: ${rows.length} rows, active for ${partner} ${direction} (${currency})\n`,
      );
    return 0;
  },
};

export const tariffsCheckCommand: Command = {
  words: ["tariffs", "check"],
  args: "DECK.csv",
  summary: "Validate a tariff deck without importing it; lists every problem (exit 65 if any).",
  description: "The same checks as `tariffs import`; nothing is stored.\n\n" + deckColumnsHelp(),
  options: { ...JSON_OPTION },
  positionals: { min: 1, max: 1 },
  async run(args, io) {
    const file = args.positionals[0]!;
    const { rows, problems } = parseTariffDeck(readInputFile(file));
    if (args.values.json) io.stdout.write(toJson({ file, rows: rows.length, problems }));
    else if (problems.length === 0) io.stdout.write(`${file}: ${rows.length} rows, no problems\n`);
    else {
      io.stdout.write(`${file}: ${problems.length} problem(s)\n`);
      io.stdout.write(
        table(
          ["line", "field", "problem"],
          problems.map((p) => [p.line, p.field, p.message]),
        ),
      );
    }
    return problems.length === 0 ? 0 : 65;
  },
};

export const tariffsListCommand: Command = {
  words: ["tariffs", "list"],
  summary: "List imported tariff decks (active and superseded).",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const decks = await withNode(args, io, (node) => listDecks(node.db));
    if (args.values.json) io.stdout.write(toJson({ decks }));
    else
      io.stdout.write(
        table(
          ["deck", "partner", "direction", "name", "currency", "rows", "active", "imported"],
          decks.map((d) => [
            d.id,
            d.partner,
            d.direction,
            d.name,
            d.currency,
            d.rows,
            d.active ? "yes" : "no",
            d.importedAt.toISOString(),
          ]),
        ),
      );
    return 0;
  },
};
