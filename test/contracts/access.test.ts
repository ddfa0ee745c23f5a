/**
 * Every role-gated external function, called by every role it must refuse. The table is
 * function × unauthorised role; each row asserts the exact custom error and its arguments.
 */
import { bareClaim } from "../../node/src/protocol";
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { BaseContract, ContractTransactionResponse } from "ethers";
import { CARRIER_A, CARRIER_C, PERIOD, ledgerFixture, type LedgerFixture } from "./helpers/fixture";

type Role =
  "admin" | "arbiter" | "regulator" | "outsider" | "nodeA" | "nodeC" | "officerB" | "officerC" | "treasuryA";

function signer(fx: LedgerFixture, role: Role): HardhatEthersSigner {
  switch (role) {
    case "admin":
      return fx.admin;
    case "arbiter":
      return fx.arbiter;
    case "regulator":
      return fx.regulator;
    case "outsider":
      return fx.outsider;
    case "nodeA":
      return fx.A.node;
    case "nodeC":
      return fx.C.node;
    case "officerB":
      return fx.B.officers[0]!;
    case "officerC":
      return fx.C.officers[0]!;
    case "treasuryA":
      return fx.A.treasury;
  }
}

interface Row {
  fn: string;
  refused: Role[];
  call: (fx: LedgerFixture, s: HardhatEthersSigner) => Promise<ContractTransactionResponse>;
  /** the contract whose ABI holds the error, the error and its arguments for caller `s` */
  error: (fx: LedgerFixture, s: HardhatEthersSigner) => [BaseContract, string, unknown[]];
}

const NOT_OFFICER_OF_A: Role[] = [
  "admin",
  "arbiter",
  "regulator",
  "outsider",
  "nodeA",
  "officerB",
  "officerC",
  "treasuryA",
];
const NOT_NODE: Role[] = [
  "admin",
  "arbiter",
  "regulator",
  "outsider",
  "nodeC",
  "officerB",
  "officerC",
  "treasuryA",
];
const NOT_ADMIN: Role[] = ["arbiter", "regulator", "outsider", "nodeA", "officerB", "officerC", "treasuryA"];

const notOfficer = (fx: LedgerFixture, s: HardhatEthersSigner): [BaseContract, string, unknown[]] => [
  fx.ledger,
  "LedgerNotOfficer",
  [CARRIER_A, s.address],
];
const notNode = (fx: LedgerFixture, s: HardhatEthersSigner): [BaseContract, string, unknown[]] => [
  fx.ledger,
  "LedgerNotPartyNode",
  [fx.agreementId, s.address],
];

const approval = (fx: LedgerFixture) => ({
  agreementId: fx.agreementId,
  period: PERIOD,
  carrierId: CARRIER_A,
  round: 0,
  partialSettlement: false,
  amountAB: 0n,
  amountBA: 0n,
  rootA: ethers.ZeroHash,
  rootB: ethers.ZeroHash,
  deadline: 2n ** 63n,
});

