/**
 * Asterisk 12+ writes one CDR per dial attempt (cdr_csv, 21 columns). A failover — CONGESTION on one
 * trunk, then ANSWERED on the next — gives rows that share uniqueid and linkedid and differ only in
 * sequence; each is an attempt of its own and only the answered leg bills. The fixture
 * node/samples/Master-asterisk12.csv is written as cdr_csv writes it: text fields quoted, duration,
 * billsec and sequence bare, an empty answer for unanswered attempts, local time (London, BST here).
 */
import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { addPartner } from "../db/partners";
import { cdrStats } from "../db/stats";
import { importDeck } from "../db/tariffs";
import { ingestFile } from "../ingest/ingest-file";
import { loadTariffDeck } from "../rating/tariff-deck";
import { databaseTargets } from "../../../test/helpers/databases";
import { collect, options } from "../../../test/helpers/mediation";
import type { MatchRule, MediatedCdr } from "./types";

const FILE = path.join(__dirname, "..", "..", "samples", "Master-asterisk12.csv");
const RULES: MatchRule[] = [
  { partner: "GLOBEX", direction: "out", field: "trunk", pattern: "^globex$" },
  { partner: "INITECH", direction: "out", field: "trunk", pattern: "^initech$" },
  { partner: "GLOBEX", direction: "in", field: "trunk", pattern: "^globex$" },
];
const OPTS = options(
  {
    timeZone: "Europe/London",
    numbering: { countryCode: "44", nationalPrefix: "0", internationalPrefix: "00" },
  },
  RULES,
);
/** 12:00 in London on 7 October 2026 (BST) is 11:00 UTC. */
const at = (h: number, m: number, s: number) => Date.UTC(2026, 9, 7, h - 1, m, s);

function attempt(over: Partial<MediatedCdr>): MediatedCdr {
  return {
    key: "",
    partner: "GLOBEX",
    direction: "out",
    service: "voice",
    startMs: 0,
    setupMs: 0,
    answerMs: null,
    endMs: null,
    duration: 0,
    totalSeconds: 0,
    volume: 0,
    aNumber: "2125550100",
    bNumber: "442079460000",
    disposition: "NO_ANSWER",
    trunk: "globex",
    sipCode: null,
    q850Cause: null,
    pddMs: null,
    warnings: null,
    ...over,
  };
}

describe("mediation/asterisk 12+ (one CDR per dial attempt)", () => {
  it("reads every failover attempt as its own record, keyed by uniqueid and sequence", async () => {
    const rows = await collect(fs.readFileSync(FILE), "asterisk", OPTS);
    expect(rows.map((r) => (r.kind === "cdr" ? r.cdr : `${r.reason} ${r.message}`))).to.deep.equal([
      attempt({
        key: "ast:1791374400.16:41",
        partner: "INITECH",
        trunk: "initech",
        disposition: "CONGESTION",
        startMs: at(12, 0, 0),
        setupMs: at(12, 0, 0),
        endMs: at(12, 0, 1),
        totalSeconds: 1,
      }),
      attempt({
        key: "ast:1791374400.16:42",
        disposition: "ANSWERED",
        startMs: at(12, 0, 9),
        setupMs: at(12, 0, 1),
        answerMs: at(12, 0, 9),
        endMs: at(12, 2, 9),
        duration: 120,
        totalSeconds: 128,
      }),
      attempt({
        key: "ast:1791374700.19:43",
        aNumber: "2125550101",
        bNumber: "447700900123",
        startMs: at(12, 5, 0),
        setupMs: at(12, 5, 0),
        endMs: at(12, 5, 30),
        totalSeconds: 30,
      }),
      attempt({
        key: "ast:1791374760.21:44",
        aNumber: "2125550102",
        bNumber: "447700900124",
        disposition: "BUSY",
        startMs: at(12, 6, 0),
        setupMs: at(12, 6, 0),
        endMs: at(12, 6, 4),
        totalSeconds: 4,
      }),
      attempt({
        key: "ast:1791374820.23:45",
        partner: "INITECH",
        trunk: "initech",
        aNumber: "2125550103",
        bNumber: "4930123456",
        disposition: "FAILED",
        startMs: at(12, 7, 0),
        setupMs: at(12, 7, 0),
        endMs: at(12, 7, 2),
        totalSeconds: 2,
      }),
      attempt({
        key: "ast:1791374820.23:46",
        aNumber: "2125550103",
        bNumber: "4930123456",
        disposition: "CONGESTION",
        startMs: at(12, 7, 2),
        setupMs: at(12, 7, 2),
        endMs: at(12, 7, 3),
        totalSeconds: 1,
      }),
      attempt({
        key: "ast:1791375000.26:47",
        direction: "in",
        aNumber: "4930999888",
        bNumber: "2125550104",
        disposition: "ANSWERED",
        startMs: at(12, 10, 3),
        setupMs: at(12, 10, 0),
        answerMs: at(12, 10, 3),
        endMs: at(12, 11, 3),
        duration: 60,
        totalSeconds: 63,
      }),
    ]);
  });

  for (const target of databaseTargets()) {
    it(`stores every attempt on ${target.name}: the answered failover leg is rated, not a duplicate`, async () => {
      const db = await target.open();
      try {
        const deck = loadTariffDeck(
          "prefix,destination,rate,first_increment,next_increment\n44,UK,0.0100,60,60\n49,Germany,0.0200,60,60\n2,Zone 2,0.0300,1,1\n",
          "deck.csv",
        );
        for (const id of ["GLOBEX", "INITECH"]) {
          await addPartner(db, { id, name: id, matchRules: RULES.filter((r) => r.partner === id) });
          for (const direction of ["in", "out"] as const)
            await importDeck(db, {
              partner: id,
              direction,
              name: id,
              currency: "USD",
              contentHash: "h",
              rows: deck,
            });
        }
        const result = await ingestFile(db, FILE, "asterisk", {
          mediation: { timeZone: "Europe/London", useGmtTime: false, numbering: OPTS.numbering },
          now: () => Date.UTC(2026, 9, 31),
        });
        expect(result.file).to.deep.include({ records: 7n, rated: 2n, unbilled: 5n, rejected: 0n });
        const stats = await cdrStats(db);
        expect(
          stats.byPartner.map((r) => [r.partner, r.direction, r.destination, r.records, r.amount]),
        ).to.deep.equal([
          ["GLOBEX", "in", "Zone 2", 1n, 30_000n],
          ["GLOBEX", "out", "UK", 1n, 20_000n],
        ]);
        const { rows } = await db.query<{
          source_key: string;
          disposition: string;
          destination: string | null;
          trunk: string;
        }>(
          "SELECT source_key, disposition, destination, trunk FROM cdrs WHERE outcome = 'unbilled' ORDER BY source_key",
        );
        // Unanswered attempts keep their destination (for QoS) and their trunk.
        expect(rows.map((r) => [r.disposition, r.destination, r.trunk])).to.deep.equal([
          ["CONGESTION", "UK", "initech"],
          ["NO_ANSWER", "UK", "globex"],
          ["BUSY", "UK", "globex"],
          ["FAILED", "Germany", "initech"],
          ["CONGESTION", "Germany", "globex"],
        ]);
      } finally {
        await db.close();
        await target.cleanup();
      }
    });
  }
});
