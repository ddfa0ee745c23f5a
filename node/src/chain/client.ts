/**
 * The node's connection to the ledger: a JSON-RPC provider pinned to the deployment's chain, the
 * typechain-typed SettlementLedger, CarrierRegistry and AgreementBook, the transaction manager of the
 * node key (when there is one) and the event indexer.
 */
import { JsonRpcProvider, Network, type TypedDataDomain, type Wallet } from "ethers";
import { inspect } from "node:util";
import { BaseError } from "../errors";
import type { Logger } from "../logger";
import type { Database } from "../db/database";
import {
  AgreementBook__factory,
  CarrierRegistry__factory,
  SettlementLedger__factory,
  type AgreementBook,
  type CarrierRegistry,
  type SettlementLedger,
} from "../../../typechain-types";
import { LEDGER_EIP712_NAME, LEDGER_EIP712_VERSION, readDomain } from "../protocol";
import type { ChainDeployment } from "./deployment";
import { isTransientRpcError } from "./errors";
import { guardContract } from "./guarded";
import { EventIndexer, type EventIndexerOptions } from "./indexer";
import { withRetry, type RetryOptions } from "./retry";
import { TxManager, type TxManagerOptions } from "./tx-manager";

export interface ChainClientOptions {
  /** JSON-RPC endpoint of the chain node. */
  rpcUrl: string;
  deployment: ChainDeployment;
  /** The node key; without it the client reads and indexes but cannot send. */
  signer?: Wallet;
  db: Database;
  logger: Logger;
  /** Backoff for the start-up checks (transient faults are retried). */
  retry?: RetryOptions;
  transactions?: TxManagerOptions;
  indexer?: EventIndexerOptions;
}

export interface ChainClient {
  readonly chainId: bigint;
  /** The JSON-RPC endpoint (may carry an API key: never log it; `toJSON` shows it redacted). */
  readonly rpcUrl: string;
  readonly deployment: ChainDeployment;
  readonly provider: JsonRpcProvider;
  /** The ledger's EIP-712 domain as the contract reports it (EIP-5267), what officers sign for. */
  readonly ledgerDomain: TypedDataDomain;
  /**
   * Contracts connected to the signer when there is one, else read-only; every call's failure comes
   * out as the node's error (./guarded.ts: RPC down → UnavailableError, a revert decoded).
   */
  readonly ledger: SettlementLedger;
  readonly registry: CarrierRegistry;
  readonly book: AgreementBook;
  /** The node key's address, or null without a signer. */
  readonly address: string | null;
  /** Null without a signer. */
  readonly transactions: TxManager | null;
  readonly indexer: EventIndexer;
  /** Stops the provider's timers and connections. */
  close(): void;
}

/**
 * Connects to `rpcUrl` and checks it is the deployment's chain with the ledger deployed.
 * @throws BaseError `CHAIN_MISMATCH` when the node serves another chain id, `DEPLOYMENT_MISMATCH` when
 * there is no contract at the ledger address; UnavailableError when the node stays unreachable.
 */
export async function createChainClient(options: ChainClientOptions): Promise<ChainClient> {
  const { deployment, logger } = options;
  const provider = new JsonRpcProvider(options.rpcUrl, Network.from(deployment.chainId), {
    staticNetwork: true,
  });
  let ledgerDomain: TypedDataDomain;
  try {
    const retry = { ...options.retry, logger };
    const served = await withRetry(
      "eth_chainId",
      async () => BigInt((await provider.send("eth_chainId", [])) as string),
      retry,
    );
    if (served !== deployment.chainId) {
      throw new BaseError(
        `the RPC node serves chain ${served}, the deployment is on chain ${deployment.chainId}`,
        {
          code: "CHAIN_MISMATCH",
        },
      );
    }
    const code = await withRetry("eth_getCode", () => provider.getCode(deployment.ledger), retry);
    if (code === "0x") {
      throw new BaseError(`no contract at the ledger address ${deployment.ledger} on chain ${served}`, {
        code: "DEPLOYMENT_MISMATCH",
      });
    }
    const reader = SettlementLedger__factory.connect(deployment.ledger, provider);
    ledgerDomain = await withRetry(
      "eip712Domain",
      async () => {
        try {
          return await readDomain(reader, { name: LEDGER_EIP712_NAME, version: LEDGER_EIP712_VERSION });
        } catch (error) {
          if (isTransientRpcError(error)) throw error;
          throw new BaseError(`the ledger at ${deployment.ledger} is not the protocol this node speaks`, {
            code: "DEPLOYMENT_MISMATCH",
            details: error instanceof Error ? error.message : String(error),
            cause: error,
          });
        }
      },
      retry,
    );
  } catch (error) {
    provider.destroy();
    throw error;
  }
  const signer = options.signer?.connect(provider) ?? null;
  const runner = signer ?? provider;
  const transactions =
    signer === null
      ? null
      : new TxManager(
          { provider, wallet: signer, chainId: deployment.chainId, db: options.db, logger },
          options.transactions,
        );
  const indexer = new EventIndexer({ provider, deployment, db: options.db, logger }, options.indexer);
  logger.info("chain client connected", {
    rpc: redactUrl(options.rpcUrl),
    chainId: deployment.chainId,
    ledger: deployment.ledger,
    address: signer?.address ?? null,
  });
  const client: ChainClient & { toJSON(): unknown } = {
    chainId: deployment.chainId,
    rpcUrl: options.rpcUrl,
    deployment,
    provider,
    ledgerDomain,
    ledger: guardContract(SettlementLedger__factory.connect(deployment.ledger, runner), "SettlementLedger"),
    registry: guardContract(CarrierRegistry__factory.connect(deployment.registry, runner), "CarrierRegistry"),
    book: guardContract(AgreementBook__factory.connect(deployment.book, runner), "AgreementBook"),
    address: signer?.address ?? null,
    transactions,
    indexer,
    close: () => provider.destroy(),
    // A client in a log line or a JSON dump shows where it points, never the key behind it.
    toJSON: () => ({
      chainId: deployment.chainId.toString(),
      rpc: redactUrl(options.rpcUrl),
      ledger: deployment.ledger,
      address: signer?.address ?? null,
    }),
  };
  Object.defineProperty(client, inspect.custom, {
    enumerable: false,
    value: () => `ChainClient ${JSON.stringify(client.toJSON())}`,
  });
  return client;
}

/** The URL without user, password, query or fragment (API keys often travel there). */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === "/" ? "" : "/…"}`;
  } catch {
    return "(unparsable URL)";
  }
}
