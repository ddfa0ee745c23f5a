/**
 * The node's outgoing transactions, exactly once per idempotency key. Every intent is stored before
 * anything is signed; the signed transaction (nonce, hash, raw bytes) is stored before it is
 * broadcast; so after a crash or an RPC outage `reconcile()` can tell, from the chain alone, whether
 * the transaction landed (receipt by hash), is still pending, never left (nonce unused: the same
 * signed bytes are broadcast again) or lost its nonce to another transaction (it provably never
 * landed, so it is signed again). A key never gets a second transaction once one has landed.
 */
import { Transaction, getAddress, isHexString, type JsonRpcProvider, type Wallet } from "ethers";
import { inspect } from "node:util";
import { BaseError, ConflictError, InputError } from "../errors";
import type { Logger } from "../logger";
import type { Database } from "../db/database";
import {
  findTx,
  listMinedTxsFrom,
  listPendingTxs,
  markTxFailed,
  markTxMined,
  markTxSent,
  markTxSigned,
  nextRecordedNonce,
  recordTxIntent,
  reopenTx,
  resetTxToIntent,
  type TxRow,
} from "../db/chain-store";
import { ContractRevertError, isAlreadyKnown, isNonceTooLow, toChainError } from "./errors";
import { sleep, withRetry, type RetryOptions } from "./retry";

export interface TxRequest {
  /** What the transaction does, for people and queries: `commit`, `reveal`, `settle`… */
  kind: string;
  /** One transaction per key, ever, e.g. `commit:<agreement>:<period>:<round>`. */
  idempotencyKey: string;
  to: string;
  data: string;
}

export interface TxResult {
  idempotencyKey: string;
  kind: string;
  /** `reverted`: mined with status 0 (the effect did not happen; the key stays used). */
  status: "confirmed" | "reverted";
  txHash: string;
  nonce: bigint;
  blockNumber: bigint;
  blockHash: string;
  gasUsed: bigint;
  /** The stored reason of a reverted transaction, when known. */
  error: string | null;
}

export interface TxManagerOptions {
  /** Blocks on top of the receipt's block (inclusive) before a transaction counts as final (default 1). */
  confirmations?: number;
  /** How often to look for a receipt, in ms (default 500). */
  pollIntervalMs?: number;
  /**
   * How many of the newest blocks `recheckRecent` looks back over for transactions the chain may have
   * dropped since they were recorded as mined (default 128).
   */
  recheckBlocks?: number;
  /** Gas limit = estimate × this / 100 (default 125). */
  gasMarginPercent?: number;
  /** Backoff for RPC calls (transient faults are retried; see withRetry). */
  retry?: RetryOptions;
  /**
   * Test hooks that play a crash at the riskiest moments; production code leaves them unset.
   * `afterSign` runs once the signed transaction is stored, `afterBroadcast` once the node accepted it.
   */
  hooks?: {
    afterSign?: (txHash: string) => void | Promise<void>;
    afterBroadcast?: (txHash: string) => void | Promise<void>;
  };
}

interface Deps {
  provider: JsonRpcProvider;
  wallet: Wallet;
  chainId: bigint;
  db: Database;
  logger: Logger;
}

interface RawReceipt {
  status: string | null;
  blockNumber: string;
  blockHash: string;
  gasUsed: string;
  transactionHash: string;
  logs: unknown[];
}

class NonceTaken extends Error {}

/** Sends, tracks and reconciles the node key's transactions; build with `new TxManager(deps, options)`. */
export class TxManager {
  readonly address: string;
  private readonly provider: JsonRpcProvider;
  private readonly wallet: Wallet;
  private readonly chainId: bigint;
  private readonly db: Database;
  private readonly logger: Logger;
  private readonly options: Required<Omit<TxManagerOptions, "hooks" | "retry">> &
    Pick<TxManagerOptions, "hooks" | "retry">;
  /** Serialises nonce allocation, signing and broadcasting. */
  private lock: Promise<unknown> = Promise.resolve();

  constructor(deps: Deps, options: TxManagerOptions = {}) {
    this.provider = deps.provider;
    this.wallet = deps.wallet;
    this.address = deps.wallet.address;
    this.chainId = deps.chainId;
    this.db = deps.db;
    this.logger = deps.logger;
    this.options = {
      confirmations: options.confirmations ?? 1,
      pollIntervalMs: options.pollIntervalMs ?? 500,
      gasMarginPercent: options.gasMarginPercent ?? 125,
      recheckBlocks: options.recheckBlocks ?? 128,
      hooks: options.hooks,
      retry: options.retry,
    };
  }

