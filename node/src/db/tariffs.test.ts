import { expect } from "chai";
import { databaseTargets } from "../../../test/helpers/databases";
import type { MediatedCdr } from "../mediation/types";
import { Rater } from "../rating/rater";
import { loadTariffDeck } from "../rating/tariff-deck";
import type { Database } from "./database";
import { addPartner } from "./partners";
import { importDeck, loadActiveDecks } from "./tariffs";

const DECK = [
  "service,prefix,destination,rate,connect_fee,first_increment,next_increment,interval_start,time_band,days,time_from,time_to,timezone",
  "voice,44,UK,0.10,0,1,1,60,,,,,",
  "voice,44,UK,0.20,0.01,60,60,0,,,,,",
  "voice,44,UK,0.06,0,30,30,600,,,,,",
  "voice,49,DE Peak,0.30,0,60,60,0,peak,mon-fri,08:00,18:00,Europe/Berlin",
  "voice,49,DE Peak,0.15,0,1,1,120,peak,mon-fri,08:00,18:00,Europe/Berlin",
  "voice,49,DE,0.05,0,1,1,,,,,,",
  "sms,44,UK SMS,0.015,,,,,,,,,",
].join("\n");

function call(bNumber: string, duration: number, iso = "2026-10-05T09:00:00Z"): MediatedCdr {
  const startMs = Date.parse(iso);
  return {
    key: `icl:${bNumber}:${duration}`,
    partner: "GLOBEX",
    direction: "out",
    service: "voice",
    startMs,
    setupMs: startMs,
    answerMs: duration > 0 ? startMs : null,
    endMs: null,
    duration,
    totalSeconds: null,
    volume: 0,
    aNumber: "12125550100",
    bNumber,
    disposition: duration > 0 ? "ANSWERED" : "NO_ANSWER",
    trunk: null,
    sipCode: null,
    q850Cause: null,
    pddMs: null,
    warnings: null,
  };
}

for (const target of databaseTargets()) {
  describe(`tariff decks on ${target.name}`, function () {
    this.timeout(60_000);
    let db: Database;
    beforeEach(async () => {
      db = await target.open();
    });
    afterEach(async () => {
      await db.close();
    });
    after(() => target.cleanup());

    it("stores interval_start, and a stored deck rates exactly as the file does", async () => {
      await addPartner(db, { id: "GLOBEX", name: "Globex", matchRules: [] });
      const rows = loadTariffDeck(DECK, "deck.csv");
      await importDeck(db, {
        partner: "GLOBEX",
        direction: "out",
        name: "intervals",
        currency: "EUR",
        contentHash: "x",
        rows,
      });
      const stored = (await loadActiveDecks(db)).get("GLOBEX|out")!.rows;
      expect(stored.map((r) => [r.line, r.intervalStart])).to.deep.equal([
        [2, 60],
        [3, 0],
        [4, 600],
        [5, 0],
        [6, 120],
        [7, 0],
        [8, 0],
      ]);
      expect(stored).to.deep.equal(rows);
      const fromFile = new Rater(rows);
      const fromDb = new Rater(stored);
      const cdrs = [
        call("442079460000", 61),
        call("442079460000", 601),
        call("442079460000", 0),
        call("4930123456", 150),
        call("4930123456", 150, "2026-10-10T09:00:00Z"),
      ];
      for (const cdr of cdrs) expect(fromDb.rate(cdr)).to.deep.equal(fromFile.rate(cdr));
      expect(fromDb.rate(cdrs[0]!)).to.deep.include({ billed: 61, amount: 211_667n, tariffLine: 3 });
      // Peak Monday 11:00 Berlin: 120 s at 0.30 + 30 s at 0.15 = 0.60 + 0.075
      expect(fromDb.rate(cdrs[3]!)).to.deep.include({ billed: 150, amount: 675_000n, band: "peak" });
    });
  });
}
