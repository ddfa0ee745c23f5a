/** The commitment a node submits for its summary, as SettlementLedger.computeCommitment hashes it. */
import { AbiCoder, keccak256 } from "ethers";

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
