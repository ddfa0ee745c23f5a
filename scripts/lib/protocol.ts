/**
 * Off-chain encodings of the settlement ledger: the commitment a node submits and the EIP-712 typed data
 * officers sign. Shared by the deploy/bench scripts, the contract tests and the carrier node.
 */
import { AbiCoder, keccak256, type TypedDataDomain, type TypedDataField } from "ethers";
import { stateIndex, type PeriodStateName } from "../../node/src/chain/period-states";

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

/** keccak256(abi.encode(agreementId, period, party, root, amountAB, amountBA, salt)) — as the ledger. */
export function computeCommitment(
  agreementId: string,
  period: number,
  party: string,
  root: string,
  amountAB: bigint,
  amountBA: bigint,
  salt: string,
): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["bytes32", "uint32", "bytes32", "bytes32", "uint256", "uint256", "bytes32"],
      [agreementId, period, party, root, amountAB, amountBA, salt],
    ),
  );
}

/** First second (unix, UTC) after period YYYYMM: when its commit window opens. */
export function periodEnd(period: number): number {
  const year = Math.floor(period / 100);
  const month = period % 100;
  return Date.UTC(year, month, 1) / 1000;
}

/** States of ISettlementLedger.PeriodState, by index (one list, shared with the node). */
export { PERIOD_STATES, stateIndex, type PeriodStateName } from "../../node/src/chain/period-states";
/** Bitmap of states as reported by LedgerUnexpectedState's `expectedBitmap`. */
export function stateBitmap(...names: PeriodStateName[]): string {
  let bits = 0n;
  for (const n of names) bits |= 1n << stateIndex(n);
  return "0x" + bits.toString(16).padStart(64, "0");
}
