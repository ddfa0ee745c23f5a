/**
 * `icl audit verify`: replays the ledger's whole history from its events, checks every step, compares
 * the result with the contract's views, and checks revealed summaries and evidence handed to the
 * auditor. No carrier database is involved.
 */
import type { EvidenceStore } from "../evidence/store";
import type { AuditChain } from "./chain";
import { checkEvidence } from "./evidence-check";
import { arrayEventSource, collectEvents, rpcEventSource, type EventSource } from "./events";
import { failing, type Finding } from "./findings";
import { Replay } from "./replay";
import { checkSummary, type SummaryFile } from "./summary-file";
import { compareWithViews } from "./views";

export interface AuditResult {
  ok: boolean;
  chainId: string;
  ledger: string;
  registry: string;
  book: string;
  fromBlock: number;
  toBlock: number;
  checked: Record<string, number>;
  findings: Finding[];
}

export interface VerifyOptions {
  /** Events to replay; default: the chain's logs from `chain.fromBlock` to `chain.toBlock`. */
  source?: EventSource;
  summaries?: { file: string; summary: SummaryFile }[];
  evidence?: EvidenceStore;
}

/**
 * Runs the audit. Findings of severity `error` make `ok` false.
 * @throws UnavailableError when the RPC node (or the evidence store) stops answering.
 */
export async function verifyLedger(chain: AuditChain, options: VerifyOptions = {}): Promise<AuditResult> {
  const events = await collectEvents(
    options.source ??
      rpcEventSource(chain.provider, chain.addresses, { fromBlock: chain.fromBlock, toBlock: chain.toBlock }),
  );
  await prefetchTimes(chain, [...new Set(events.map((e) => e.blockNumber))]);
  const replay = new Replay({
    ledgerAddress: chain.addresses.ledger,
    chainId: chain.chainId,
    blockTimestamp: (block) => chain.blockTimestamp(block),
    transaction: (hash) => chain.transaction(hash),
  });
  await replay.run(arrayEventSource(events));
  const views = await compareWithViews(replay, chain);
  for (const { file, summary } of options.summaries ?? []) checkSummary(replay, file, summary);
  const evidence = options.evidence ? await checkEvidence(replay, options.evidence) : 0;
  const findings = [...replay.findings].sort(
    (a, b) => (a.block ?? Number.MAX_SAFE_INTEGER) - (b.block ?? Number.MAX_SAFE_INTEGER),
  );
  return {
    ok: failing(findings).length === 0,
    chainId: chain.chainId.toString(),
    ledger: chain.addresses.ledger,
    registry: chain.addresses.registry,
    book: chain.addresses.book,
    fromBlock: chain.fromBlock,
    toBlock: chain.toBlock,
    checked: {
      ...replay.counts,
      carriers: replay.carriers.size,
      agreements: replay.versions.size,
      periods: views.periods,
      escrowAccounts: views.escrowAccounts,
      tokens: views.tokens,
      summaries: options.summaries?.length ?? 0,
      evidence,
    },
    findings,
  };
}

async function prefetchTimes(chain: AuditChain, blocks: number[]): Promise<void> {
  const queue = [...blocks];
  const worker = async () => {
    for (let block = queue.pop(); block !== undefined; block = queue.pop()) await chain.blockTimestamp(block);
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}
