import { expect } from "chai";
import { AbiCoder, keccak256 } from "ethers";
import { prng } from "../../../scripts/lib/generate-cdrs";
import { databaseTargets } from "../../../test/helpers/databases";
import type { MediatedCdr } from "../mediation/types";
import { callKey } from "../reconciliation/call-key";
import { callsOfLeaf } from "./calls";
import type { Database } from "./database";
import { prepareBatch, startFile, storeBatch, type RatedCdrRow } from "./ingest-store";
import { mediatedCdr } from "../../../test/helpers/cdrs";

function rated(
  line: number,
  overrides: Partial<MediatedCdr>,
  destination = "UK",
  amount = 100n,
): RatedCdrRow {
  return {
    line,
    raw: "",
    cdr: mediatedCdr({
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
    }),
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
        period: 202610,
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
  it("is keccak256 of the ABI encoding PROTOCOL.md gives (checked against ethers' encoder)", () => {
    const coder = AbiCoder.defaultAbiCoder();
    const reference = (c: Omit<typeof call, "direction"> & { direction: string }, s: string) =>
      keccak256(
        coder.encode(
          ["string", "bytes32", "string", "string", "string", "uint64"],
          ["icl/call/v1", s, c.direction, c.aNumber, c.bNumber, Math.floor(c.startMs / 1000)],
        ),
      );
    const random = prng(5);
    for (let i = 0; i < 300; i++) {
      // Numbers of 1 to 40 digits cross the 32-byte word boundary; the start any second up to 2^41.
      const digits = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join("");
      const c = {
        direction: random() < 0.5 ? ("AB" as const) : ("BA" as const),
        aNumber: digits(Math.floor(random() * 41)),
        bNumber: digits(1 + Math.floor(random() * 40)),
        startMs: Math.floor(random() * 2 ** 41) * 1000 + Math.floor(random() * 1000),
      };
      const s =
        "0x" + Array.from({ length: 64 }, () => "0123456789abcdef"[Math.floor(random() * 16)]).join("");
      expect(callKey(s, c), JSON.stringify(c)).to.equal(reference(c, s));
    }
  });
  it("refuses what is not a salt or a digit string", () => {
    expect(() => callKey("0x1234", call)).to.throw(RangeError);
    expect(() => callKey(salt, { ...call, aNumber: "+12125550100" })).to.throw(RangeError);
    expect(() => callKey(salt, { ...call, bNumber: "4420é" })).to.throw(RangeError);
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