  /**
   * Sends `request` once: records the intent, signs, broadcasts, waits for the receipt and its
   * confirmations. A key already used returns the first transaction's result (waiting for it if it is
   * still pending); a key whose earlier attempt failed before anything was broadcast is tried again.
   * @throws ContractRevertError when gas estimation reverts (nothing is broadcast; the row is `failed`);
   * ConflictError when the key was used for another destination or calldata; InputError for a
   * malformed request; UnavailableError when the RPC node stays unreachable (the row stays pending and
   * `reconcile` or a later `send` finishes it).
   */
  async send(request: TxRequest): Promise<TxResult> {
    if (request.idempotencyKey.trim() === "") throw new InputError("the idempotency key is empty");
    if (!isHexString(request.data)) throw new InputError("the calldata is not hex", { field: "data" });
    let to: string;
    try {
      to = getAddress(request.to);
    } catch (error) {
      throw new InputError(`'${request.to}' is not an address`, { field: "to", cause: error });
    }
    const { row } = await recordTxIntent(this.db, {
      idempotencyKey: request.idempotencyKey,
      kind: request.kind,
      chainId: this.chainId,
      from: this.address,
      to,
      data: request.data.toLowerCase(),
    });
    if (row.to !== to || row.data !== request.data.toLowerCase() || row.from !== this.address) {
      throw new ConflictError(
        `idempotency key ${request.idempotencyKey} was used for another transaction`,
        `recorded: ${row.kind} from ${row.from} to ${row.to}`,
      );
    }
    return this.drive(row);
  }

  /**
   * Brings every unfinished transaction of this key to an end against the chain: found receipts are
   * recorded, pending ones awaited, unsent ones broadcast (the same signed bytes while their nonce is
   * unused), intents signed and sent. Run it on start, before new sends.
   * @throws UnavailableError when the RPC node stays unreachable.
   */
  async reconcile(): Promise<TxResult[]> {
    const results = await this.recheckRecent();
    const pending = await listPendingTxs(this.db, this.chainId, this.address);
    if (pending.length > 0) this.logger.info("reconciling pending transactions", { count: pending.length });
    return [...results, ...(await this.driveAll(pending))];
  }

  /**
   * Looks again at every transaction recorded as mined in the newest `recheckBlocks` blocks (or above
   * the head): one the chain no longer has where it was recorded — dropped by a reorganisation, or by a
   * chain restored from an older state (an Anvil restarted from its last dump) — goes back to `sent`
   * and is driven again, oldest nonce first: the same signed bytes while its nonce is unused, so it
   * lands once; signed again only when the nonce provably went to another transaction. Returns the
   * transactions it drove again. The runner calls it every pass (one receipt request per recent
   * transaction) and `reconcile` on start.
   * @throws UnavailableError when the RPC node stays unreachable.
   */
  async recheckRecent(): Promise<TxResult[]> {
    const head = await this.rpc("eth_blockNumber", async () =>
      BigInt((await this.provider.send("eth_blockNumber", [])) as string),
    );
    const from = head - BigInt(this.options.recheckBlocks) + 1n;
    const mined = await listMinedTxsFrom(this.db, this.chainId, this.address, from > 0n ? from : 0n);
    const dropped: TxRow[] = [];
    for (const row of mined) {
      const receipt = await this.rpc("eth_getTransactionReceipt", () => this.receipt(row.txHash!));
      if (receipt !== null && receipt.blockHash === row.blockHash) continue;
      this.logger.warn(
        "the chain no longer has a mined transaction where it was recorded: sending it again",
        {
          idempotencyKey: row.idempotencyKey,
          txHash: row.txHash,
          nonce: row.nonce,
          recordedBlock: row.blockNumber,
          head,
        },
      );
      await reopenTx(this.db, row.id, `block ${row.blockNumber} (${row.blockHash}) left the chain`);
      dropped.push(row);
    }
    return this.driveAll(dropped);
  }

  /** Drives each row to its end in turn; one whose effect the ledger now refuses is logged and left. */
  private async driveAll(rows: readonly TxRow[]): Promise<TxResult[]> {
    const results: TxResult[] = [];
    for (const row of rows) {
      try {
        results.push(await this.drive(await this.reload(row)));
      } catch (error) {
        if (error instanceof ContractRevertError) {
          this.logger.warn("a pending transaction can no longer be sent", {
            idempotencyKey: row.idempotencyKey,
            error: error.shortMessage,
          });
          continue;
        }
        throw error;
      }
    }
    return results;
  }

