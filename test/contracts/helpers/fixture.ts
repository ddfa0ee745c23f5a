import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { deployLedger } from "../../../scripts/lib/deployLedger";
import type {
  AgreementBook,
  CarrierRegistry,
  SettlementLedger,
  SettlementToken,
} from "../../../typechain-types";
import type { IAgreementBook } from "../../../typechain-types/contracts/AgreementBook";

export const CARRIER_A = ethers.encodeBytes32String("CARRIER-A");
export const CARRIER_B = ethers.encodeBytes32String("CARRIER-B");
export const CARRIER_C = ethers.encodeBytes32String("CARRIER-C");
export const UNKNOWN_CARRIER = ethers.encodeBytes32String("NOBODY");
/** First settled period; the fixture's clock starts on 2030-01-10. */
export const PERIOD = 203001;
export const FIXTURE_START = Date.UTC(2030, 0, 10) / 1000;
export const UNIT = 1_000_000n; // 6 decimals
export const DEPOSIT = 1_000_000n * UNIT;

export const WINDOWS = {
  commit: 3 * 86_400,
  reveal: 2 * 86_400,
  reconcile: 5 * 86_400,
  dispute: 7 * 86_400,
  response: 3 * 86_400,
  arbitration: 10 * 86_400,
};

export enum Rule {
  Terminating = 0,
  Originating = 1,
  Mean = 2,
}

export type Side = "A" | "B";

export interface Party {
  id: string;
  officers: HardhatEthersSigner[];
  node: HardhatEthersSigner;
  treasury: HardhatEthersSigner;
}

export interface LedgerFixture {
  admin: HardhatEthersSigner;
  arbiter: HardhatEthersSigner;
  regulator: HardhatEthersSigner;
  outsider: HardhatEthersSigner;
  registry: CarrierRegistry;
  book: AgreementBook;
  ledger: SettlementLedger;
  token: SettlementToken;
  tokenAddress: string;
  /** The ledger's address (commitments and EIP-712 domains bind it). */
  ledgerAddress: string;
  chainId: bigint;
  A: Party;
  B: Party;
  C: Party;
  agreementId: string;
  terms: IAgreementBook.TermsStruct;
}

export function makeTerms(overrides: Partial<IAgreementBook.TermsStruct> = {}): IAgreementBook.TermsStruct {
  return {
    carrierA: CARRIER_A,
    carrierB: CARRIER_B,
    token: ethers.ZeroAddress,
    toleranceBps: 100, // 1 %
    rule: Rule.Terminating,
    effectiveFrom: PERIOD,
    arbiter: ethers.ZeroAddress,
    toleranceAbs: 5n * UNIT,
    windows: WINDOWS,
    termsHash: ethers.id("terms v1"),
    ...overrides,
  };
}

/** Proposes `terms` as an officer of `proposer` and has the other carrier's officers approve it. */
export async function activate(
  fx: Pick<LedgerFixture, "book" | "A" | "B">,
  terms: IAgreementBook.TermsStruct,
  agreementId: string = ethers.ZeroHash,
  cid = "ipfs://terms",
  parties: [Party, Party] = [fx.A, fx.B],
): Promise<{ agreementId: string; proposalId: string }> {
  const [pa, pb] = parties;
  const tx = await fx.book.connect(pa.officers[0]!).propose(agreementId, pa.id, terms, cid);
  const receipt = await tx.wait();
  const log = receipt!.logs
    .map((l) => fx.book.interface.parseLog(l))
    .find((l) => l !== null && l.name === "AgreementProposed");
  const id = log!.args[0] as string;
  const proposalId = log!.args[1] as string;
  await fx.book.connect(pa.officers[1]!).approveProposal(proposalId, pa.id);
  await fx.book.connect(pb.officers[0]!).approveProposal(proposalId, pb.id);
  await fx.book.connect(pb.officers[1]!).approveProposal(proposalId, pb.id);
  return { agreementId: id, proposalId };
}

/** Three carriers (3 officers each, threshold 2), token listed, escrow funded, one active A–B agreement. */
export async function ledgerFixture(): Promise<LedgerFixture> {
  const s = await ethers.getSigners();
  const at = (i: number): HardhatEthersSigner => {
    const signer = s[i];
    if (signer === undefined) throw new Error(`no signer ${i}`);
    return signer;
  };
  await time.increaseTo(FIXTURE_START);
  const [admin, arbiter, regulator, outsider] = [at(0), at(1), at(2), at(3)];
  const party = (id: string, first: number): Party => ({
    id,
    officers: [at(first), at(first + 1), at(first + 2)],
    node: at(first + 3),
    treasury: at(first + 4),
  });
  const A = party(CARRIER_A, 4);
  const B = party(CARRIER_B, 9);
  const C = party(CARRIER_C, 14);

  const d = await deployLedger(admin);
  const { registry, book, ledger } = d;
  const token = d.demoToken!;
  await registry.grantRole(await registry.ARBITER_ROLE(), arbiter.address);
  await registry.grantRole(await registry.REGULATOR_ROLE(), regulator.address);
  for (const p of [A, B, C]) {
    await registry.registerCarrier(
      p.id,
      p.treasury.address,
      p.officers.map((o) => o.address),
      2,
      [p.node.address],
    );
    await token.mint(p.treasury.address, DEPOSIT * 10n);
    await token.connect(p.treasury).approve(await ledger.getAddress(), ethers.MaxUint256);
    await ledger.connect(p.treasury).deposit(p.id, d.tokenAddress, DEPOSIT);
  }
  const terms = makeTerms({ token: d.tokenAddress, arbiter: arbiter.address });
  const fx0 = { book, A, B };
  const { agreementId } = await activate(fx0, terms);
  return {
    admin,
    arbiter,
    regulator,
    outsider,
    registry,
    book,
    ledger,
    token,
    tokenAddress: d.tokenAddress,
    ledgerAddress: await ledger.getAddress(),
    chainId: d.chainId,
    A,
    B,
    C,
    agreementId,
    terms,
  };
}
