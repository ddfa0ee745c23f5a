/**
 * EIP-712 typed data as the API hands it to an officer's wallet (eth_signTypedData_v4): the ledger's
 * domain, `EIP712Domain` and the struct's types (from node/src/protocol, never copied), the primary
 * type and the struct. The `Approval` and the fast path's `Settlement` go out through here alike.
 */
import type { TypedDataField } from "ethers";
import type { ChainClient } from "../../../node/src/chain/client";

const EIP712_DOMAIN_TYPE = [
  { name: "name", type: "string" },
  { name: "version", type: "string" },
  { name: "chainId", type: "uint256" },
  { name: "verifyingContract", type: "address" },
];

/** `message` of `primaryType` (one of `types`) under the ledger's domain, ready for a wallet. */
export function ledgerTypedData<T extends string, M>(
  chain: ChainClient,
  types: Record<string, TypedDataField[]>,
  primaryType: T,
  message: M,
) {
  const domain = chain.ledgerDomain;
  return {
    domain: {
      name: String(domain.name),
      version: String(domain.version),
      chainId: chain.chainId,
      verifyingContract: String(domain.verifyingContract),
    },
    types: { EIP712Domain: EIP712_DOMAIN_TYPE, ...types },
    primaryType,
    message,
  };
}
