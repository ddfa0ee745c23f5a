import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  CARRIER_A,
  CARRIER_B,
  PERIOD,
  Rule,
  UNIT,
  WINDOWS,
  activate,
  ledgerFixture,
  makeTerms,
} from "./helpers/fixture";
import { PeriodLifecycle, figures, proposedFigures } from "./helpers/lifecycle";
import {
  shouldBehaveLikeSettleablePeriod,
  shouldBindWithoutApprovals,
  type SettleableCase,
} from "./behaviours/settleable";

// toMismatched(): A claims (1000, 400), B claims (800, 500).
async function mismatchedAndDisputed() {
  const fx = await loadFixture(ledgerFixture);
  const lc = new PeriodLifecycle(fx, PERIOD);
  await lc.toMismatched();
  await lc.openDispute("A");
  return { fx, lc };
}

describe("SettlementLedger — every final state settles", function () {
  describe("Matched", function () {
    const reach = async (): Promise<SettleableCase> => {
      const lc = new PeriodLifecycle(await loadFixture(ledgerFixture), PERIOD);
      await lc.toMatched(700n * UNIT, 100n * UNIT);
      return { lc, state: "Matched", amountAB: 700n * UNIT, amountBA: 100n * UNIT };
    };
    shouldBehaveLikeSettleablePeriod(reach, false);
  });

  describe("Reconciled (mean rule)", function () {
    const reach = async (): Promise<SettleableCase> => {
      const fx = await loadFixture(ledgerFixture);
      const { agreementId } = await activate(fx, makeTerms({ ...fx.terms, rule: Rule.Mean }));
      const lc = new PeriodLifecycle(fx, PERIOD, agreementId);
      await lc.run(
        figures(1_000n * UNIT, 300n * UNIT, ethers.id("a")),
        figures(1_005n * UNIT, 301n * UNIT, ethers.id("b")),
      );
      return { lc, state: "Reconciled", amountAB: 1_002_500_000n, amountBA: 300_500_000n };
    };
    shouldBehaveLikeSettleablePeriod(reach, false);
  });

  describe("Uncontested (silence is consent)", function () {
    const reach = async (): Promise<SettleableCase> => {
      const lc = new PeriodLifecycle(await loadFixture(ledgerFixture), PERIOD);
      await lc.toDefaulted();
      await time.increase(WINDOWS.dispute);
      return { lc, state: "Uncontested", amountAB: 1_000n * UNIT, amountBA: 400n * UNIT };
    };
    shouldBehaveLikeSettleablePeriod(reach, true);
    shouldBindWithoutApprovals(reach);
  });

  describe("Resolved by accepted proposal", function () {
    const reach = async (): Promise<SettleableCase> => {
      const { fx, lc } = await mismatchedAndDisputed();
      await fx.ledger
        .connect(fx.B.officers[0]!)
        .proposeFigures(fx.agreementId, PERIOD, CARRIER_B, 900n * UNIT, 420n * UNIT, "");
      await fx.ledger
        .connect(fx.A.officers[0]!)
        .acceptFigures(
          fx.agreementId,
          PERIOD,
          CARRIER_A,
          ...(await proposedFigures(fx.ledger, fx.agreementId, PERIOD)),
        );
      return { lc, state: "Resolved", amountAB: 900n * UNIT, amountBA: 420n * UNIT };
    };
    shouldBehaveLikeSettleablePeriod(reach, true);
    shouldBindWithoutApprovals(reach);
  });

  describe("Resolved by ruling", function () {
    const reach = async (): Promise<SettleableCase> => {
      const { fx, lc } = await mismatchedAndDisputed();
      await time.increase(WINDOWS.response + 1);
      await fx.ledger.connect(fx.A.officers[0]!).escalate(fx.agreementId, PERIOD, CARRIER_A);
      await fx.ledger.connect(fx.arbiter).rule(fx.agreementId, PERIOD, 850n * UNIT, 500n * UNIT, "");
      return { lc, state: "Resolved", amountAB: 850n * UNIT, amountBA: 500n * UNIT };
    };
    shouldBehaveLikeSettleablePeriod(reach, true);
    shouldBindWithoutApprovals(reach);
  });

  describe("Resolved by withdrawal", function () {
    const reach = async (): Promise<SettleableCase> => {
      const { fx, lc } = await mismatchedAndDisputed();
      await fx.ledger.connect(fx.A.officers[1]!).withdrawDispute(fx.agreementId, PERIOD, CARRIER_A);
      return { lc, state: "Resolved", amountAB: 800n * UNIT, amountBA: 500n * UNIT };
    };
    shouldBehaveLikeSettleablePeriod(reach, true);
    shouldBindWithoutApprovals(reach);
  });

  describe("Resolved by lapsed arbitration (mean of the claims)", function () {
    const reach = async (): Promise<SettleableCase> => {
      const { fx, lc } = await mismatchedAndDisputed();
      await time.increase(WINDOWS.response + 1);
      await fx.ledger.connect(fx.B.officers[0]!).escalate(fx.agreementId, PERIOD, CARRIER_B);
      await time.increase(WINDOWS.arbitration + 1);
      return { lc, state: "Resolved", amountAB: 900n * UNIT, amountBA: 450n * UNIT };
    };
    shouldBehaveLikeSettleablePeriod(reach, true);
    shouldBindWithoutApprovals(reach);
  });
});
