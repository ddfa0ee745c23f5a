/**
 * The settlement tokens the registry lists (from indexed `TokenListed` events plus the deployment's
 * token), with symbol and decimals read from the token, and how a person names one (symbol or address).
 */
import { encodeBytes32String, getAddress, isHexString } from "ethers";
import type { ChainClient } from "../chain/client";
import { toChainError } from "../chain/errors";
import type { LoadedDeployment } from "../chain/deployment";
import { listChainEvents } from "../db/chain-store";
import type { Database } from "../db/database";
import { InputError, NotFoundError } from "../errors";
import { carrierName, tokenInfo, type TokenInfo } from "./period-context";

/** A listed token: checksummed address, symbol and decimals. */
export type ListedToken = TokenInfo;

export { carrierName };

/** Runs an RPC call, mapping failures to the node's errors (named reverts, retryable outages). */
export async function chainCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toChainError(error, what);
  }
}

/**
 * Tokens listed now, in order of listing. Reads the index (sync it first) and asks each token for its
 * symbol and decimals. @throws UnavailableError when the chain node is unreachable.
 */
export async function listedTokens(
  chain: ChainClient,
  db: Database,
  deployment?: Pick<LoadedDeployment, "token">,
): Promise<ListedToken[]> {
  const listed = new Map<string, boolean>();
  if (deployment?.token) listed.set(getAddress(deployment.token.address), true);
  for (const event of await listChainEvents(db, { chainId: chain.chainId, name: "TokenListed" })) {
    if (event.contract !== "CarrierRegistry") continue;
    listed.set(getAddress(String(event.args.token)), event.args.listed === true);
  }
  const tokens: ListedToken[] = [];
  for (const [address, isListed] of listed) {
    if (!isListed || !(await chainCall("isTokenListed", () => chain.registry.isTokenListed(address))))
      continue;
    tokens.push(await tokenInfo(chain, address));
  }
  return tokens;
}

/**
 * The listed token named by `text`: its symbol (any case) or address.
 * @throws NotFoundError naming the listed tokens when none matches.
 */
export function resolveToken(tokens: readonly ListedToken[], text: string): ListedToken {
  const wanted = text.trim().toLowerCase();
  const found =
    tokens.find((t) => t.address.toLowerCase() === wanted) ??
    tokens.find((t) => t.symbol.toLowerCase() === wanted);
  if (found) return found;
  throw new NotFoundError(
    `token ${text} is not a listed settlement token`,
    tokens.length > 0
      ? `Listed: ${tokens.map((t) => `${t.symbol} (${t.address})`).join(", ")}`
      : "The registry lists no token yet.",
  );
}

/** The token of `address` among the listed ones, or a placeholder with 0 decimals (never listed). */
export function tokenOf(tokens: readonly ListedToken[], address: string): ListedToken {
  return (
    tokens.find((t) => t.address.toLowerCase() === address.toLowerCase()) ?? {
      address: getAddress(address),
      symbol: address,
      decimals: 0,
    }
  );
}

/**
 * A carrier id from what a person typed: 0x + 64 hex digits, or a name of up to 31 bytes (`ACME`).
 * @throws InputError otherwise.
 */
export function parseCarrierId(text: string): string {
  if (isHexString(text, 32)) return text.toLowerCase();
  if (text.startsWith("0x"))
    throw new InputError(`carrier '${text}' is not 0x followed by 64 hex digits`, { field: "carrier" });
  try {
    return encodeBytes32String(text).toLowerCase();
  } catch {
    throw new InputError(`carrier '${text}' is longer than 31 bytes`, { field: "carrier" });
  }
}
