import { expect } from "chai";
import { databaseTargets } from "../../../test/helpers/databases";
import type { MediatedCdr } from "../mediation/types";
import { callKey } from "../reconciliation/call-key";
import { callsOfLeaf } from "./calls";
import type { Database } from "./database";
import { prepareBatch, startFile, storeBatch, type RatedCdrRow } from "./ingest-store";

function rated(
  line: number,
  overrides: Partial<MediatedCdr>,
  destination = "UK",
  amount = 100n,
): RatedCdrRow {
  return {
    line,
    raw: "",
    cdr: {
      key: `icl:${line}`,
      partner: "GLOBEX",
      direction: "out",
      service: "voice",
      startMs: Date.UTC(2026, 9, 5, 12),
      duration: 60,
      volume: 0,
      aNumber: "12125550100",
      bNumber: "442079460000",
      disposition: "ANSWERED",
      ...overrides,
    },
    outcome: "rated",
    destination,
    prefix: "44",
    band: null,
    billed: 60,
    amount,
    deckId: null,
    tariffLine: 1,
    rejectMessage: null,
  };
}

for (const target of databaseTargets()) {
  describe(`reconciliation: calls behind a leaf on ${target.name}`, function () {
    this.timeout(60_000);
    let db: Database;
    before(async () => {
      db = await target.open();
    });
    after(async () => {
      await db.close();
      await target.cleanup();
    });

    it("lists exactly the rated CDRs of that partner, direction, service, destination and UTC day", async () => {
      const file = await startFile(db, { fileName: "f", contentHash: "h", format: "icl-csv", byteSize: 1 });
      const day = Math.floor(Date.UTC(2026, 9, 5) / 86_400_000);
      await storeBatch(
        db,
        prepareBatch(
          file.id,
          8,
          [
            rated(1, { startMs: Date.UTC(2026, 9, 5, 0, 0, 0) }), // first instant of the day: in
            rated(2, { startMs: Date.UTC(2026, 9, 5, 23, 59, 59, 999) }, "UK", 250n), // last: in
            rated(3, { startMs: Date.UTC(2026, 9, 6, 0, 0, 0) }), // next day: out
            rated(4, { direction: "in" }), // other direction
            rated(5, { partner: "INITECH" }), // other partner
            rated(6, {}, "DE"), // other destination
            { ...rated(7, {}), outcome: "unbilled" as const }, // not rated
            rated(8, { service: "sms" }), // other service
          ],
          [],
        ),
      );
      const calls = await callsOfLeaf(db, {
        partner: "GLOBEX",
        direction: "out",
        service: "voice",
        destination: "UK",
        day,
      });
      expect(calls.map((c) => [c.sourceKey, c.startMs, c.amount])).to.deep.equal([
        ["icl:1", Date.UTC(2026, 9, 5), 100n],
        ["icl:2", Date.UTC(2026, 9, 5, 23, 59, 59, 999), 250n],
      ]);
    });
  });
}

describe("reconciliation: call key", () => {
  const salt = "0x" + "ab".repeat(32);
  const call = {
    direction: "AB" as const,
    aNumber: "12125550100",
    bNumber: "442079460000",
    startMs: Date.UTC(2026, 9, 5, 12),
  };
  it("is the same for the same call seen by either side, to the second", () => {
    expect(callKey(salt, { ...call, startMs: call.startMs + 999 })).to.equal(callKey(salt, call));
  });
  it("differs with the second, either number, the direction or the salt", () => {
    const base = callKey(salt, call);
    expect(callKey(salt, { ...call, startMs: call.startMs + 1000 })).to.not.equal(base);
    expect(callKey(salt, { ...call, aNumber: "12125550101" })).to.not.equal(base);
    expect(callKey(salt, { ...call, bNumber: "442079460001" })).to.not.equal(base);
    expect(callKey(salt, { ...call, direction: "BA" })).to.not.equal(base);
    expect(callKey("0x" + "cd".repeat(32), call)).to.not.equal(base);
  });
});
