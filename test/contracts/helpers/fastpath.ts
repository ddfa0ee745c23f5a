import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { ContractTransactionResponse } from "ethers";
import { SETTLEMENT_TYPES, ledgerDomain, type SettlementData } from "../../../scripts/lib/protocol";
import type { LedgerFixture } from "./fixture";
import type { PeriodLifecycle } from "./lifecycle";

/** The co-signed fast path of one agreement-period: the `Settlement` both carriers sign and its submission. */
export class FastPath {
  constructor(readonly lc: PeriodLifecycle) {}

  get fx(): LedgerFixture {
    return this.lc.fx;
  }

  /** The `Settlement` of this period at `amountAB`, `amountBA` (deadline an hour from now unless given). */
  async data(
    amountAB: bigint,
    amountBA: bigint,
    root = ethers.id("root-shared"),
    deadline?: bigint,
  ): Promise<SettlementData> {
    return {
      agreementId: this.lc.agreementId,
      period: this.lc.period,
      root,
      amountAB,
      amountBA,
      deadline: deadline ?? BigInt((await time.latest()) + 3600),
    };
  }

  /** Signatures of `signers` over `data` for `ledger` (this fixture's ledger unless given). */
  async sign(data: SettlementData, signers: HardhatEthersSigner[], ledger?: string): Promise<string[]> {
    const domain = ledgerDomain(this.fx.chainId, ledger ?? (await this.fx.ledger.getAddress()));
    return Promise.all(signers.map((s) => s.signTypedData(domain, SETTLEMENT_TYPES, data)));
  }

  /** Both carriers' 2-of-3 signatures over `data`, sent by an outsider. */
  async settle(data: SettlementData): Promise<ContractTransactionResponse> {
    const [a, b] = this.lc.parties;
    return this.fx.ledger
      .connect(this.fx.outsider)
      .settleFastPath(
        data,
        await this.sign(data, a.officers.slice(0, 2)),
        await this.sign(data, b.officers.slice(0, 2)),
      );
  }
}

/** Bitmap of officer slots, as the registry numbers them (`OfficerAdded`) and `FastPathSettled` reports them. */
export function slots(...indices: number[]): bigint {
  return indices.reduce((bits, i) => bits | (1n << BigInt(i)), 0n);
}