  /** The stored row of `idempotencyKey`, or null. */
  async lookup(idempotencyKey: string): Promise<TxRow | null> {
    return findTx(this.db, idempotencyKey);
  }

  private async drive(start: TxRow): Promise<TxResult> {
    let row = start;
    for (;;) {
      switch (row.status) {
        case "confirmed":
        case "reverted":
          return resultOf(row);
        case "intent":
        case "failed":
          row = await this.signAndBroadcast(row);
          break;
        case "signed":
        case "sent":
          row = await this.awaitMined(row);
          break;
      }
    }
  }

  private async signAndBroadcast(start: TxRow): Promise<TxRow> {
    return this.exclusive(async () => {
      const row = await this.reload(start);
      if (row.status !== "intent" && row.status !== "failed") return row;
      let gasEstimate: bigint;
      try {
        gasEstimate = await this.rpc("eth_estimateGas", () =>
          this.provider.estimateGas({ from: this.address, to: row.to, data: row.data }),
        );
      } catch (error) {
        if (error instanceof ContractRevertError) await markTxFailed(this.db, row.id, error.shortMessage);
        throw error;
      }
      const pendingCount = await this.rpc("eth_getTransactionCount", () => this.transactionCount("pending"));
      const recorded = await nextRecordedNonce(this.db, this.chainId, this.address);
      const nonce = pendingCount > recorded ? pendingCount : recorded;
      const fees = await this.rpc("eth_feeHistory", () => this.provider.getFeeData());
      const maxPriorityFeePerGas = fees.maxPriorityFeePerGas ?? 0n;
      const maxFeePerGas = fees.maxFeePerGas ?? fees.gasPrice ?? 0n;
      const gasLimit = (gasEstimate * BigInt(this.options.gasMarginPercent)) / 100n;
      const signedTx = await this.wallet.signTransaction(
        Transaction.from({
          type: 2,
          chainId: this.chainId,
          nonce: Number(nonce),
          to: row.to,
          data: row.data,
          gasLimit,
          maxFeePerGas,
          maxPriorityFeePerGas,
        }),
      );
      const txHash = Transaction.from(signedTx).hash;
      if (txHash === null) throw new BaseError("the signed transaction has no hash");
      await markTxSigned(this.db, row.id, {
        nonce,
        gasLimit,
        maxFeePerGas,
        maxPriorityFeePerGas,
        signedTx,
        txHash,
      });
      this.logger.info("transaction signed", {
        idempotencyKey: row.idempotencyKey,
        kind: row.kind,
        nonce,
        txHash,
      });
      await this.options.hooks?.afterSign?.(txHash);
      try {
        await this.broadcast(signedTx, txHash);
      } catch (error) {
        if (error instanceof NonceTaken) {
          await resetTxToIntent(
            this.db,
            row.id,
            "the nonce went to another transaction before the broadcast",
          );
          return this.reload(row);
        }
        if (error instanceof BaseError && !error.retryable) {
          // Refused outright (nothing entered the chain): the key may be tried again later.
          await markTxFailed(this.db, row.id, error.shortMessage);
        }
        throw error;
      }
      await this.options.hooks?.afterBroadcast?.(txHash);
      await markTxSent(this.db, row.id);
      return this.reload(row);
    });
  }

  /**
   * Broadcasts signed bytes; a node that already has them, or already mined them, is fine.
   * @throws NonceTaken when the nonce went to another transaction (ours can then never land).
   */
  private async broadcast(signedTx: string, txHash: string): Promise<void> {
    let refused: unknown = null;
    await this.rpc("eth_sendRawTransaction", async () => {
      try {
        await this.provider.send("eth_sendRawTransaction", [signedTx]);
      } catch (raw) {
        if (isAlreadyKnown(raw)) return;
        if (toChainError(raw, "eth_sendRawTransaction").retryable) throw raw;
        refused = raw;
      }
    });
    if (refused === null) return;
    // Hardhat's automine reports a transaction that reverted while being mined as an error, and
    // nonce-too-low may be our own transaction mined already: the chain tells.
    const landed = await this.rpc("eth_getTransactionReceipt", () => this.receipt(txHash));
    if (landed !== null || (await this.rpc("eth_getTransactionByHash", () => this.knownTransaction(txHash))))
      return;
    if (isNonceTooLow(refused)) throw new NonceTaken();
    throw toChainError(refused, "eth_sendRawTransaction");
  }

