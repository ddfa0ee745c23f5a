import { existsSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { openAuditChain, type AuditChain } from "../../audit/chain";
import { FINDING_KINDS, type Finding } from "../../audit/findings";
import { buildReport } from "../../audit/report";
import { reportCsv, reportHtml } from "../../audit/report-render";
import { readSummaryFile } from "../../audit/summary-file";
import { verifyLedger } from "../../audit/verify";
import { createKuboEvidenceStore } from "../../evidence/kubo-store";
import { createLocalEvidenceStore } from "../../evidence/local-store";
import type { EvidenceStore } from "../../evidence/store";
import { InputError } from "../../errors";
import { loggerFromEnv } from "../../logger";
import {
  JSON_OPTION,
  UsageError,
  listOption,
  requiredOption,
  stringOption,
  type Command,
  type OptionSpec,
  type ParsedCommandArgs,
} from "../command";
import { toJson } from "../format";

const CHAIN_OPTIONS: Record<string, OptionSpec> = {
  rpc: { type: "string", valueName: "URL", description: "JSON-RPC endpoint of the chain (required)" },
  ledger: { type: "string", valueName: "ADDRESS", description: "the SettlementLedger contract (required)" },
  "from-block": {
    type: "string",
    valueName: "N",
    description: "replay from block N (the published deploy block); default: found with eth_getCode",
  },
  registry: {
    type: "string",
    valueName: "ADDRESS",
    description: "the CarrierRegistry, when the ledger was created by another contract",
  },
  book: { type: "string", valueName: "ADDRESS", description: "the AgreementBook, likewise" },
};

async function openChain(args: ParsedCommandArgs): Promise<AuditChain> {
  const fromText = stringOption(args, "from-block");
  if (fromText !== undefined && !/^\d+$/.test(fromText)) {
    throw new UsageError(`--from-block '${fromText}' is not a block number`);
  }
  const rpcUrl = requiredOption(args, "rpc");
  if (!/^https?:\/\//i.test(rpcUrl) && !/^wss?:\/\//i.test(rpcUrl)) {
    throw new UsageError(`--rpc '${rpcUrl}' is not an http(s) URL`);
  }
  return openAuditChain({
    rpcUrl,
    ledger: requiredOption(args, "ledger"),
    fromBlock: fromText === undefined ? undefined : Number(fromText),
    registry: stringOption(args, "registry"),
    book: stringOption(args, "book"),
  });
}

function evidenceStore(
  args: ParsedCommandArgs,
  env: NodeJS.ProcessEnv,
  stderr: NodeJS.WritableStream,
): EvidenceStore | undefined {
  const dir = stringOption(args, "evidence");
  const ipfs = stringOption(args, "ipfs");
  if (dir !== undefined && ipfs !== undefined)
    throw new UsageError("give --evidence DIR or --ipfs URL, not both");
  const logger = loggerFromEnv(stderr, env);
  if (ipfs !== undefined) return createKuboEvidenceStore({ url: ipfs }, logger);
  if (dir === undefined) return undefined;
  const resolved = path.resolve(dir);
  // A node's data directory (holding evidence/) or the evidence directory itself.
  if (
    existsSync(path.join(resolved, "evidence")) &&
    statSync(path.join(resolved, "evidence")).isDirectory()
  ) {
    return createLocalEvidenceStore(resolved, logger);
  }
  if (path.basename(resolved) === "evidence" && existsSync(resolved) && statSync(resolved).isDirectory()) {
    return createLocalEvidenceStore(path.dirname(resolved), logger);
  }
  throw new InputError(`--evidence ${dir} is neither an evidence directory nor a data directory holding one`);
}

function periodText(period: number | null): string {
  return period === null ? "-" : `${Math.floor(period / 100)}-${String(period % 100).padStart(2, "0")}`;
}

function findingLine(f: Finding): string {
  const where = [
    f.block === null ? null : `block ${f.block}`,
    f.tx === null ? null : `tx ${f.tx}`,
    f.agreementId === null ? null : `agreement ${f.agreement ?? ""} ${f.agreementId}`.replace("  ", " "),
    f.period === null ? null : `period ${periodText(f.period)}`,
  ]
    .filter((part) => part !== null)
    .join(", ");
  return `  ${f.severity.toUpperCase()} ${f.kind}: ${f.message}\n      at ${where || "(no block)"}\n`;
}

export const auditVerifyCommand: Command = {
  words: ["audit", "verify"],
  summary:
    "Replay the ledger's whole history from its events and check every step (exit 0 only when all holds).",
  description:
    "Needs no carrier database: reads the logs of the ledger, its registry and agreement book from the JSON-RPC node.\n" +
    "Checks, for every period: each reveal against its commitment (from the reveal transaction's calldata), the\n" +
    "evaluation against the agreement's tolerance rule, dispute steps and rulings within the claims, approvals by\n" +
    "officers registered at that block with the threshold met, every settlement and netting moving exactly the\n" +
    "approved nets; then the rebuilt state against the contract's views (state, periodRecord, disputeRecord,\n" +
    "escrowOf) and Σ escrow against the ledger's token balance. --summary files (icl period export) are rebuilt\n" +
    "into their Merkle root and compared with the root revealed on chain; --evidence/--ipfs checks every evidence\n" +
    "CID named on chain. Every finding names block, transaction, agreement and period. Exit codes: 0 no failing\n" +
    "finding, 1 failing findings, 64 usage, 65 bad input (e.g. a summary file), 66 no contract at --ledger,\n" +
    "69 the RPC node is unreachable.",
  options: {
    ...CHAIN_OPTIONS,
    summary: {
      type: "string",
      multiple: true,
      valueName: "FILE",
      description: "a revealed summary (icl period export) whose leaves must hash to the revealed root",
    },
    evidence: {
      type: "string",
      valueName: "DIR",
      description: "evidence store directory (or a node data directory)",
    },
    ipfs: {
      type: "string",
      valueName: "URL",
      description: "Kubo RPC API holding the evidence, e.g. http://127.0.0.1:5001",
    },
    ...JSON_OPTION,
  },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const summaries = [];
    for (const file of listOption(args, "summary"))
      summaries.push({ file, summary: await readSummaryFile(file) });
    const evidence = evidenceStore(args, io.env, io.stderr);
    const chain = await openChain(args);
    let result;
    try {
      result = await verifyLedger(chain, { summaries, evidence });
    } finally {
      chain.close();
    }
    if (args.values.json) {
      const { ok, checked, findings, ...context } = result;
      io.stdout.write(toJson({ ok, checked, findings, ...context }));
      return result.ok ? 0 : 1;
    }
    const errors = result.findings.filter((f) => f.severity === "error");
    const warnings = result.findings.filter((f) => f.severity === "warning");
    const c = result.checked;
    io.stdout.write(
      `Audit of ledger ${result.ledger} (chain ${result.chainId}), blocks ${result.fromBlock}–${result.toBlock}\n` +
        `  registry ${result.registry}, book ${result.book}\n` +
        `  replayed ${c.events} events in ${c.transactions} transactions: ${c.carriers} carriers, ${c.agreements} agreements, ` +
        `${c.periods} periods\n` +
        `  checked ${c.reveals} reveals (${c.revealsVerified} opened from calldata), ${c.evaluations} evaluations, ` +
        `${c.disputeSteps} dispute steps, ${c.rulings} rulings, ${c.officerApprovals} officer and ${c.carrierApprovals} carrier ` +
        `approvals, ${c.settlements} settlements, ${c.fastPathSettlements} fast-path settlements, ${c.escrowAccounts} escrow accounts in ${c.tokens} tokens, ` +
        `${c.summaries} summaries, ${c.evidence} evidence CIDs\n\n`,
    );
    for (const [label, list] of [
      ["Failing findings", errors],
      ["Warnings", warnings],
    ] as const) {
      if (list.length === 0) continue;
      io.stdout.write(`${label} (${list.length}):\n`);
      const kinds = [...new Set(list.map((f) => f.kind))];
      for (const kind of kinds) {
        io.stdout.write(` ${kind} — ${FINDING_KINDS[kind]}\n`);
        for (const f of list.filter((x) => x.kind === kind)) io.stdout.write(findingLine(f));
      }
      io.stdout.write("\n");
    }
    io.stdout.write(
      result.ok
        ? `OK: every check holds${warnings.length > 0 ? ` (${warnings.length} warnings)` : ""}\n`
        : `FAILED: ${errors.length} failing finding${errors.length === 1 ? "" : "s"}\n`,
    );
    return result.ok ? 0 : 1;
  },
};

