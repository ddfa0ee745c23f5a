import { expect } from "chai";
import fc from "fast-check";
import { databaseTargets } from "../../../test/helpers/databases";
import type { Database } from "../db/database";
import { finishFile, prepareBatch, startFile, storeBatch, type RatedCdrRow } from "../db/ingest-store";
import { loadSummary, markSummaryCommitted } from "../db/summaries";
import { ConflictError } from "../errors";
import type { Direction, Service } from "../mediation/types";
import {
  buildSummary,
  buildUsageLeaves,
  storedSummaryTree,
  summarize,
  type SummaryRequest,
} from "./build-summary";
import { locateDifferences } from "./diff";
import { decodeLeafKey, periodSalt, utcDay } from "./encoding";
import { mediatedCdr } from "../../../test/helpers/cdrs";

const AGREEMENT = "0x" + "ab".repeat(32);
const SECRET = Buffer.from("a secret both carriers keep since onboarding");
const SALT = periodSalt(SECRET, AGREEMENT, 202610);

interface Traffic {
  key: string;
  partner: string;
  direction: Direction;
  service?: Service;
  start: string;
  destination?: string;
  billed?: number;
  amount?: bigint;
  outcome?: RatedCdrRow["outcome"];
}

let fileCounter = 0;

/** Stores CDRs the way ingest does (one file, one batch). */
async function store(db: Database, traffic: Traffic[]): Promise<void> {
  const file = await startFile(db, {
    fileName: "t.csv",
    contentHash: `hash-${process.pid}-${++fileCounter}`,
    format: "icl-csv",
    byteSize: 1,
  });
  const rows: RatedCdrRow[] = traffic.map((t, i) => ({
    line: i + 2,
    raw: `raw ${i}`,
    cdr: mediatedCdr({
      key: t.key,
      partner: t.partner,
      direction: t.direction,
      service: t.service ?? "voice",
      startMs: Date.parse(t.start),
      duration: t.billed ?? 60,
      volume: 0,
      aNumber: "12125550100",
      bNumber: "442079460000",
      disposition: "ANSWERED",
    }),
    outcome: t.outcome ?? "rated",
    destination: t.outcome === "rejected" ? null : (t.destination ?? "UK"),
    prefix: "44",
    band: null,
    billed: t.outcome === undefined || t.outcome === "rated" ? (t.billed ?? 60) : 0,
    amount: t.outcome === undefined || t.outcome === "rated" ? (t.amount ?? 1000n) : 0n,
    deckId: null,
    tariffLine: 2,
    rejectMessage: t.outcome === "rejected" ? "no rate" : null,
  }));
  await storeBatch(db, prepareBatch(file.id, rows.length + 1, rows, []));
  await finishFile(db, file.id);
}

const OCT_1 = utcDay(Date.parse("2026-10-01T00:00:00Z"));
const BIG = 9_007_199_254_740_993n;

/** Side A's view (partner GLOBEX): what the hand-computed leaves below are made of. */
const SIDE_A_TRAFFIC: Traffic[] = [
  {
    key: "a1",
    partner: "GLOBEX",
    direction: "out",
    start: "2026-10-01T00:00:00Z",
    billed: 60,
    amount: 1000n,
  },
  {
    key: "a2",
    partner: "GLOBEX",
    direction: "out",
    start: "2026-10-01T23:59:59.999Z",
    billed: 120,
    amount: 2000n,
  },
  { key: "a3", partner: "GLOBEX", direction: "out", start: "2026-10-02T00:00:00Z", billed: 30, amount: 500n },
  { key: "a4", partner: "GLOBEX", direction: "in", start: "2026-10-01T12:00:00Z", billed: 60, amount: 700n },
  {
    key: "a5",
    partner: "GLOBEX",
    direction: "out",
    service: "sms",
    start: "2026-10-31T23:59:59.999Z",
    billed: 3,
    amount: 45_000n,
  },
  {
    key: "a6",
    partner: "GLOBEX",
    direction: "in",
    service: "data",
    start: "2026-10-15T08:00:00+02:00",
    destination: "Fr\u0061\u0308nce",
    billed: 2_500_000,
    amount: BIG,
  },
];

/** Rows that must not count: unbilled, rejected, another partner, the months around. */
const NOISE: Traffic[] = [
  { key: "n1", partner: "GLOBEX", direction: "out", start: "2026-10-01T10:00:00Z", outcome: "unbilled" },
  { key: "n2", partner: "GLOBEX", direction: "out", start: "2026-10-01T10:00:00Z", outcome: "rejected" },
  { key: "n3", partner: "INITECH", direction: "out", start: "2026-10-01T10:00:00Z" },
  { key: "n4", partner: "GLOBEX", direction: "out", start: "2026-09-30T23:59:59.999Z" },
  { key: "n5", partner: "GLOBEX", direction: "out", start: "2026-11-01T00:00:00Z" },
];

