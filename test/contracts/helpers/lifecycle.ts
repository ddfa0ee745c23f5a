import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { ContractTransactionResponse } from "ethers";
import {
  APPROVAL_TYPES,
  commitRound,
  computeCommitment,
  PERIOD_STATES,
  ledgerDomain,
  periodEnd,
  type ApprovalData,
} from "../../../scripts/lib/protocol";
import { WINDOWS, type LedgerFixture, type Party, type Side } from "./fixture";

/** What a carrier's node commits to and later reveals. */
export interface Figures {
  root: string;
  amountAB: bigint;
  amountBA: bigint;
  salt: string;
}

let saltCounter = 0;
export function figures(amountAB: bigint, amountBA: bigint, root = ethers.id("root-shared")): Figures {
  saltCounter += 1;
  return { root, amountAB, amountBA, salt: ethers.id(`salt-${saltCounter}`) };
}

/** Drives one agreement-period through its states. */
export class PeriodLifecycle {
  readonly committed: Partial<Record<Side, Figures>> = {};

  constructor(
    readonly fx: LedgerFixture,
    readonly period: number,
    readonly agreementId: string = fx.agreementId,
    readonly parties: [Party, Party] = [fx.A, fx.B],
  ) {}

  party(side: Side): Party {
    return side === "A" ? this.parties[0] : this.parties[1];
  }

  other(side: Side): Side {
    return side === "A" ? "B" : "A";
  }

  get end(): number {
    return periodEnd(this.period);
  }

  /** Forgets the figures committed so far (after an EVM state reset). */
  reset(): void {
    delete this.committed.A;
    delete this.committed.B;
  }

  async state(): Promise<bigint> {
    return this.fx.ledger.state(this.agreementId, this.period);
  }

  async deadlines() {
    return this.fx.ledger.deadlines(this.agreementId, this.period);
  }

  async toCommitWindow(): Promise<void> {
    const now = await time.latest();
    if (now < this.end) await time.increaseTo(this.end);
  }

  /** `side`'s commitment of `f` in `round` (default 0), as its node computes it. */
  commitment(side: Side, f: Figures, round = 0): string {
    return computeCommitment({
      chainId: this.fx.chainId,
      ledger: this.fx.ledgerAddress,
      agreementId: this.agreementId,
      period: this.period,
      round,
      party: this.party(side).id,
      root: f.root,
      amountAB: f.amountAB,
      amountBA: f.amountBA,
      salt: f.salt,
    });
  }

  /** The round a commit sent now lands in (the next one from Mismatched). */
  async commitRound(): Promise<number> {
    const state = PERIOD_STATES[Number(await this.state())]!;
    const record = await this.fx.ledger.periodRecord(this.agreementId, this.period);
    return commitRound(state, Number(record.round));
  }

  async commit(side: Side, f: Figures, from?: HardhatEthersSigner): Promise<ContractTransactionResponse> {
    const tx = await this.fx.ledger
      .connect(from ?? this.party(side).node)
      .commit(this.agreementId, this.period, this.commitment(side, f, await this.commitRound()));
    this.committed[side] = f;
    return tx;
  }

  async reveal(side: Side, from?: HardhatEthersSigner): Promise<ContractTransactionResponse> {
    const f = this.committed[side];
    if (f === undefined) throw new Error(`${side} has not committed`);
    return this.fx.ledger
      .connect(from ?? this.party(side).node)
      .reveal(this.agreementId, this.period, f.root, f.amountAB, f.amountBA, f.salt);
  }

  /** From Pending: both commit and reveal. */
  async run(a: Figures, b: Figures): Promise<void> {
    await this.toCommitWindow();
    await this.commit("A", a);
    await this.commit("B", b);
    await this.reveal("A");
    await this.reveal("B");
  }

  async toMatched(ab = 1_000n * 10n ** 6n, ba = 400n * 10n ** 6n): Promise<void> {
    await this.run(figures(ab, ba), figures(ab, ba));
  }

  /** Figures far outside tolerance: A claims more A→B than B does. */
  async toMismatched(): Promise<void> {
    await this.run(
      figures(1_000n * 10n ** 6n, 400n * 10n ** 6n, ethers.id("root-a")),
      figures(800n * 10n ** 6n, 500n * 10n ** 6n, ethers.id("root-b")),
    );
  }

  /** Only A commits and reveals; time moves past the reveal window. */
  async toDefaulted(): Promise<void> {
    await this.toCommitWindow();
    await this.commit("A", figures(1_000n * 10n ** 6n, 400n * 10n ** 6n, ethers.id("root-a")));
    await time.increaseTo(this.end + WINDOWS.commit + 1);
    await this.reveal("A");
    await time.increaseTo(this.end + WINDOWS.commit + WINDOWS.reveal + 1);
  }

  async openDispute(side: Side = "A"): Promise<ContractTransactionResponse> {
    return this.fx.ledger
      .connect(this.party(side).officers[0]!)
      .openDispute(this.agreementId, this.period, this.party(side).id, 7, "ipfs://evidence");
  }

  async approvalData(side: Side, partialSettlement = false, deadline?: bigint): Promise<ApprovalData> {
    const [amountAB, amountBA, rootA, rootB, round] = await this.fx.ledger.approvalFigures(
      this.agreementId,
      this.period,
      partialSettlement,
    );
    return {
      agreementId: this.agreementId,
      period: this.period,
      carrierId: this.party(side).id,
      round: Number(round),
      partialSettlement,
      amountAB,
      amountBA,
      rootA,
      rootB,
      deadline: deadline ?? BigInt((await time.latest()) + 3600),
    };
  }

  async sign(data: ApprovalData, signers: HardhatEthersSigner[]): Promise<string[]> {
    const domain = ledgerDomain(this.fx.chainId, await this.fx.ledger.getAddress());
    return Promise.all(signers.map((s) => s.signTypedData(domain, APPROVAL_TYPES, data)));
  }

  /** Threshold (2 of 3) approval of `side` by signatures. */
  async approve(side: Side, partialSettlement = false): Promise<ContractTransactionResponse> {
    const data = await this.approvalData(side, partialSettlement);
    const sigs = await this.sign(data, this.party(side).officers.slice(0, 2));
    return this.fx.ledger.connect(this.fx.outsider).approveWithSignatures(data, sigs);
  }

  async approveBoth(partialSettlement = false): Promise<void> {
    await this.approve("A", partialSettlement);
    await this.approve("B", partialSettlement);
  }

  async settle(): Promise<ContractTransactionResponse> {
    return this.fx.ledger.connect(this.fx.outsider).settle(this.agreementId, this.period);
  }

  async toSettled(): Promise<void> {
    await this.toMatched();
    await this.approveBoth();
    await this.settle();
  }
}

/** The figures of the dispute's latest proposal, as an officer about to accept them reads them. */
export async function proposedFigures(
  ledger: { disputeRecord(id: string, period: number): Promise<{ proposedAB: bigint; proposedBA: bigint }> },
  agreementId: string,
  period: number,
): Promise<[bigint, bigint]> {
  const d = await ledger.disputeRecord(agreementId, period);
  return [d.proposedAB, d.proposedBA];
}
