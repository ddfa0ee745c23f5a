/**
 * Follows the ledger, registry and book from the deploy block into the local database: batches of
 * blocks read with eth_getLogs, decoded events stored with their block, transaction and log index,
 * and a cursor so a restart resumes where it stopped. The hashes of recent indexed blocks are kept;
 * when the chain no longer has them (a reorganisation) the events above the fork point are deleted
 * and indexed again.
 */
import {
  getAddress,
  toQuantity,
  type Interface,
  type JsonRpcProvider,
  type ParamType,
  type Result,
} from "ethers";
import { BaseError } from "../errors";
import type { Logger } from "../logger";
import type { Database } from "../db/database";
import {
  readIndexCursor,
  recentBlockHashes,
  rewindIndex,
  storeIndexBatch,
  type ChainEventRow,
} from "../db/chain-store";
import {
  AgreementBook__factory,
  CarrierRegistry__factory,
  SettlementLedger__factory,
} from "../../../typechain-types";
import type { ChainDeployment } from "./deployment";
import { sleep, withRetry, type RetryOptions } from "./retry";

export interface EventIndexerOptions {
  /** Blocks per eth_getLogs request (default 1 000). */
  batchSize?: number;
  /** How many recent indexed block hashes are kept for reorg detection (default 128). */
  keepBlocks?: number;
  /** Pause between polls of `follow` once caught up, in ms (default 2 000). */
  pollIntervalMs?: number;
  retry?: RetryOptions;
}

export interface SyncReport {
  /** The last indexed block after the sync. */
  cursor: bigint;
  /** Events stored. */
  events: number;
  /** Reorganisations handled: the fork point and how many stored events were dropped. */
  reorgs: { forkPoint: bigint; removed: number }[];
}

interface RawLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  logIndex: string;
  removed?: boolean;
}

interface RawBlock {
  hash: string;
  parentHash: string;
}

type ContractName = ChainEventRow["contract"];

/** Indexes the deployment's events; build with `new EventIndexer(deps, options)`. */
export class EventIndexer {
  private readonly provider: JsonRpcProvider;
  private readonly deployment: ChainDeployment;
  private readonly db: Database;
  private readonly logger: Logger;
  private readonly batchSize: bigint;
  private readonly keepBlocks: number;
  private readonly pollIntervalMs: number;
  private readonly retry: RetryOptions;
  private readonly contracts: Map<string, { name: ContractName; iface: Interface }>;

  constructor(
    deps: { provider: JsonRpcProvider; deployment: ChainDeployment; db: Database; logger: Logger },
    options: EventIndexerOptions = {},
  ) {
    this.provider = deps.provider;
    this.deployment = deps.deployment;
    this.db = deps.db;
    this.logger = deps.logger;
    this.batchSize = BigInt(options.batchSize ?? 1_000);
    this.keepBlocks = options.keepBlocks ?? 128;
    this.pollIntervalMs = options.pollIntervalMs ?? 2_000;
    this.retry = options.retry ?? {};
    this.contracts = new Map([
      [
        deps.deployment.ledger.toLowerCase(),
        { name: "SettlementLedger", iface: SettlementLedger__factory.createInterface() },
      ],
      [
        deps.deployment.registry.toLowerCase(),
        { name: "CarrierRegistry", iface: CarrierRegistry__factory.createInterface() },
      ],
      [
        deps.deployment.book.toLowerCase(),
        { name: "AgreementBook", iface: AgreementBook__factory.createInterface() },
      ],
    ]);
  }

  /** The last indexed block, or null before the first batch. */
  async cursor(): Promise<bigint | null> {
    return readIndexCursor(this.db, this.deployment.chainId, this.deployment.ledger);
  }

  /**
   * Indexes from the cursor up to the chain head, batch by batch, handling reorganisations.
   * A reorganisation below every kept hash re-indexes from the deploy block.
   * @throws UnavailableError when the RPC node stays unreachable.
   */
  async sync(signal?: AbortSignal): Promise<SyncReport> {
    const report: SyncReport = { cursor: 0n, events: 0, reorgs: [] };
    for (;;) {
      const step = await this.step(signal);
      report.cursor = step.cursor;
      report.events += step.events;
      if (step.reorg !== null) report.reorgs.push(step.reorg);
      if (step.caughtUp || signal?.aborted) return report;
    }
  }

