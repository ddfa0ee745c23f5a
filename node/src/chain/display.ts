/**
 * How ledger values read to people: carrier ids as names, token amounts with their symbol, chain
 * times as ISO-8601 UTC. Shared by the node's commands, the deadline watch and the audit.
 */
import { decodeBytes32String, getAddress, type Provider } from "ethers";
import { IERC20Metadata__factory, type CarrierRegistry } from "../../../typechain-types";
import { formatScaled } from "../money/decimal";

export interface TokenInfo {
  address: string;
  symbol: string;
  decimals: number;
}

/** A bytes32 carrier id as its name when it holds one ("ACME"), else the hex id. */
export function carrierName(id: string): string {
  try {
    const name = decodeBytes32String(id);
    if (/^[\x20-\x7e]+$/.test(name)) return name;
  } catch {
    // not a short string: show the hex
  }
  return id.toLowerCase();
}

/**
 * An agreement by its parties, "ACME–GLOBEX": how anyone but its parties names it (its local name is the
 * parties' own), in the audit and in a regulator's view of another carriers' agreement.
 */
export function agreementLabel(carrierA: string, carrierB: string): string {
  return `${carrierName(carrierA)}–${carrierName(carrierB)}`;
}

/** Per provider (chain): the same address may hold another token on another chain. */
const tokenCache = new WeakMap<Provider, Map<string, TokenInfo>>();

/**
 * Symbol and decimals of an ERC-20, cached per provider and address. A contract that does not answer them is shown
 * as "units of 0x…" with 0 decimals rather than failing a report.
 */
export async function tokenInfo(chain: { provider: Provider }, address: string): Promise<TokenInfo> {
  let cache = tokenCache.get(chain.provider);
  if (cache === undefined) tokenCache.set(chain.provider, (cache = new Map()));
  const cached = cache.get(address.toLowerCase());
  if (cached) return cached;
  const erc20 = IERC20Metadata__factory.connect(address, chain.provider);
  let info: TokenInfo;
  try {
    const [symbol, decimals] = await Promise.all([erc20.symbol(), erc20.decimals()]);
    info = { address: getAddress(address), symbol, decimals: Number(decimals) };
  } catch {
    info = { address: getAddress(address), symbol: `units of ${address}`, decimals: 0 };
  }
  cache.set(address.toLowerCase(), info);
  return info;
}

/** A token amount for people: "1234.560000 ICUSD". */
export function formatAmount(value: bigint, token: TokenInfo): string {
  return `${formatScaled(value, token.decimals)} ${token.symbol}`;
}

/** A unix time in seconds as ISO-8601 UTC without milliseconds. */
export function isoTime(seconds: bigint | number): string {
  return new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");
}

/** Who the addresses of a period or a report are, for people: lower-case address → name. */
export interface PeopleNames {
  /** "ACME officer 2" for each carrier's current officers, "arbiter" for the agreements' arbiters. */
  names: Record<string, string>;
  /** How many officers each carrier (lower-case id) has now: the N of "M of N officers". */
  officerCounts: Record<string, number>;
}

/**
 * Names the current officers of `carriers` by their place in the registry's list ("ACME officer 1",
 * as the demo and the CLI call them) and `arbiters` as "arbiter" (numbered when there are several);
 * the registry holds addresses only, so these are the names the console and reports can give.
 * @throws BaseError when the registry cannot be read (through the guarded contract or RPC).
 */
export async function peopleNames(
  registry: Pick<CarrierRegistry, "officersOf">,
  carriers: readonly string[],
  arbiters: readonly string[],
  blockTag?: number,
): Promise<PeopleNames> {
  const names: Record<string, string> = {};
  const officerCounts: Record<string, number> = {};
  const distinctArbiters = [...new Set(arbiters.map((a) => a.toLowerCase()))];
  distinctArbiters.forEach((arbiter, i) => {
    names[arbiter] = distinctArbiters.length === 1 ? "arbiter" : `arbiter ${i + 1}`;
  });
  for (const carrier of new Set(carriers.map((c) => c.toLowerCase()))) {
    const officers =
      blockTag === undefined
        ? await registry.officersOf(carrier)
        : await registry.officersOf(carrier, { blockTag });
    officerCounts[carrier] = officers.length;
    officers.forEach((officer, i) => {
      names[officer.toLowerCase()] = `${carrierName(carrier)} officer ${i + 1}`;
    });
  }
  return { names, officerCounts };
}
