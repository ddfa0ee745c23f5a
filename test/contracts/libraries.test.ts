import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { periodEnd } from "../../scripts/lib/protocol";

async function harness() {
  const h = await (await ethers.getContractFactory("PeriodMathHarness")).deploy();
  return { h };
}

describe("Libraries", function () {
  describe("PeriodMath", function () {
    it("computes period ends, including December and leap Februaries", async function () {
      const { h } = await loadFixture(harness);
      for (const p of [197001, 202602, 202412, 202402, 210002, 240002, 999911]) {
        expect(await h.end(p)).to.equal(periodEnd(p), `end of ${p}`);
      }
      expect(await h.next(202612)).to.equal(202701);
      expect(await h.next(202610)).to.equal(202611);
      expect(await h.start(202610)).to.equal(Date.UTC(2026, 9, 1) / 1000);
    });

    it("validates YYYYMM", async function () {
      const { h } = await loadFixture(harness);
      for (const [p, ok] of [
        [202601, true],
        [202612, true],
        [202600, false],
        [202613, false],
        [196912, false],
        [1000001, false],
        [999912, true],
      ] as const) {
        expect(await h.isValid(p)).to.equal(ok, String(p));
      }
    });

    it("agrees with JavaScript's calendar on random periods and instants", async function () {
      const { h } = await loadFixture(harness);
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1970, max: 9998 }),
          fc.integer({ min: 1, max: 12 }),
          async (y, m) => {
            const p = y * 100 + m;
            expect(await h.end(p)).to.equal(BigInt(Date.UTC(y, m, 1) / 1000));
          },
        ),
        { numRuns: 60 },
      );
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 253_402_300_799 }), async (t) => {
          const d = new Date(t * 1000);
          expect(await h.periodOf(t)).to.equal(BigInt(d.getUTCFullYear() * 100 + d.getUTCMonth() + 1));
        }),
        { numRuns: 80 },
      );
    });
  });

  describe("Tolerance", function () {
    it("reconciles |a − b| ≤ max(bps × max / 10 000, absolute)", async function () {
      const { h } = await loadFixture(harness);
      expect(await h.within(1_000, 990, 100, 0)).to.equal(true);
      expect(await h.within(990, 1_000, 100, 0)).to.equal(true);
      expect(await h.within(1_000, 989, 100, 0)).to.equal(false);
      expect(await h.within(10, 15, 100, 5)).to.equal(true);
      expect(await h.within(10, 16, 100, 5)).to.equal(false);
      expect([await h.agreed(0, 10, 20), await h.agreed(1, 10, 20), await h.agreed(2, 10, 21)]).to.deep.equal(
        [20n, 10n, 15n],
      );
    });
  });
});
