import { addPartner, listPartners } from "../../db/partners";
import { DATA_DIR_OPTION, JSON_OPTION, listOption, stringOption, type Command } from "../command";
import { table, toJson } from "../format";
import { parseMatchSpec } from "../match-spec";
import { withNode } from "../node-context";

export const partnersAddCommand: Command = {
  words: ["partners", "add"],
  args: "ID",
  summary: "Register an interconnect partner and the rules that recognise its traffic in switch CDRs.",
  description:
    "Match rules assign Asterisk and FreeSWITCH CDRs to a partner and direction: DIRECTION:FIELD=REGEX, tried in\n" +
    "order, first match wins. FIELD is a column of the format (dstchannel, channel, accountcode, context, …) or\n" +
    "`trunk` (the peer name in an Asterisk channel). icl-csv CDRs name their partner themselves.\n" +
    "Example: icl partners add GLOBEX --name 'Globex Telecom' --match out:trunk=^globex$ --match in:trunk=^globex$",
  options: {
    ...DATA_DIR_OPTION,
    name: { type: "string", valueName: "NAME", description: "display name (default: the id)" },
    match: { type: "string", multiple: true, valueName: "DIR:FIELD=REGEX", description: "match rule" },
    ...JSON_OPTION,
  },
  positionals: { min: 1, max: 1 },
  async run(args, io) {
    const id = args.positionals[0]!;
    const matchRules = listOption(args, "match").map((spec) => parseMatchSpec(spec, id));
    const partner = { id, name: stringOption(args, "name") ?? id, matchRules };
    await withNode(args, io, (node) => addPartner(node.db, partner));
    if (args.values.json) io.stdout.write(toJson(partner));
    else io.stdout.write(`Added partner ${id} with ${matchRules.length} match rule(s)\n`);
    return 0;
  },
};

export const partnersListCommand: Command = {
  words: ["partners", "list"],
  summary: "List partners and their match rules.",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const partners = await withNode(args, io, (node) => listPartners(node.db));
    if (args.values.json) {
      io.stdout.write(toJson({ partners }));
      return 0;
    }
    io.stdout.write(
      table(
        ["partner", "name", "match rules"],
        partners.map((p) => [
          p.id,
          p.name,
          p.matchRules.map((r) => `${r.direction}:${r.field}=${r.pattern}`).join("  ") || "-",
        ]),
      ),
    );
    return 0;
  },
};