const TABLE: Row[] = [
  {
    fn: "SettlementLedger.commit",
    refused: NOT_NODE,
    call: (fx, s) => fx.ledger.connect(s).commit(fx.agreementId, PERIOD, ethers.id("c")),
    error: notNode,
  },
  {
    fn: "SettlementLedger.reveal",
    refused: NOT_NODE,
    call: (fx, s) =>
      fx.ledger.connect(s).reveal(fx.agreementId, PERIOD, ethers.id("r"), 1n, 1n, ethers.id("s")),
    error: notNode,
  },
  {
    fn: "SettlementLedger.openDispute",
    refused: NOT_OFFICER_OF_A,
    call: (fx, s) => fx.ledger.connect(s).openDispute(fx.agreementId, PERIOD, CARRIER_A, 1, ""),
    error: notOfficer,
  },
  {
    fn: "SettlementLedger.contestDefault",
    refused: NOT_OFFICER_OF_A,
    call: (fx, s) =>
      fx.ledger.connect(s).contestDefault(fx.agreementId, PERIOD, CARRIER_A, bareClaim(1n, 1n), 1, ""),
    error: notOfficer,
  },
  {
    fn: "SettlementLedger.proposeFigures",
    refused: NOT_OFFICER_OF_A,
    call: (fx, s) => fx.ledger.connect(s).proposeFigures(fx.agreementId, PERIOD, CARRIER_A, 1n, 1n, ""),
    error: notOfficer,
  },
  {
    fn: "SettlementLedger.acceptFigures",
    refused: NOT_OFFICER_OF_A,
    call: (fx, s) => fx.ledger.connect(s).acceptFigures(fx.agreementId, PERIOD, CARRIER_A, 0n, 0n),
    error: notOfficer,
  },
  {
    fn: "SettlementLedger.escalate",
    refused: NOT_OFFICER_OF_A,
    call: (fx, s) => fx.ledger.connect(s).escalate(fx.agreementId, PERIOD, CARRIER_A),
    error: notOfficer,
  },
  {
    fn: "SettlementLedger.withdrawDispute",
    refused: NOT_OFFICER_OF_A,
    call: (fx, s) => fx.ledger.connect(s).withdrawDispute(fx.agreementId, PERIOD, CARRIER_A),
    error: notOfficer,
  },
  {
    fn: "SettlementLedger.rule",
    refused: ["admin", "regulator", "outsider", "nodeA", "officerB", "officerC", "treasuryA"],
    call: (fx, s) => fx.ledger.connect(s).rule(fx.agreementId, PERIOD, 1n, 1n, ""),
    error: (fx, s) => [fx.ledger, "LedgerNotArbiter", [fx.agreementId, s.address]],
  },
  {
    fn: "SettlementLedger.approve",
    refused: NOT_OFFICER_OF_A,
    call: (fx, s) => fx.ledger.connect(s).approve(approval(fx)),
    error: notOfficer,
  },
  {
    fn: "SettlementLedger.withdraw",
    refused: NOT_OFFICER_OF_A,
    call: (fx, s) => fx.ledger.connect(s).withdraw(CARRIER_A, fx.tokenAddress, 1n),
    error: notOfficer,
  },
  {
    fn: "CarrierRegistry.registerCarrier",
    refused: NOT_ADMIN,
    call: (fx, s) => fx.registry.connect(s).registerCarrier(ethers.id("n"), s.address, [s.address], 1, []),
    error: (fx, s) => [fx.registry, "AccessControlUnauthorizedAccount", [s.address, ethers.ZeroHash]],
  },
  {
    fn: "CarrierRegistry.setToken",
    refused: NOT_ADMIN,
    call: (fx, s) => fx.registry.connect(s).setToken(s.address, true),
    error: (fx, s) => [fx.registry, "AccessControlUnauthorizedAccount", [s.address, ethers.ZeroHash]],
  },
  {
    fn: "CarrierRegistry.grantRole(ARBITER_ROLE)",
    refused: NOT_ADMIN,
    call: async (fx, s) => fx.registry.connect(s).grantRole(await fx.registry.ARBITER_ROLE(), s.address),
    error: (fx, s) => [fx.registry, "AccessControlUnauthorizedAccount", [s.address, ethers.ZeroHash]],
  },
  {
    fn: "AgreementBook.propose",
    refused: NOT_OFFICER_OF_A,
    call: (fx, s) => fx.book.connect(s).propose(ethers.ZeroHash, CARRIER_A, fx.terms, ""),
    error: (fx, s) => [fx.book, "BookNotOfficer", [CARRIER_A, s.address]],
  },
  {
    fn: "SettlementToken.mint",
    refused: NOT_ADMIN,
    call: (fx, s) => fx.token.connect(s).mint(s.address, 1n),
    error: (fx, s) => [fx.token, "AccessControlUnauthorizedAccount", [s.address, ethers.id("MINTER_ROLE")]],
  },
];

describe("Access control (function × unauthorised role)", function () {
  for (const row of TABLE) {
    describe(row.fn, function () {
      for (const role of row.refused) {
        it(`refuses ${role}`, async function () {
          const fx = await loadFixture(ledgerFixture);
          const s = signer(fx, role);
          const [contract, error, args] = row.error(fx, s);
          await expect(row.call(fx, s))
            .to.be.revertedWithCustomError(contract, error)
            .withArgs(...args);
        });
      }
    });
  }

  it("refuses an officer acting for a carrier that is not a party", async function () {
    const fx = await loadFixture(ledgerFixture);
    await expect(fx.ledger.connect(fx.C.officers[0]!).openDispute(fx.agreementId, PERIOD, CARRIER_C, 1, ""))
      .to.be.revertedWithCustomError(fx.ledger, "LedgerNotParty")
      .withArgs(fx.agreementId, CARRIER_C);
  });

  it("refuses an unknown proposal approval by a non-officer", async function () {
    const fx = await loadFixture(ledgerFixture);
    const tx = await fx.book.connect(fx.A.officers[0]!).propose(ethers.ZeroHash, CARRIER_A, fx.terms, "");
    const log = (await tx.wait())!.logs
      .map((l) => fx.book.interface.parseLog(l))
      .find((l) => l?.name === "AgreementProposed");
    for (const s of [fx.outsider, fx.admin, fx.B.officers[0]!]) {
      await expect(fx.book.connect(s).approveProposal(log!.args[1] as string, CARRIER_A))
        .to.be.revertedWithCustomError(fx.book, "BookNotOfficer")
        .withArgs(CARRIER_A, s.address);
    }
  });
});
