/**
 * EIP-712 typed data as the API hands it to an officer's wallet (eth_signTypedData_v4): the ledger's
 * domain, `EIP712Domain` and the struct's types (from node/src/protocol, never copied), the primary
 * type and the struct. The `Approval` and the fast path's `Settlement` go out through here alike.
 */
import type { TypedDataField } from "ethers";
import type { ChainClient } from "../../../node/src/chain/client";
import { officerSigner } from "../../../node/src/chain/officer-signer";
import { InputError } from "../../../node/src/errors";
import { HttpError } from "../http-error";

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

/**
 * The officer who signed `digest` with `signature` (an ECDSA key, or a contract officer once its wallet
 * validated it: node/src/chain/officer-signer.ts); 400 for a malformed signature, 409 for a wallet that
 * does not validate it.
 */
export async function signerOf(chain: ChainClient, digest: string, signature: string): Promise<string> {
  try {
    return await officerSigner(chain, digest, signature);
  } catch (error) {
    if (error instanceof InputError)
      throw new HttpError(400, "INVALID_INPUT", error.message, "body.signature");
    throw error;
  }
}
