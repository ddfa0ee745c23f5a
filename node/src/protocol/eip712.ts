/**
 * The EIP-712 typed data officers and nodes sign: the domains of SettlementLedger and CarrierRegistry
 * and the structs `Approval`, `Settlement` (the co-signed fast path), `Commitment` (a node's, for
 * `commitBoth`), `OfficerUpdate` and `NodeUpdate`, exactly as the contracts hash them.
 */
import { TypedDataEncoder, type TypedDataDomain, type TypedDataField } from "ethers";

/** EIP-712 domain name and version of SettlementLedger. */
export const LEDGER_EIP712_NAME = "InterconnectLedger";
export const LEDGER_EIP712_VERSION = "1";
/** EIP-712 domain name and version of CarrierRegistry (officer updates). */
export const REGISTRY_EIP712_NAME = "CarrierRegistry";
export const REGISTRY_EIP712_VERSION = "1";

/** Typed-data struct officers sign to approve a period's figures. */
export const APPROVAL_TYPES: Record<string, TypedDataField[]> = {
  Approval: [
    { name: "agreementId", type: "bytes32" },
    { name: "period", type: "uint32" },
    { name: "carrierId", type: "bytes32" },
    { name: "round", type: "uint8" },
    { name: "partialSettlement", type: "bool" },
    { name: "amountAB", type: "uint96" },
    { name: "amountBA", type: "uint96" },
    { name: "rootA", type: "bytes32" },
    { name: "rootB", type: "bytes32" },
    { name: "deadline", type: "uint64" },
  ],
};

/**
 * Typed-data struct both carriers' officers sign for the co-signed fast path: the same struct (and
 * digest) on both sides, so the nodes exchange signatures over one message.
 */
export const SETTLEMENT_TYPES: Record<string, TypedDataField[]> = {
  Settlement: [
    { name: "agreementId", type: "bytes32" },
    { name: "period", type: "uint32" },
    { name: "root", type: "bytes32" },
    { name: "amountAB", type: "uint96" },
    { name: "amountBA", type: "uint96" },
    { name: "deadline", type: "uint64" },
  ],
};

/**
 * Typed-data struct a node signs over its commitment (LedgerCommitments.sol), so that either node can
 * submit both carriers' commitments in one `commitBoth`; `round` is the round it lands in.
 */
export const COMMITMENT_TYPES: Record<string, TypedDataField[]> = {
  Commitment: [
    { name: "agreementId", type: "bytes32" },
    { name: "period", type: "uint32" },
    { name: "round", type: "uint8" },
    { name: "carrierId", type: "bytes32" },
    { name: "commitment", type: "bytes32" },
  ],
};

/** What a node signs for `commitBoth` ({@link COMMITMENT_TYPES}). */
export interface CommitmentData {
  agreementId: string;
  period: number;
  round: number;
  carrierId: string;
  commitment: string;
}

/** Typed-data struct officers sign to change their carrier's officer set. */
export const OFFICER_UPDATE_TYPES: Record<string, TypedDataField[]> = {
  OfficerUpdate: [
    { name: "carrierId", type: "bytes32" },
    { name: "add", type: "address[]" },
    { name: "remove", type: "address[]" },
    { name: "threshold", type: "uint8" },
    { name: "treasury", type: "address" },
    { name: "nonce", type: "uint64" },
    { name: "deadline", type: "uint64" },
  ],
};

/** Typed-data struct officers sign to change their carrier's node addresses (shares the officer nonce). */
export const NODE_UPDATE_TYPES: Record<string, TypedDataField[]> = {
  NodeUpdate: [
    { name: "carrierId", type: "bytes32" },
    { name: "add", type: "address[]" },
    { name: "remove", type: "address[]" },
    { name: "nonce", type: "uint64" },
    { name: "deadline", type: "uint64" },
  ],
};

/** The values of an `Approval` (mirrors ISettlementLedger.Approval). */
export interface ApprovalData {
  agreementId: string;
  period: number;
  carrierId: string;
  round: number;
  partialSettlement: boolean;
  amountAB: bigint;
  amountBA: bigint;
  rootA: string;
  rootB: string;
  deadline: bigint;
}

/**
 * The EIP-712 digest of an `Approval` under `domain` (the ledger's), as `SettlementLedger.approvalDigest`
 * computes it: what each officer of the approving carrier signs.
 */
export function approvalDigest(domain: TypedDataDomain, approval: ApprovalData): string {
  return TypedDataEncoder.hash(domain, APPROVAL_TYPES, approval);
}

/** The values of a `Settlement` (mirrors ISettlementLedger.Settlement). */
export interface SettlementData {
  agreementId: string;
  period: number;
  root: string;
  amountAB: bigint;
  amountBA: bigint;
  deadline: bigint;
}

/**
 * The EIP-712 digest of a fast-path `Settlement` under `domain` (the ledger's), as
 * `SettlementLedger.settlementDigest` computes it: what every officer of both carriers signs.
 */
export function settlementDigest(domain: TypedDataDomain, settlement: SettlementData): string {
  return TypedDataEncoder.hash(domain, SETTLEMENT_TYPES, settlement);
}

/** The values of a `NodeUpdate` (mirrors ICarrierRegistry.NodeUpdate). */
export interface NodeUpdateData {
  carrierId: string;
  add: string[];
  remove: string[];
  nonce: bigint;
  deadline: bigint;
}

/** The values of an `OfficerUpdate` (mirrors ICarrierRegistry.OfficerUpdate). */
export interface OfficerUpdateData {
  carrierId: string;
  add: string[];
  remove: string[];
  threshold: number;
  treasury: string;
  nonce: bigint;
  deadline: bigint;
}

export function ledgerDomain(chainId: bigint, ledger: string): TypedDataDomain {
  return { name: LEDGER_EIP712_NAME, version: LEDGER_EIP712_VERSION, chainId, verifyingContract: ledger };
}

export function registryDomain(chainId: bigint, registry: string): TypedDataDomain {
  return {
    name: REGISTRY_EIP712_NAME,
    version: REGISTRY_EIP712_VERSION,
    chainId,
    verifyingContract: registry,
  };
}

/** What an EIP-5267 `eip712Domain()` call returns (the fields a caller reads). */
export interface Eip712DomainFields {
  name: string;
  version: string;
  chainId: bigint;
  verifyingContract: string;
}

/** A contract with EIP-5267's `eip712Domain()` (OpenZeppelin's EIP712). */
export interface Eip712DomainSource {
  eip712Domain(): Promise<Eip712DomainFields & Iterable<unknown>>;
}

/**
 * The signing domain the contract itself reports (EIP-5267), checked against the name and version
 * this node signs for, so a node never signs for a contract of another protocol version.
 * @throws Error when the deployed contract reports another name or version.
 */
export async function readDomain(
  contract: Eip712DomainSource,
  expected: { name: string; version: string },
): Promise<TypedDataDomain> {
  const domain = await contract.eip712Domain();
  if (domain.name !== expected.name || domain.version !== expected.version) {
    throw new Error(
      `the contract at ${domain.verifyingContract} signs for ${domain.name} ${domain.version}, this node for ${expected.name} ${expected.version}`,
    );
  }
  return {
    name: domain.name,
    version: domain.version,
    chainId: domain.chainId,
    verifyingContract: domain.verifyingContract,
  };
}