/** The same traffic as side B records it: partner named ACME, directions reversed, another order. */
function asSideB(traffic: Traffic[]): Traffic[] {
  return traffic
    .map((t) => ({
      ...t,
      key: `b-${t.key}`,
      partner: t.partner === "GLOBEX" ? "ACME" : t.partner,
      direction: (t.direction === "out" ? "in" : "out") as Direction,
      // The same destination written in the other Unicode normal form.
      destination: t.destination?.normalize("NFD"),
    }))
    .reverse();
}

const REQUEST_A: SummaryRequest = { agreementId: AGREEMENT, period: 202610, partnerId: "GLOBEX", side: "A" };
const REQUEST_B: SummaryRequest = { agreementId: AGREEMENT, period: 202610, partnerId: "ACME", side: "B" };

for (const target of databaseTargets()) {
  describe(`summaries: builder on ${target.name}`, function () {
    this.timeout(60_000);
    const open: Database[] = [];
    const fresh = async () => {
      const db = await target.open();
      open.push(db);
      return db;
    };
    afterEach(async () => {
      for (const db of open.splice(0)) await db.close();
    });
    after(() => target.cleanup());

    it("aggregates rated CDRs by direction, service, destination and UTC day, as counted by hand", async () => {
      const db = await fresh();
      await store(db, [...SIDE_A_TRAFFIC, ...NOISE]);
      const leaves = await buildUsageLeaves(db, REQUEST_A);
      expect(leaves).to.deep.equal([
        {
          direction: "AB",
          service: "sms",
          destination: "UK",
          day: OCT_1 + 30,
          records: 1n,
          billed: 3n,
          amount: 45_000n,
        },
        {
          direction: "AB",
          service: "voice",
          destination: "UK",
          day: OCT_1,
          records: 2n,
          billed: 180n,
          amount: 3000n,
        },
        {
          direction: "AB",
          service: "voice",
          destination: "UK",
          day: OCT_1 + 1,
          records: 1n,
          billed: 30n,
          amount: 500n,
        },
        {
          direction: "BA",
          service: "data",
          destination: "Fr\u00e4nce",
          day: OCT_1 + 14,
          records: 1n,
          billed: 2_500_000n,
          amount: BIG,
        },
        {
          direction: "BA",
          service: "voice",
          destination: "UK",
          day: OCT_1,
          records: 1n,
          billed: 60n,
          amount: 700n,
        },
      ]);
      const summary = summarize(REQUEST_A, leaves, SALT);
      expect(summary.amountAB).to.equal(48_500n);
      expect(summary.amountBA).to.equal(700n + BIG);
      expect(summary.records).to.equal(6n);
    });

    it("gives both carriers the same leaves and root from the same traffic; a micro-unit or the salt changes it", async () => {
      const nodeA = await fresh();
      const nodeB = await fresh();
      await store(nodeA, [...SIDE_A_TRAFFIC, ...NOISE]);
      await store(nodeB, asSideB([...NOISE, ...SIDE_A_TRAFFIC]));
      const a = await buildSummary(nodeA, REQUEST_A, SALT);
      const b = await buildSummary(nodeB, REQUEST_B, SALT);
      expect(b.leaves).to.deep.equal(a.leaves);
      expect(b.root).to.equal(a.root);
      expect([b.amountAB, b.amountBA]).to.deep.equal([a.amountAB, a.amountBA]);

      const bumped = a.leaves.map((leaf, i) => (i === 2 ? { ...leaf, amount: leaf.amount + 1n } : leaf));
      expect(summarize(REQUEST_A, bumped, SALT).root).to.not.equal(a.root);
      const otherSalt = periodSalt(SECRET, AGREEMENT, 202611);
      expect(summarize(REQUEST_A, a.leaves, otherSalt).root).to.not.equal(a.root);

      await store(nodeB, [
        {
          key: "extra",
          partner: "ACME",
          direction: "in",
          start: "2026-10-02T05:00:00Z",
          amount: 1n,
          billed: 0,
        },
      ]);
      const changed = await buildSummary(nodeB, REQUEST_B, SALT);
      expect(changed.root).to.not.equal(a.root);
      expect(changed.amountAB).to.equal(a.amountAB + 1n);
      const { differences } = await locateDifferences(a.tree, {
        children: (path) => Promise.resolve(changed.tree.children(path)),
      });
      expect(differences.map((d) => decodeLeafKey(d.key))).to.deep.equal([
        { direction: "AB", service: "voice", destination: "UK", day: OCT_1 + 1 },
      ]);
    });

    it("matches a reference aggregation, and both sides agree, for random traffic", async () => {
      const nodeA = await fresh();
      const nodeB = await fresh();
      let run = 0;
      const trafficArb = fc.array(
        fc.record({
          direction: fc.constantFrom<Direction>("in", "out"),
          service: fc.constantFrom<Service>("voice", "sms", "data"),
          // Three days either side of the month, so some fall outside it.
          startMs: fc.integer({
            min: Date.parse("2026-09-28T00:00:00Z"),
            max: Date.parse("2026-11-03T00:00:00Z"),
          }),
          destination: fc.constantFrom("UK", "UK Mobile", "Fr\u00e4nce", "Fra\u0308nce", ""),
          billed: fc.integer({ min: 0, max: 10_000 }),
          amount: fc.bigInt({ min: 0n, max: 1n << 62n }),
          outcome: fc.constantFrom<RatedCdrRow["outcome"]>("rated", "rated", "rated", "unbilled", "rejected"),
        }),
        { maxLength: 40 },
      );
      await fc.assert(
        fc.asyncProperty(trafficArb, async (cdrs) => {
          run++;
          const traffic: Traffic[] = cdrs.map((c, i) => ({
            ...c,
            key: `r${run}-${i}`,
            partner: `P${run}`,
            start: new Date(c.startMs).toISOString(),
          }));
          await store(nodeA, traffic);
          await store(
            nodeB,
            asSideB(traffic).map((t) => ({ ...t, partner: `Q${run}` })),
          );
          const { startMs, endMs } = {
            startMs: Date.parse("2026-10-01T00:00:00Z"),
            endMs: Date.parse("2026-11-01T00:00:00Z"),
          };
          const reference = new Map<string, { records: bigint; billed: bigint; amount: bigint }>();
          for (const c of cdrs) {
            if (c.outcome !== "rated" || c.startMs < startMs || c.startMs >= endMs) continue;
            const id = [
              c.direction === "out" ? "AB" : "BA",
              c.service,
              c.destination.normalize("NFC"),
              utcDay(c.startMs),
            ].join("|");
            const sum = reference.get(id) ?? { records: 0n, billed: 0n, amount: 0n };
            reference.set(id, {
              records: sum.records + 1n,
              billed: sum.billed + BigInt(c.billed),
              amount: sum.amount + c.amount,
            });
          }
          const leavesA = await buildUsageLeaves(nodeA, { ...REQUEST_A, partnerId: `P${run}` });
          const leavesB = await buildUsageLeaves(nodeB, { ...REQUEST_B, partnerId: `Q${run}` });
          expect(leavesB).to.deep.equal(leavesA);
          expect(
            new Map(
              leavesA.map((l) => [
                [l.direction, l.service, l.destination, l.day].join("|"),
                { records: l.records, billed: l.billed, amount: l.amount },
              ]),
            ),
          ).to.deep.equal(reference);
          expect(summarize(REQUEST_B, leavesB, SALT).root).to.equal(summarize(REQUEST_A, leavesA, SALT).root);
        }),
        { numRuns: 15 },
      );
    });

    it("stores the summary, replaces it on rebuild, and refuses a rebuild once committed", async () => {
      const db = await fresh();
      expect(await loadSummary(db, AGREEMENT, 202610)).to.equal(null);
      await store(db, SIDE_A_TRAFFIC);
      const first = await buildSummary(db, REQUEST_A, SALT);
      const stored = await loadSummary(db, AGREEMENT.toUpperCase().replace("0X", "0x"), 202610);
      expect(stored).to.include({
        root: first.root,
        side: "A",
        partnerId: "GLOBEX",
        leafCount: 5,
        committedAt: null,
      });
      expect(stored!.leaves).to.deep.equal(first.leaves);
      expect([stored!.amountAB, stored!.amountBA]).to.deep.equal([first.amountAB, first.amountBA]);
      expect(storedSummaryTree(stored!, SALT).rootHex).to.equal(first.root);
      expect(() => storedSummaryTree(stored!, periodSalt(SECRET, AGREEMENT, 202611))).to.throw(
        /does not reproduce/,
      );

      await store(db, [{ key: "later", partner: "GLOBEX", direction: "out", start: "2026-10-20T10:00:00Z" }]);
      const second = await buildSummary(db, REQUEST_A, SALT);
      expect(second.root).to.not.equal(first.root);
      expect((await loadSummary(db, AGREEMENT, 202610))!.leaves).to.have.length(6);

      expect(await markSummaryCommitted(db, AGREEMENT, 202610, new Date("2026-11-02T00:00:00Z"))).to.equal(
        true,
      );
      await store(db, [
        { key: "too-late", partner: "GLOBEX", direction: "out", start: "2026-10-21T10:00:00Z" },
      ]);
      let caught: unknown;
      try {
        await buildSummary(db, REQUEST_A, SALT);
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(ConflictError);
      expect((caught as ConflictError).shortMessage).to.match(/was committed; it cannot be rebuilt/);
      const after = await loadSummary(db, AGREEMENT, 202610);
      expect(after).to.include({ root: second.root });
      expect(after!.committedAt!.toISOString()).to.equal("2026-11-02T00:00:00.000Z");
    });

    it("refuses a malformed request", async () => {
      const db = await fresh();
      for (const bad of [
        { ...REQUEST_A, agreementId: "0x1234" },
        { ...REQUEST_A, period: 202613 },
        { ...REQUEST_A, side: "C" as "A" },
      ]) {
        let caught: unknown;
        try {
          await buildSummary(db, bad, SALT);
        } catch (error) {
          caught = error;
        }
        expect(caught).to.have.property("code", "INVALID_INPUT");
      }
    });
  });
}
