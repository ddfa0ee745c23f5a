/**
 * The audit's read-only view of the chain: a provider, the three contracts found from the ledger's
 * address alone, their deploy blocks, and cached block times. Nothing here needs a carrier's node or
 * database.
 */
import { AbiCoder, getAddress, isAddress, JsonRpcProvider, type TransactionResponse } from "ethers";
import {
  AgreementBook__factory,
  CarrierRegistry__factory,
  SettlementLedger__factory,
  type AgreementBook,
  type CarrierRegistry,
  type SettlementLedger,
} from "../../../typechain-types";
import { BaseError, InputError, NotFoundError, UnavailableError } from "../errors";
import { tokenInfo } from "../chain/display";
import { toChainError } from "../chain/errors";
import { withRetry } from "../chain/retry";
import { silentLogger } from "../logger";
import type { ContractAddresses } from "./events";

export interface AuditChain {
  provider: JsonRpcProvider;
  chainId: bigint;
  addresses: ContractAddresses;
  ledger: SettlementLedger;
  registry: CarrierRegistry;
  book: AgreementBook;
  /** First block the replay reads. */
  fromBlock: number;
  /** Last block the replay reads; every view is read at this block. */
  toBlock: number;
  blockTimestamp(block: number): Promise<number>;
  transaction(hash: string): Promise<TransactionResponse | null>;
  /** Symbol and decimals of a token ("units of 0x…"/0 when it does not answer). */
  token(address: string): Promise<{ symbol: string; decimals: number }>;
  close(): void;
}

export interface OpenAuditChainOptions {
  rpcUrl: string;
  ledger: string;
  fromBlock?: number;
  /** Overrides when the ledger was not created by a top-level transaction. */
  registry?: string;
  book?: string;
  /** How long an unreachable RPC node is retried (default 5 s). */
  retryMs?: number;
}

/**
 * Connects and finds what the replay needs from the ledger's address: the registry and book (the
 * ledger's constructor arguments, read from its creation transaction), each contract's deploy block
 * (binary search on eth_getCode) and the head block.
 * @throws UsageError-like InputError for a malformed address; NotFoundError when there is no contract
 * at the ledger address; UnavailableError when the RPC node cannot be reached.
 */
export async function openAuditChain(options: OpenAuditChainOptions): Promise<AuditChain> {
  const ledgerAddress = checkAddress(options.ledger, "--ledger");
  const provider = new JsonRpcProvider(options.rpcUrl, undefined, { staticNetwork: true, batchMaxCount: 1 });
  const retry = { logger: silentLogger, maxElapsedMs: options.retryMs ?? 5_000, initialMs: 100 };
  try {
    const chainId = await withRetry(
      "eth_chainId",
      async () => BigInt((await provider.send("eth_chainId", [])) as string),
      retry,
    ).catch((error: unknown) => {
      throw error instanceof UnavailableError
        ? new UnavailableError(`the RPC node at ${redact(options.rpcUrl)} is unreachable`, {
            code: "RPC_UNAVAILABLE",
            details: error.details,
            cause: error,
          })
        : error;
    });
    const head = await provider.getBlockNumber();
    if ((await provider.getCode(ledgerAddress, head)) === "0x") {
      throw new NotFoundError(`no contract at the ledger address ${ledgerAddress} on chain ${chainId}`);
    }
    // With --from-block (a published deploy block) the creation transaction is looked for there first,
    // so a node without historical state still works; otherwise binary search on eth_getCode.
    let ledgerDeploy = options.fromBlock ?? (await deployBlock(provider, ledgerAddress, 0, head));
    let registry = options.registry ? checkAddress(options.registry, "--registry") : undefined;
    let book = options.book ? checkAddress(options.book, "--book") : undefined;
    if (registry === undefined || book === undefined) {
      let args: { registry: string; book: string };
      try {
        args = await constructorArgs(provider, ledgerAddress, ledgerDeploy);
      } catch (error) {
        if (options.fromBlock === undefined || !(error instanceof InputError)) throw error;
        ledgerDeploy = await deployBlock(provider, ledgerAddress, 0, head);
        args = await constructorArgs(provider, ledgerAddress, ledgerDeploy);
      }
      registry ??= args.registry;
      book ??= args.book;
    }
    const starts = [ledgerDeploy];
    if (options.fromBlock === undefined) {
      starts.push(await deployBlock(provider, registry, 0, ledgerDeploy));
      starts.push(await deployBlock(provider, book, 0, ledgerDeploy));
    }
    const fromBlock = options.fromBlock ?? Math.min(...starts);
    const times = new Map<number, number>();
    return {
      provider,
      chainId,
      addresses: { ledger: ledgerAddress, registry, book },
      ledger: SettlementLedger__factory.connect(ledgerAddress, provider),
      registry: CarrierRegistry__factory.connect(registry, provider),
      book: AgreementBook__factory.connect(book, provider),
      fromBlock,
      toBlock: head,
      async blockTimestamp(block) {
        const known = times.get(block);
        if (known !== undefined) return known;
        const b = await rpc("eth_getBlockByNumber", () => provider.getBlock(block));
        if (b === null) throw new BaseError(`block ${block} is missing on the RPC node`);
        times.set(block, b.timestamp);
        return b.timestamp;
      },
      transaction: (hash) => rpc("eth_getTransactionByHash", () => provider.getTransaction(hash)),
      token: (address) => tokenInfo({ provider }, address),
      close: () => provider.destroy(),
    };
  } catch (error) {
    provider.destroy();
    throw error;
  }
}