export const auditReportCommand: Command = {
  words: ["audit", "report"],
  summary: "The ledger's history per agreement and period as a timeline, as JSON, CSV or an HTML document.",
  description:
    "Read from the ledger's events alone (no carrier database). json: agreements → periods → events with block,\n" +
    "time, transaction, who and amounts, plus per-carrier totals; csv: one row per event; html: a standalone\n" +
    "document with per-carrier totals paid and received and a chart of the settled amounts per period.\n" +
    "Amounts are exact decimals in the settlement token (6 decimals: micro-units).",
  options: {
    ...CHAIN_OPTIONS,
    format: { type: "string", valueName: "json|csv|html", description: "output format (default json)" },
    out: { type: "string", valueName: "FILE", description: "write to FILE instead of stdout" },
    json: { type: "boolean", description: "with --out: print what was written as one JSON object" },
  },
  positionals: { min: 0, max: 0 },
  async run(args, io) {
    const format = stringOption(args, "format") ?? "json";
    if (!["json", "csv", "html"].includes(format))
      throw new UsageError(`--format '${format}' is not json, csv or html`);
    if (args.values.json && format !== "json" && stringOption(args, "out") === undefined) {
      throw new UsageError(
        "--json without --out prints the JSON report: do not combine it with --format csv|html",
      );
    }
    const chain = await openChain(args);
    let report;
    try {
      report = await buildReport(chain);
    } finally {
      chain.close();
    }
    const text =
      format === "csv" ? reportCsv(report) : format === "html" ? reportHtml(report) : toJson(report);
    const out = stringOption(args, "out");
    if (out === undefined) {
      io.stdout.write(text);
      return 0;
    }
    try {
      await writeFile(out, text);
    } catch (error) {
      throw new InputError(`cannot write the report: ${(error as Error).message}`, { file: out });
    }
    const periods = report.agreements.reduce((n, a) => n + a.periods.length, 0);
    const summary = { out: path.resolve(out), format, agreements: report.agreements.length, periods };
    io.stdout.write(
      args.values.json
        ? toJson(summary)
        : `Wrote the ${format} report (${summary.agreements} agreements, ${periods} periods) to ${summary.out}\n`,
    );
    return 0;
  },
};
