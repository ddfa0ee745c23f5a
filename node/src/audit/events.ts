/**
 * The audit's input: every log of the registry, the agreement book and the ledger, decoded, in chain
 * order. The verifier reads them through {@link EventSource} only, so a test can hand it a doctored
 * stream and check that the replay notices.
 */
import type { Interface, JsonRpcProvider, Log, LogDescription } from "ethers";
import {
  AgreementBook__factory,
  CarrierRegistry__factory,
  SettlementLedger__factory,
} from "../../../typechain-types";
import { UnavailableError } from "../errors";
import { toChainError } from "../chain/errors";

export type AuditContract = "ledger" | "registry" | "book";

/** One decoded log. `args` holds the event's parameters by name (structs as plain objects). */
export interface AuditEvent {
  contract: AuditContract;
  name: string;
  args: Record<string, unknown>;
  blockNumber: number;
  txHash: string;
  logIndex: number;
}

/** An ordered, finite list of decoded events (block, then log index). */
export interface EventSource {
  events(): AsyncIterable<AuditEvent>;
}

export interface ContractAddresses {
  ledger: string;
  registry: string;
  book: string;
}

const INTERFACES: Record<AuditContract, Interface> = {
  ledger: SettlementLedger__factory.createInterface(),
  registry: CarrierRegistry__factory.createInterface(),
  book: AgreementBook__factory.createInterface(),
};

/** An event source over a fixed list (tests, or a stream read once and replayed twice). */
export function arrayEventSource(events: readonly AuditEvent[]): EventSource {
  return {
    async *events() {
      for (const event of events) yield event;
    },
  };
}

/** Reads a whole source into an array. */
export async function collectEvents(source: EventSource): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for await (const event of source.events()) out.push(event);
  return out;
}

/**
 * The logs of the three contracts in [fromBlock, toBlock], read with eth_getLogs in ranges of
 * `batchSize` blocks and decoded with the contracts' ABIs. A log that does not decode (an unknown
 * event) is skipped: the contracts are fixed, so that can only be noise from a proxy.
 * @throws UnavailableError when the RPC node cannot be reached.
 */
export function rpcEventSource(
  provider: JsonRpcProvider,
  addresses: ContractAddresses,
  range: { fromBlock: number; toBlock: number; batchSize?: number },
): EventSource {
  const byAddress = new Map<string, AuditContract>([
    [addresses.ledger.toLowerCase(), "ledger"],
    [addresses.registry.toLowerCase(), "registry"],
    [addresses.book.toLowerCase(), "book"],
  ]);
  const batch = Math.max(1, range.batchSize ?? 2_000);
  return {
    async *events() {
      for (let from = range.fromBlock; from <= range.toBlock; from += batch) {
        const to = Math.min(range.toBlock, from + batch - 1);
        let logs: Log[];
        try {
          logs = await provider.getLogs({
            address: [addresses.ledger, addresses.registry, addresses.book],
            fromBlock: from,
            toBlock: to,
          });
        } catch (error) {
          const chainError = toChainError(error, "eth_getLogs");
          if (chainError.retryable) {
            throw new UnavailableError("the chain node stopped answering (eth_getLogs)", { cause: error });
          }
          throw chainError;
        }
        logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
        for (const log of logs) {
          const contract = byAddress.get(log.address.toLowerCase());
          if (contract === undefined) continue;
          const parsed = INTERFACES[contract].parseLog({ topics: [...log.topics], data: log.data });
          if (parsed === null) continue;
          yield {
            contract,
            name: parsed.name,
            args: plainArgs(parsed),
            blockNumber: log.blockNumber,
            txHash: log.transactionHash,
            logIndex: log.index,
          };
        }
      }
    },
  };
}

/**
 * A log's arguments by name, nested tuples as objects. `Result.toObject(true)` turns an array into an
 * object keyed "_" (its elements are unnamed), keeping only the last: arrays are copied as arrays instead.
 */
function plainArgs(parsed: LogDescription): Record<string, unknown> {
  const args = parsed.args.toObject(true) as Record<string, unknown>;
  parsed.fragment.inputs.forEach((input, index) => {
    if (input.isArray()) args[input.name] = Array.from(parsed.args[index] as Iterable<unknown>);
  });
  return args;
}

/** An array-of-strings argument (address[]; empty when absent). */
export function argStrings(event: AuditEvent, name: string): string[] {
  const value = event.args[name];
  return Array.isArray(value) ? value.map((v) => String(v)) : [];
}

/** A string argument (bytes32, address, CID). */
export function argString(event: AuditEvent, name: string): string {
  const value = event.args[name];
  return typeof value === "string" ? value : String(value ?? "");
}

/** An integer argument as bigint (0 when absent). */
export function argBig(event: AuditEvent, name: string): bigint {
  const value = event.args[name];
  if (typeof value === "bigint") return value;
  if (typeof value === "number" || typeof value === "string") return BigInt(value);
  return 0n;
}

/** A boolean argument. */
export function argBool(event: AuditEvent, name: string): boolean {
  return event.args[name] === true;
}