async function rpc<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const chainError = toChainError(error, what);
    if (chainError.retryable)
      throw new UnavailableError(`the chain node stopped answering (${what})`, { cause: error });
    throw chainError;
  }
}

function checkAddress(text: string, option: string): string {
  if (!isAddress(text)) throw new InputError(`${option} '${text}' is not an address (0x and 40 hex digits)`);
  return getAddress(text);
}

async function hasCodeAt(provider: JsonRpcProvider, address: string, block: number): Promise<boolean> {
  return (await rpc("eth_getCode", () => provider.getCode(address, block))) !== "0x";
}

/**
 * The first block in [low, high] at which `address` has code (binary search on eth_getCode). Needs
 * an RPC node that serves historical state; pass --from-block otherwise.
 */
async function deployBlock(
  provider: JsonRpcProvider,
  address: string,
  low: number,
  high: number,
): Promise<number> {
  if (!(await hasCodeAt(provider, address, high))) {
    throw new NotFoundError(`no contract at ${address} at block ${high}`);
  }
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (await hasCodeAt(provider, address, mid)) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** The registry and book the ledger was built with: the tail of its creation transaction's data. */
async function constructorArgs(
  provider: JsonRpcProvider,
  ledger: string,
  block: number,
): Promise<{ registry: string; book: string }> {
  const b = await rpc("eth_getBlockByNumber", () => provider.getBlock(block, true));
  for (const tx of b?.prefetchedTransactions ?? []) {
    if (tx.to !== null) continue;
    const receipt = await rpc("eth_getTransactionReceipt", () => provider.getTransactionReceipt(tx.hash));
    if (receipt?.contractAddress?.toLowerCase() !== ledger.toLowerCase()) continue;
    const tail = "0x" + tx.data.slice(-128);
    const [registry, book] = AbiCoder.defaultAbiCoder().decode(["address", "address"], tail) as unknown as [
      string,
      string,
    ];
    return { registry: getAddress(registry), book: getAddress(book) };
  }
  throw new InputError(
    `the ledger's creation transaction is not in block ${block} (created by another contract?)`,
    { details: "pass --registry ADDRESS and --book ADDRESS" },
  );
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.origin + u.pathname;
  } catch {
    return "(invalid URL)";
  }
}
