import { expect } from "chai";
import { AbiCoder, keccak256 } from "ethers";
import { prng } from "../../../scripts/lib/generate-cdrs";
import { databaseTargets } from "../../../test/helpers/databases";
import type { MediatedCdr } from "../mediation/types";
import { callKey, callKeyer } from "../reconciliation/call-key";
import { callsBehindLeaves } from "../reconciliation/leaf-calls";
import { encodeLeafKey, periodSalt } from "../summaries/encoding";
import { addAgreement, listAgreementsWithSecrets } from "./agreements";
import { callFiguresOfLeaves, callsOfLeaf, callsOfLeaves } from "./calls";
import type { Database } from "./database";
import { prepareBatch, startFile, storeBatch, type RatedCdrRow } from "./ingest-store";
import { addPartner } from "./partners";
import { applyRerating, attemptsPage } from "./rerate-store";
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
        agreementId: "0x" + "01".repeat(32),
        direction: "out",
        service: "voice",
        destination: "UK",
        day,
        period: 202610,
      });
      expect(calls.map((c) => [c.sourceKey, c.startMs, c.amount, c.callKey])).to.deep.equal([
        ["icl:1", Date.UTC(2026, 9, 5), 100n, null],
        ["icl:2", Date.UTC(2026, 9, 5, 23, 59, 59, 999), 250n, null],
      ]);
    });

    describe("call keys stored at ingest", () => {
      const agreementId = "0x" + "a1".repeat(32);
      const secret = new Uint8Array(32).fill(7);
      const october = 202610;
      const day = Math.floor(Date.UTC(2026, 9, 5) / 86_400_000);
      const leafOf = (direction: "AB" | "BA") =>
        encodeLeafKey({ direction, service: "voice", destination: "UK", day });
      const computed = (period: number, row: RatedCdrRow, direction: "AB" | "BA" = "AB") =>
        callKey("0x" + periodSalt(secret, agreementId, period).toString("hex"), {
          direction,
          aNumber: row.cdr.aNumber,
          bNumber: row.cdr.bNumber,
          startMs: row.cdr.startMs,
        });
      const hooli = (line: number, overrides: Partial<MediatedCdr> = {}) =>
        rated(line, { key: `hooli:${line}`, partner: "HOOLI", ...overrides });
      let file: number;
      const ingest = async (rows: RatedCdrRow[], keyed = true) => {
        const keyer = keyed ? callKeyer(await listAgreementsWithSecrets(db)) : null;
        await storeBatch(db, prepareBatch(file, rows.at(-1)!.line, rows, [], { keyer }));
      };
      const leaf = { direction: "out" as const, service: "voice", destination: "UK", day };
      const of = { partner: "HOOLI", agreementId };

      before(async () => {
        await addPartner(db, { id: "HOOLI", name: "Hooli", matchRules: [] });
        await addAgreement(db, { agreementId, name: "GLOBEX-HOOLI", partnerId: "HOOLI", side: "A", secret });
        file = (await startFile(db, { fileName: "k", contentHash: "k", format: "icl-csv", byteSize: 1 })).id;
      });

      it("are the keys the comparison computes, in either direction, and spare the numbers on the wire", async () => {
        const rows = [
          hooli(101, { startMs: Date.UTC(2026, 9, 5, 8, 0, 0, 400) }),
          hooli(102, { startMs: Date.UTC(2026, 9, 5, 9), bNumber: "442079460002" }),
          hooli(103, { direction: "in", aNumber: "442079460003", bNumber: "12125550103" }),
        ];
        await ingest(rows);
        const [out, into] = await callsOfLeaves(db, of, october, [leaf, { ...leaf, direction: "in" }]);
        expect(out!.map((c) => c.callKey)).to.deep.equal([
          computed(october, rows[0]!),
          computed(october, rows[1]!),
        ]);
        expect(into!.map((c) => c.callKey)).to.deep.equal([computed(october, rows[2]!, "BA")]);
        const [figures] = await callFiguresOfLeaves(db, of, october, [leaf]);
        expect(figures!.map((c) => [c.callKey, c.aNumber, c.startMs, c.amount])).to.deep.equal([
          [computed(october, rows[0]!), null, null, 100n],
          [computed(october, rows[1]!), null, null, 100n],
        ]);
      });

      it("are computed at comparison where none was stored, the same as stored ones", async () => {
        const unkeyed = hooli(104, { startMs: Date.UTC(2026, 9, 5, 10) });
        await ingest([unkeyed], false);
        const [stored] = await callsOfLeaves(db, of, october, [leaf]);
        expect(stored!.find((c) => c.sourceKey === "hooli:104")!.callKey).to.equal(null);
        const [calls] = await callsBehindLeaves(
          db,
          { ...of, partnerId: "HOOLI", side: "A" },
          october,
          "0x" + periodSalt(secret, agreementId, october).toString("hex"),
          [leafOf("AB")],
        );
        expect(calls!.find((c) => c.cdrId === "hooli:104")!.callKey).to.equal(computed(october, unkeyed));
        expect(calls!.find((c) => c.cdrId === "hooli:101")!.callKey).to.equal(
          stored!.find((c) => c.sourceKey === "hooli:101")!.callKey,
        );
      });

      it("stay correct when a CDR is re-rated", async () => {
        const [attempt] = (await attemptsPage(db, { partner: "HOOLI" }, "hooli:101", 1)).filter(
          (a) => a.sourceKey === "hooli:102",
        );
        await applyRerating(db, [
          { before: attempt!, after: { ...attempt!, amount: 999n, rejectMessage: null } },
        ]);
        const [calls] = await callsOfLeaves(db, of, october, [leaf]);
        const call = calls!.find((c) => c.sourceKey === "hooli:102")!;
        expect([call.amount, call.callKey]).to.deep.equal([
          999n,
          computed(october, hooli(102, { startMs: Date.UTC(2026, 9, 5, 9), bNumber: "442079460002" })),
        ]);
      });

      it("of a late CDR are under the salt of the period that counts it", async () => {
        await db.query(
          `INSERT INTO summaries (agreement_id, period, partner_id, side, root, leaf_count, records, amount_ab,
                                  amount_ba, encoding, committed_at)
           VALUES ($1, $2, 'HOOLI', 'A', $3, 0, 0, 0, 0, 1, now())`,
          [agreementId, october, "0x" + "00".repeat(32)],
        );
        const late = hooli(105, { startMs: Date.UTC(2026, 9, 5, 11) });
        await ingest([late]);
        const [november] = await callsOfLeaves(db, of, 202611, [leaf]);
        expect(november!.map((c) => [c.sourceKey, c.callKey])).to.deep.equal([
          ["hooli:105", computed(202611, late)],
        ]);
        expect(computed(202611, late)).to.not.equal(computed(october, late));
      });

      it("are not used once the partner has a second agreement (the call's agreement is then unknown)", async () => {
        await addAgreement(db, {
          agreementId: "0x" + "a2".repeat(32),
          name: "GLOBEX-HOOLI-2",
          partnerId: "HOOLI",
          side: "B",
          secret: new Uint8Array(32).fill(9),
        });
        const [calls] = await callsOfLeaves(db, of, october, [leaf]);
        expect(calls!.length).to.be.greaterThan(0);
        expect(calls!.every((c) => c.callKey === null)).to.equal(true);
      });
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
