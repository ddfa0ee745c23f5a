import { addAgreement, listAgreements } from "../../db/agreements";
import { DATA_DIR_OPTION, JSON_OPTION, UsageError, requiredOption, type Command } from "../command";
import { table, toJson } from "../format";
import { withNode } from "../node-context";
import { readInputFile } from "./tariffs";

export const agreementsAddCommand: Command = {
  words: ["agreements", "add"],
  args: "NAME",
  summary: "Record an interconnect agreement this carrier is party to, with the secret shared at onboarding.",
  description:
    "--id is the agreement's id on the ledger (bytes32). --side says whether this carrier is party A or B of it.\n" +
    "--secret-file holds the agreement secret as hex (at least 32 bytes), exchanged with the partner at\n" +
    "onboarding; summary salts and evidence keys derive from it. The secret is never printed.",
  options: {
    ...DATA_DIR_OPTION,
    id: {
      type: "string",
      valueName: "0x…",
      description: "agreement id on the ledger, 0x + 64 hex digits (required)",
    },
    partner: { type: "string", valueName: "ID", description: "the partner of the agreement (required)" },
    side: {
      type: "string",
      valueName: "A|B",
      description: "this carrier's side of the agreement (required)",
    },
    "secret-file": {
      type: "string",
      valueName: "FILE",
      description: "file with the shared secret in hex (required)",
    },
    ...JSON_OPTION,
  },
  positionals: { min: 1, max: 1 },
  async run(args, io) {
    const name = args.positionals[0]!;
    const side = requiredOption(args, "side").toUpperCase();
    if (side !== "A" && side !== "B") throw new UsageError("--side must be A or B");
    const secretFile = requiredOption(args, "secret-file");
    const secretHex = readInputFile(secretFile).trim().replace(/^0x/i, "");
    if (!/^([0-9a-fA-F]{2})+$/.test(secretHex))
      throw new UsageError(`${secretFile} does not hold a hex secret`);
    const agreement = {
      agreementId: requiredOption(args, "id"),
      name,
      partnerId: requiredOption(args, "partner"),
      side: side as "A" | "B",
      secret: Buffer.from(secretHex, "hex"),
    };
    await withNode(args, io, (node) => addAgreement(node.db, agreement));
    const shown = {
      name,
      agreementId: agreement.agreementId.toLowerCase(),
      partner: agreement.partnerId,
      side,
    };
    if (args.values.json) io.stdout.write(toJson(shown));
    else
      io.stdout.write(
        `Added agreement ${name} (${shown.agreementId}) with ${shown.partner}, this carrier is party ${side}\n`,
      );
    return 0;
  },
};

export const agreementsListCommand: Command = {
  words: ["agreements", "list"],
  summary: "List the agreements this node is party to (never their secrets).",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const agreements = await withNode(args, io, (node) => listAgreements(node.db));
    if (args.values.json) io.stdout.write(toJson({ agreements }));
    else
      io.stdout.write(
        table(
          ["agreement", "id", "partner", "side"],
          agreements.map((a) => [a.name, a.agreementId, a.partnerId, a.side]),
        ),
      );
    return 0;
  },
};
