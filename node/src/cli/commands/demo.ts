import fs from "node:fs";
import path from "node:path";
import { rateStream } from "../../rating/rate-stream";
import { Rater } from "../../rating/rater";
import { loadTariffDeck } from "../../rating/tariff-deck";
import type { Command } from "../command";
import { rateSummaryText } from "./rate";

/** The bundled samples: node/samples/ next to the sources (and next to dist/ after a build). */
function samplesDir(): string {
  for (const candidate of [
    path.join(__dirname, "..", "..", "..", "samples"),
    path.join(__dirname, "..", "..", "..", "..", "..", "node", "samples"),
  ]) {
    if (fs.existsSync(path.join(candidate, "tariff-globex.csv"))) return candidate;
  }
  throw new Error("bundled samples not found (node/samples)");
}

export const demoCommand: Command = {
  words: ["demo"],
  summary: "Rate the bundled sample CDRs (icl-csv, Asterisk, FreeSWITCH) against the bundled tariff deck.",
  description:
    "A first look at mediation and rating with nothing to set up. The consortium demo (chain, three carrier\n" +
    "nodes, reconciliation, dispute and settlement) is `npm run demo` (see README).",
  options: {},
  positionals: { min: 0, max: 0 },
  async run(_args, io) {
    const dir = samplesDir();
    const deckFile = path.join(dir, "tariff-globex.csv");
    const rater = new Rater(loadTariffDeck(fs.readFileSync(deckFile, "utf8"), deckFile));
    const numbering = { countryCode: "1", nationalPrefix: "0", internationalPrefix: "00" };
    io.stdout.write(
      `Interconnect Ledger — rating demo\nTariff deck: ${path.relative(process.cwd(), deckFile)}\n\n`,
    );

    const iclFile = path.join(dir, "cdrs-globex.csv");
    const icl = await rateStream(
      fs.createReadStream(iclFile),
      "icl-csv",
      {
        fileName: iclFile,
        timeZone: "UTC",
        useGmtTime: false,
        numbering,
        matchRules: [],
      },
      rater,
    );
    io.stdout.write(rateSummaryText(path.relative(process.cwd(), iclFile), icl) + "\n");

    const asteriskFile = path.join(dir, "Master.csv");
    const asterisk = await rateStream(
      fs.createReadStream(asteriskFile),
      "asterisk",
      {
        fileName: asteriskFile,
        timeZone: "Europe/London",
        useGmtTime: false,
        numbering: { countryCode: "44", nationalPrefix: "0", internationalPrefix: "00" },
        matchRules: [{ partner: "GLOBEX", direction: "out", field: "trunk", pattern: "^globex$" }],
      },
      rater,
    );
    io.stdout.write(
      rateSummaryText(`${path.relative(process.cwd(), asteriskFile)} (Asterisk, Europe/London)`, asterisk),
    );

    const freeswitchFile = path.join(dir, "freeswitch.csv");
    const freeswitch = await rateStream(
      fs.createReadStream(freeswitchFile),
      "freeswitch",
      {
        fileName: freeswitchFile,
        timeZone: "Europe/Berlin",
        useGmtTime: false,
        numbering,
        matchRules: [{ partner: "GLOBEX", direction: "out", field: "accountcode", pattern: "^globex$" }],
      },
      rater,
    );
    io.stdout.write(
      "\n" +
        rateSummaryText(
          `${path.relative(process.cwd(), freeswitchFile)} (FreeSWITCH, Europe/Berlin)`,
          freeswitch,
        ),
    );
    io.stdout.write(
      "\nEvery record ends rated, unbilled or rejected with a reason. Try: npx icl rate --help, npx icl rejects list --help\n",
    );
    return 0;
  },
};
