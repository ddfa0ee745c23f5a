import { addAgreement, listAgreements, setAgreementPeer } from "../../db/agreements";
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
    "peer-url": {
      type: "string",
      valueName: "URL",
      description:
        "where the partner's node answers the peer protocol, e.g. https://icl.partner.example:7700",
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
      peerUrl: stringOption(args, "peer-url") ?? null,
    };
    await withNode(args, io, (node) => addAgreement(node.db, agreement));
    const shown = {
      name,
      agreementId: agreement.agreementId.toLowerCase(),
      partner: agreement.partnerId,
      side,
      peerUrl: agreement.peerUrl,
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
          ["agreement", "id", "partner", "side", "peer"],
          agreements.map((a) => [a.name, a.agreementId, a.partnerId, a.side, a.peerUrl ?? "-"]),
        ),
      );
    return 0;
  },
};

export const agreementsSetPeerCommand: Command = {
  words: ["agreements", "set-peer"],
  args: "NAME",
  summary: "Set where the partner's node answers the peer protocol for an agreement (or --clear it).",
  description:
    "The running node (icl run) asks the partner's node at this URL where the two summaries differ, once both\n" +
    "have revealed. Every request and answer is signed, so plain http is safe on a private link; use https\n" +
    "across the internet.",
  options: {
    ...DATA_DIR_OPTION,
    url: { type: "string", valueName: "URL", description: "the partner node's base URL" },
    clear: { type: "boolean", description: "forget the URL" },
  },
  positionals: { min: 1, max: 1 },
  async run(args, io) {
    const name = args.positionals[0]!;
    const url = stringOption(args, "url");
    if ((url === undefined) === (args.values.clear !== true))
      throw new UsageError("give exactly one of --url URL and --clear");
    await withNode(args, io, (node) => setAgreementPeer(node.db, name, url ?? null));
    io.stdout.write(
      url
        ? `Agreement ${name}: the partner's node is at ${url}\n`
        : `Agreement ${name}: no partner node URL\n`,
    );
    return 0;
  },
};
