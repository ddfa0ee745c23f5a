/** The commitment a node submits for its summary, as SettlementLedger.computeCommitment hashes it. */
import { AbiCoder, keccak256 } from "ethers";

/** What a commitment binds: where (chain, ledger), which period and round, whose summary, and its opening. */
export interface CommitmentFields {
  chainId: bigint | number;
  /** The SettlementLedger's address. */
  ledger: string;
  agreementId: string;
  period: number;
  /** The round the commitment is for: 0, or the correction round it starts or joins. */
  round: number;
  /** The committing carrier's id. */
  party: string;
  root: string;
  amountAB: bigint;
  amountBA: bigint;
  salt: string;
}

/**
 * keccak256(abi.encode(chainid, ledger, agreementId, period, round, party, root, amountAB, amountBA, salt)),
 * as the ledger checks it: bound to one chain, one ledger and one round (I-2).
 */
export function computeCommitment(f: CommitmentFields): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      [
        "uint256",
        "address",
        "bytes32",
        "uint32",
        "uint8",
        "bytes32",
        "bytes32",
        "uint256",
        "uint256",
        "bytes32",
      ],
      [
        f.chainId,
        f.ledger,
        f.agreementId,
        f.period,
        f.round,
        f.party,
        f.root,
        f.amountAB,
        f.amountBA,
        f.salt,
      ],
    ),
  );
}

/**
 * The round a commitment sent now lands in: the next one when the period is Mismatched (the commit starts a
 * correction round), otherwise the period's current round.
 */
export function commitRound(state: string, currentRound: number): number {
  return state === "Mismatched" ? currentRound + 1 : currentRound;
}

/** A `contestDefault` claim, as `ISettlementLedger.Claim`: the figures and the opening of the commitment. */
export interface ContestClaim {
  root: string;
  amountAB: bigint;
  amountBA: bigint;
  salt: string;
}

const ZERO = "0x" + "0".repeat(64);

/** The claim of a party whose node did not commit in the round: figures only, zero root and salt. */
export function bareClaim(amountAB: bigint, amountBA: bigint): ContestClaim {
  return { root: ZERO, amountAB, amountBA, salt: ZERO };
}