  private async awaitMined(row: TxRow): Promise<TxRow> {
    const txHash = row.txHash;
    const signedTx = row.signedTx;
    if (txHash === null || signedTx === null || row.nonce === null)
      throw new BaseError("a signed row lacks its transaction");
    let rebroadcast = row.status === "sent";
    for (;;) {
      // The nonce count is read before the receipt: if our nonce was used before we saw no receipt,
      // another transaction used it and ours can never land.
      const used = await this.rpc("eth_getTransactionCount", () => this.transactionCount("latest"));
      const receipt = await this.rpc("eth_getTransactionReceipt", () => this.receipt(txHash));
      if (receipt !== null) {
        const blockNumber = BigInt(receipt.blockNumber);
        const head = await this.rpc("eth_blockNumber", async () =>
          BigInt((await this.provider.send("eth_blockNumber", [])) as string),
        );
        if (head - blockNumber + 1n >= BigInt(this.options.confirmations)) {
          const status = receipt.status === "0x1" ? "confirmed" : "reverted";
          const error = status === "reverted" ? await this.revertReason(row, blockNumber) : undefined;
          await markTxMined(this.db, row.id, {
            status,
            blockNumber,
            blockHash: receipt.blockHash,
            gasUsed: BigInt(receipt.gasUsed),
            receipt,
            error,
          });
          this.logger.info("transaction mined", {
            idempotencyKey: row.idempotencyKey,
            txHash,
            status,
            blockNumber,
          });
          return this.reload(row);
        }
      } else if (row.nonce < used) {
        this.logger.warn("a transaction lost its nonce to another and is signed again", {
          idempotencyKey: row.idempotencyKey,
          txHash,
          nonce: row.nonce,
        });
        await resetTxToIntent(this.db, row.id, `nonce ${row.nonce} was used by another transaction`);
        return this.reload(row);
      } else if (
        !rebroadcast ||
        !(await this.rpc("eth_getTransactionByHash", () => this.knownTransaction(txHash)))
      ) {
        await this.exclusive(async () => {
          try {
            await this.broadcast(signedTx, txHash);
          } catch (error) {
            if (!(error instanceof NonceTaken)) throw error;
          }
        });
        await markTxSent(this.db, row.id);
        rebroadcast = true;
        continue;
      }
      await sleep(this.options.pollIntervalMs);
    }
  }

  /** Best effort: replays the call on the parent block to name the revert. */
  private async revertReason(row: TxRow, blockNumber: bigint): Promise<string> {
    try {
      await this.provider.call({ from: row.from, to: row.to, data: row.data, blockTag: blockNumber - 1n });
      return "reverted on chain";
    } catch (error) {
      return toChainError(error, "eth_call").shortMessage;
    }
  }

  private async transactionCount(tag: "latest" | "pending"): Promise<bigint> {
    return BigInt((await this.provider.send("eth_getTransactionCount", [this.address, tag])) as string);
  }

  // Raw JSON-RPC (not the provider's helpers): ethers caches identical requests for a moment, and a
  // stale "no receipt" or nonce count would be read as a lost transaction.
  private async receipt(txHash: string): Promise<RawReceipt | null> {
    return (await this.provider.send("eth_getTransactionReceipt", [txHash])) as RawReceipt | null;
  }

  private async knownTransaction(txHash: string): Promise<boolean> {
    return (await this.provider.send("eth_getTransactionByHash", [txHash])) !== null;
  }

  private rpc<T>(what: string, call: () => Promise<T>): Promise<T> {
    return withRetry(what, call, { ...this.options.retry, logger: this.logger });
  }

  private async reload(row: TxRow): Promise<TxRow> {
    const fresh = await findTx(this.db, row.idempotencyKey);
    if (fresh === null)
      throw new BaseError(`transaction ${row.idempotencyKey} disappeared from the database`);
    return fresh;
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work, work);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Never shows the wallet (its key) when logged or serialised. */
  toJSON(): Record<string, unknown> {
    return { address: this.address, chainId: this.chainId.toString() };
  }

  [inspect.custom](): string {
    return `TxManager { address: '${this.address}', chainId: ${this.chainId} }`;
  }
}

function resultOf(row: TxRow): TxResult {
  if (
    (row.status !== "confirmed" && row.status !== "reverted") ||
    row.txHash === null ||
    row.nonce === null ||
    row.blockNumber === null ||
    row.blockHash === null ||
    row.gasUsed === null
  ) {
    throw new BaseError(`transaction ${row.idempotencyKey} is not final`);
  }
  return {
    idempotencyKey: row.idempotencyKey,
    kind: row.kind,
    status: row.status,
    txHash: row.txHash,
    nonce: row.nonce,
    blockNumber: row.blockNumber,
    blockHash: row.blockHash,
    gasUsed: row.gasUsed,
    error: row.error,
  };
}
