/**
 * Who signed an EIP-712 digest, decided as the contracts decide it (contracts/libraries/OfficerSignatures.sol,
 * encoding in protocol/signatures.ts): the key behind a 65-byte ECDSA signature, or the contract officer (a
 * Safe, another ERC-1271 wallet) that a contract officer's signature names, once that wallet itself answered
 * `isValidSignature(digest, signature)` with the ERC-1271 magic value. Every officer signature the node keeps
 * (approvals, the fast path's Settlement) is checked here, so it keeps none the ledger would refuse.
 *
 * A wallet's answer can change (ERC-1271 signatures are revocable), so the ledger asks again when the
 * signatures are submitted; this check only spares the node keeping what would fail now.
 */
import { dataLength, isError, isHexString, recoverAddress } from "ethers";
import { BaseError, ConflictError, InputError } from "../errors";
import { ECDSA_SIGNATURE_BYTES, ERC1271_MAGIC_VALUE, decodeContractSignature } from "../protocol";
import { IERC1271__factory } from "../../../typechain-types";
import type { ChainClient } from "./client";
import { ContractRevertError } from "./errors";
import { guardContract } from "./guarded";

/**
 * The officer who signed `digest` with `signature`: the recovered address of an ECDSA signature, or the
 * contract officer named in a contract officer's signature once it validated the digest on chain.
 * @returns the address, checksummed.
 * @throws InputError (field `signature`) when it is neither a 65-byte ECDSA signature nor a contract
 * officer's `abi.encode(address, bytes)`; ConflictError naming the wallet when the contract officer does
 * not validate it (answers other than 0x1626ba7e, reverts, or is no contract); UnavailableError when the
 * RPC node cannot be reached.
 */
export async function officerSigner(
  chain: Pick<ChainClient, "provider">,
  digest: string,
  signature: string,
): Promise<string> {
  let wallet: { officer: string; signature: string } | null;
  try {
    wallet = isHexString(signature) ? decodeContractSignature(signature) : null;
    if (wallet === null) return recoverAddress(digest, ecdsa(signature));
  } catch (error) {
    throw new InputError(
      `the signature is neither a ${ECDSA_SIGNATURE_BYTES}-byte ECDSA signature nor a contract officer's (abi.encode(address, bytes))`,
      { field: "signature", cause: error },
    );
  }
  const answer = await askWallet(chain, wallet.officer, digest, wallet.signature);
  if (answer.toLowerCase() !== ERC1271_MAGIC_VALUE) {
    throw new ConflictError(
      `refused: the contract officer ${wallet.officer} does not validate the signature (ERC-1271)`,
      `its isValidSignature answered ${answer}, not the magic value ${ERC1271_MAGIC_VALUE}`,
    );
  }
  return wallet.officer;
}

/** `signature` when it has the length the contracts recover from (they refuse a 64-byte compact one). */
function ecdsa(signature: string): string {
  if (dataLength(signature) !== ECDSA_SIGNATURE_BYTES) {
    throw new Error(`${dataLength(signature)} bytes, not ${ECDSA_SIGNATURE_BYTES}`);
  }
  return signature;
}

/** The wallet's `isValidSignature` answer; a revert or an undecodable answer is a refusal, as on chain. */
async function askWallet(
  chain: Pick<ChainClient, "provider">,
  officer: string,
  digest: string,
  signature: string,
): Promise<string> {
  const wallet = guardContract(IERC1271__factory.connect(officer, chain.provider), "IERC1271");
  try {
    return await wallet.isValidSignature(digest, signature);
  } catch (error) {
    const refusal =
      error instanceof ContractRevertError
        ? `its isValidSignature reverted: ${error.shortMessage}`
        : error instanceof BaseError && isError(error.cause, "BAD_DATA")
          ? "it gave no isValidSignature answer (no contract at that address, or not an ERC-1271 wallet)"
          : null;
    if (refusal === null) throw error;
    throw new ConflictError(
      `refused: the contract officer ${officer} does not validate the signature (ERC-1271)`,
      refusal,
    );
  }
}