  /**
   * Keeps indexing until `signal` aborts: syncs, then polls every `pollIntervalMs`. An unreachable RPC
   * node is waited out (logged, retried); other failures end the loop.
   * @throws BaseError for failures that are not transient (e.g. the database refusing a write).
   */
  async follow(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.sync(signal);
      } catch (error) {
        if (!(error instanceof BaseError) || !error.retryable) throw error;
        this.logger.warn("event indexing paused: the chain node is unreachable", {
          error: error.shortMessage,
        });
      }
      await sleep(this.pollIntervalMs, signal);
    }
  }

  private async step(signal?: AbortSignal): Promise<{
    cursor: bigint;
    events: number;
    caughtUp: boolean;
    reorg: SyncReport["reorgs"][number] | null;
  }> {
    const { chainId, ledger } = this.deployment;
    const first = BigInt(this.deployment.deployBlock);
    let cursor = (await this.cursor()) ?? first - 1n;
    const kept = await recentBlockHashes(this.db, chainId, cursor);
    const atCursor = kept[0]?.number === cursor ? kept[0] : undefined;
    if (atCursor !== undefined && (await this.hashAt(atCursor.number, signal)) !== atCursor.hash) {
      const reorg = await this.rewind(kept, signal);
      return { cursor: reorg.forkPoint, events: 0, caughtUp: false, reorg };
    }
    const head = await this.rpc(
      "eth_blockNumber",
      async () => BigInt((await this.provider.send("eth_blockNumber", [])) as string),
      signal,
    );
    if (cursor >= head) return { cursor, events: 0, caughtUp: true, reorg: null };
    const from = cursor + 1n;
    const to = head < cursor + this.batchSize ? head : cursor + this.batchSize;
    const toHash = await this.hashAt(to, signal);
    const fromBlock = await this.block(from, signal);
    const logs = await this.rpc(
      "eth_getLogs",
      async () =>
        (await this.provider.send("eth_getLogs", [
          {
            address: [this.deployment.ledger, this.deployment.registry, this.deployment.book],
            fromBlock: toQuantity(from),
            toBlock: toQuantity(to),
          },
        ])) as RawLog[],
      signal,
    );
    const toHashAfter = await this.hashAt(to, signal);
    // The range must extend what is stored and must not change while it was read; otherwise the
    // next step sees the reorganisation at the cursor and handles it.
    const moved =
      toHash === null ||
      toHash !== toHashAfter ||
      fromBlock === null ||
      (atCursor !== undefined && fromBlock.parentHash !== atCursor.hash) ||
      logs.some(
        (log) => log.removed === true || (BigInt(log.blockNumber) === to && log.blockHash !== toHash),
      );
    if (moved) {
      if (atCursor !== undefined && fromBlock !== null && fromBlock.parentHash !== atCursor.hash) {
        const reorg = await this.rewind(kept, signal);
        return { cursor: reorg.forkPoint, events: 0, caughtUp: false, reorg };
      }
      return { cursor, events: 0, caughtUp: false, reorg: null };
    }
    const events = logs.map((log) => this.decode(log));
    const blocks = new Map<bigint, string>([[to, toHash]]);
    for (const event of events) blocks.set(event.blockNumber, event.blockHash);
    await storeIndexBatch(this.db, {
      chainId,
      ledger,
      toBlock: to,
      events,
      blocks: [...blocks].map(([number, hash]) => ({ number, hash })),
      keepBlocks: this.keepBlocks,
    });
    cursor = to;
    if (events.length > 0) this.logger.info("indexed chain events", { from, to, events: events.length });
    return { cursor, events: events.length, caughtUp: cursor >= head, reorg: null };
  }

  /** Finds the newest kept block the chain still has and drops everything indexed above it. */
  private async rewind(
    kept: { number: bigint; hash: string }[],
    signal?: AbortSignal,
  ): Promise<{ forkPoint: bigint; removed: number }> {
    let forkPoint = BigInt(this.deployment.deployBlock) - 1n;
    for (const block of kept) {
      if ((await this.hashAt(block.number, signal)) === block.hash) {
        forkPoint = block.number;
        break;
      }
    }
    const removed = await rewindIndex(this.db, this.deployment.chainId, this.deployment.ledger, forkPoint);
    this.logger.warn("chain reorganisation: re-indexing above the fork point", { forkPoint, removed });
    return { forkPoint, removed };
  }

  private decode(log: RawLog): ChainEventRow {
    const contract = this.contracts.get(log.address.toLowerCase());
    if (contract === undefined) throw new BaseError(`a log from an unexpected address ${log.address}`);
    const base = {
      blockNumber: BigInt(log.blockNumber),
      logIndex: Number(BigInt(log.logIndex)),
      blockHash: log.blockHash,
      txHash: log.transactionHash,
      contract: contract.name,
      address: getAddress(log.address),
    };
    const parsed = contract.iface.parseLog({ topics: log.topics, data: log.data });
    if (parsed === null) {
      return {
        ...base,
        name: `unknown:${log.topics[0] ?? "anonymous"}`,
        args: { topics: log.topics, data: log.data },
        agreementId: null,
        period: null,
        carrierId: null,
      };
    }
    const args = jsonValues(parsed.fragment.inputs, parsed.args);
    const text = (key: string) => (typeof args[key] === "string" ? (args[key] as string) : null);
    return {
      ...base,
      name: parsed.name,
      args,
      agreementId: text("agreementId"),
      period: text("period") === null ? null : Number(text("period")),
      carrierId: text("carrierId") ?? text("proposerCarrier"),
    };
  }

  private async hashAt(number: bigint, signal?: AbortSignal): Promise<string | null> {
    return (await this.block(number, signal))?.hash ?? null;
  }

  private async block(number: bigint, signal?: AbortSignal): Promise<RawBlock | null> {
    return this.rpc(
      "eth_getBlockByNumber",
      async () =>
        (await this.provider.send("eth_getBlockByNumber", [toQuantity(number), false])) as RawBlock | null,
      signal,
    );
  }

  private rpc<T>(what: string, call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetry(what, call, { ...this.retry, signal: signal ?? this.retry.signal, logger: this.logger });
  }
}

/** Event arguments as JSON: named, tuples as objects, bigints as decimal strings. */
function jsonValues(params: readonly ParamType[], values: Result): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  params.forEach((param, index) => {
    out[param.name === "" ? String(index) : param.name] = jsonValue(param, values[index]);
  });
  return out;
}

function jsonValue(param: ParamType, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (param.isTuple() && param.components !== null) return jsonValues(param.components, value as Result);
  if (param.isArray() && param.arrayChildren !== null) {
    const child = param.arrayChildren;
    return (value as unknown[]).map((item) => jsonValue(child, item));
  }
  return value;
}
