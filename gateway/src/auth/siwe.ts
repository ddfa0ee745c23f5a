/**
 * Sign-in challenges in the EIP-4361 ("Sign-In with Ethereum") text format. The server writes every
 * field; the person's wallet shows the text and signs it with `personal_sign`. Only the subset of the
 * format the server issues is parsed back (no resources, no request id, no not-before): anything else
 * is not one of ours.
 */
import { getAddress } from "ethers";

export interface SiweFields {
  /** RFC 3986 authority the sign-in is for (host[:port]). */
  domain: string;
  /** EIP-55 checksummed address. */
  address: string;
  statement: string;
  uri: string;
  chainId: bigint;
  /** At least 8 alphanumerics (ours: 32 hex digits). */
  nonce: string;
  issuedAt: Date;
  expirationTime: Date;
}

/** Builds the exact EIP-4361 message for `fields` (ISO 8601 UTC times with milliseconds). */
export function buildSiweMessage(fields: SiweFields): string {
  return [
    `${fields.domain} wants you to sign in with your Ethereum account:`,
    fields.address,
    "",
    fields.statement,
    "",
    `URI: ${fields.uri}`,
    "Version: 1",
    `Chain ID: ${fields.chainId}`,
    `Nonce: ${fields.nonce}`,
    `Issued At: ${fields.issuedAt.toISOString()}`,
    `Expiration Time: ${fields.expirationTime.toISOString()}`,
  ].join("\n");
}

const MESSAGE = new RegExp(
  [
    "^(?<domain>[^\\s/]+) wants you to sign in with your Ethereum account:",
    "(?<address>0x[0-9a-fA-F]{40})",
    "",
    "(?<statement>[^\\n]+)",
    "",
    "URI: (?<uri>\\S+)",
    "Version: 1",
    "Chain ID: (?<chainId>[1-9][0-9]{0,77})",
    "Nonce: (?<nonce>[A-Za-z0-9]{8,})",
    "Issued At: (?<issuedAt>\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d{1,9})?Z)",
    "Expiration Time: (?<expirationTime>\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d{1,9})?Z)$",
  ].join("\\n"),
);

/**
 * Parses a message of the shape {@link buildSiweMessage} writes; null when it has another shape, an
 * address without a valid EIP-55 checksum or an unreadable time. Parsing proves nothing: the caller
 * compares the text with the challenge it stored and checks the signature.
 */
export function parseSiweMessage(message: string): SiweFields | null {
  const groups = MESSAGE.exec(message)?.groups;
  if (!groups) return null;
  let address: string;
  try {
    address = getAddress(groups.address!);
  } catch {
    return null;
  }
  if (address !== groups.address) return null;
  const issuedAt = new Date(groups.issuedAt!);
  const expirationTime = new Date(groups.expirationTime!);
  if (Number.isNaN(issuedAt.getTime()) || Number.isNaN(expirationTime.getTime())) return null;
  return {
    domain: groups.domain!,
    address,
    statement: groups.statement!,
    uri: groups.uri!,
    chainId: BigInt(groups.chainId!),
    nonce: groups.nonce!,
    issuedAt,
    expirationTime,
  };
}
