/**
 * How officers' signatures are encoded for the contracts (OfficerSignatures.sol): an externally owned
 * account's ECDSA signature is the usual 65 bytes; a contract officer (a Safe or another ERC-1271
 * wallet) is named in the signature, `abi.encode(address officer, bytes signature)`, and the contract
 * asks the wallet (`isValidSignature(digest, signature)`) whether it signed. Both go in the same
 * `bytes[]` of `approveWithSignatures`, `approveAndSettle`, `updateOfficers` and `updateNodes`.
 */
import { AbiCoder, dataLength, getAddress } from "ethers";

/** Length of an ECDSA signature (r ‖ s ‖ v); the contracts treat anything of 96 bytes or more as a contract officer's. */
export const ECDSA_SIGNATURE_BYTES = 65;
/** Shortest contract-officer encoding: the address, the offset and the length of empty bytes. */
export const CONTRACT_SIGNATURE_MIN_BYTES = 96;
/**
 * The shape of an officer signature as lower-case hex: 65 bytes of ECDSA, or a contract officer's
 * encoding (a whole number of 32-byte words, at least three). Whether it is valid is for the chain.
 */
export const OFFICER_SIGNATURE_HEX = /^0x(?:[0-9a-f]{130}|(?:[0-9a-f]{64}){3,})$/;
/** What a contract officer's `isValidSignature(digest, signature)` returns when it signed (ERC-1271). */
export const ERC1271_MAGIC_VALUE = "0x1626ba7e";

/**
 * The signature a contract officer submits: `officer` (the wallet's address) with what the wallet's
 * `isValidSignature` accepts (for a Safe: its owners' signatures as the Safe encodes them).
 * @throws TypeError when `officer` is not an address or `signature` not hex.
 */
export function contractSignature(officer: string, signature: string): string {
  return AbiCoder.defaultAbiCoder().encode(["address", "bytes"], [getAddress(officer), signature]);
}

/** The officer a signature names when it is a contract officer's, else null (an ECDSA signature). */
export function contractSigner(signature: string): string | null {
  return decodeContractSignature(signature)?.officer ?? null;
}

/**
 * The two parts of a contract officer's signature: the wallet and what its `isValidSignature` is asked
 * to accept; null for an ECDSA signature (shorter than `CONTRACT_SIGNATURE_MIN_BYTES`).
 * @throws Error when the signature is not hex, or long enough but not `abi.encode(address, bytes)`.
 */
export function decodeContractSignature(signature: string): { officer: string; signature: string } | null {
  if (dataLength(signature) < CONTRACT_SIGNATURE_MIN_BYTES) return null;
  const [officer, inner] = AbiCoder.defaultAbiCoder().decode(["address", "bytes"], signature);
  return { officer: getAddress(officer as string), signature: inner as string };
}
