import { writeFile } from "node:fs/promises";
import path from "node:path";
import { encodeBytes32String, isHexString } from "ethers";
import { summaryFileJson } from "../../audit/summary-file";
import { loadSummary } from "../../db/summaries";
import { InputError, NotFoundError } from "../../errors";
import { periodSalt } from "../../summaries/encoding";
import {
  DATA_DIR_OPTION,
  JSON_OPTION,
  UsageError,
  requiredOption,
  stringOption,
  type Command,
} from "../command";
import { toJson } from "../format";
import { withNode } from "../node-context";
import { AGREEMENT_PERIOD_ARGS, AGREEMENT_PERIOD_POSITIONALS, resolveAgreementPeriod } from "../period-args";

/** `0x…` bytes32 or a carrier name such as ACME (encoded as a bytes32 string). */
function carrierIdOption(text: string): string {
  if (isHexString(text, 32)) return text.toLowerCase();
  try {
    return encodeBytes32String(text);
  } catch {
    throw new UsageError(`--carrier '${text}' is neither a bytes32 id nor a name of at most 31 bytes`);
  }
}

export const periodExportCommand: Command = {
  words: ["period", "export"],
  args: AGREEMENT_PERIOD_ARGS,
  summary:
    "Write this carrier's revealed summary of a period (leaves and tree salt, no CDRs) for an auditor.",
  description:
    "The file (format icl-revealed-summary/v1) holds the stored summary's leaves (direction, service, destination,\n" +
    "UTC day, records, billed units, amount), its totals and root, and the period's tree salt derived from the\n" +
    "agreement secret, so that `icl audit verify --summary FILE` can rebuild the Merkle root and compare it with\n" +
    "the root revealed on chain. It never holds raw CDRs. The tree salt lets the holder test guesses of this\n" +
    "period's leaves: hand the file to the auditor only. The file is written with mode 0600.",
  options: {
    ...DATA_DIR_OPTION,
    out: { type: "string", valueName: "FILE", description: "where to write the JSON (required)" },
    carrier: {
      type: "string",
      valueName: "ID|NAME",
      description:
        "this carrier's on-chain id (bytes32 or name); default: the auditor finds it from the side",
    },
    round: {
      type: "string",
      valueName: "N",
      description: "the round it was revealed in (default: any round)",
    },
    ...JSON_OPTION,
  },
  positionals: AGREEMENT_PERIOD_POSITIONALS,
  async run(args, io) {
    const out = requiredOption(args, "out");
    const roundText = stringOption(args, "round");
    if (roundText !== undefined && !/^\d{1,3}$/.test(roundText))
      throw new UsageError(`--round '${roundText}' is not a round number`);
    const carrierText = stringOption(args, "carrier");
    const carrierId = carrierText === undefined ? undefined : carrierIdOption(carrierText);
    const exported = await withNode(args, io, async (node) => {
      const { agreement, period } = await resolveAgreementPeriod(node.db, args);
      const summary = await loadSummary(node.db, agreement.agreementId, period);
      if (summary === null) {
        throw new NotFoundError(
          `no summary of ${agreement.name} for ${args.positionals[1]}`,
          "Build it first: icl period close",
        );
      }
      return {
        agreement,
        summary,
        json: summaryFileJson({
          agreementId: summary.agreementId,
          period,
          side: summary.side,
          carrierId,
          round: roundText === undefined ? undefined : Number(roundText),
          treeSalt: periodSalt(agreement.secret, agreement.agreementId, period),
          root: summary.root,
          amountAB: summary.amountAB,
          amountBA: summary.amountBA,
          leaves: summary.leaves,
        }),
      };
    });
    try {
      await writeFile(out, toJson(exported.json), { mode: 0o600 });
    } catch (error) {
      throw new InputError(`cannot write the summary: ${(error as Error).message}`, { file: out });
    }
    const result = {
      out: path.resolve(out),
      agreement: exported.agreement.name,
      agreementId: exported.summary.agreementId,
      period: exported.summary.period,
      side: exported.summary.side,
      leaves: exported.summary.leaves.length,
      root: exported.summary.root,
      committed: exported.summary.committedAt !== null,
    };
    if (args.values.json) io.stdout.write(toJson(result));
    else {
      io.stdout.write(
        `Wrote the summary of ${result.agreement} ${args.positionals[1]} (party ${result.side}, ${result.leaves} leaves, ` +
          `root ${result.root}) to ${result.out}\n` +
          (result.committed
            ? ""
            : "  note: this summary was never committed, so no reveal on chain will match it\n"),
      );
    }
    return 0;
  },
};
