/**
 * Golden tests of the Kamailio formats against node/samples/kamailio-acc.csv and kamailio-cdrs.csv,
 * written as `psql \copy (…) TO … CSV HEADER` writes Kamailio 5.x's acc tables (acc-create.sql's
 * columns, then the db_extra / cdr_extra columns src_user=$fU, dst_ouser=$tU, src_ip=$si,
 * dst_ip=$dd and, for acc_cdrs, callid=$ci), with `time` as the server's local wall time: here
 * Europe/London in October, UTC+1. The acc file ends with a missed_calls row: the busy attempt of
 * line 3, which acc's failed_transaction_flag also wrote.
 */
import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { InputError } from "../errors";
import { MAX_CALL_HOLD_MS } from "./formats/kamailio-acc";
import { formatById } from "./formats/registry";
import { collect, options } from "../../../test/helpers/mediation";
import type { MatchRule, MediatedCdr, ParsedRow } from "./types";

const SAMPLES = path.join(__dirname, "..", "..", "samples");
const ACC = fs.readFileSync(path.join(SAMPLES, "kamailio-acc.csv"), "utf8");
const CDRS = fs.readFileSync(path.join(SAMPLES, "kamailio-cdrs.csv"), "utf8");
const RULES: MatchRule[] = [
  { partner: "GLOBEX", direction: "out", field: "trunk", pattern: "^192\\.0\\.2\\." },
  { partner: "INITECH", direction: "in", field: "trunk", pattern: "^198\\.51\\.100\\.7$" },
];
const OPTS = options({ fileName: "acc.csv" }, RULES);
/** Local 2026-10-02 11:00:00 in London is 10:00:00Z. */
const at = (minute: number, second: number, ms = 0): number => Date.UTC(2026, 9, 2, 10, minute, second, ms);

function call(over: Partial<MediatedCdr>): MediatedCdr {
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
    totalSeconds: null,
    volume: 0,
    aNumber: "",
    bNumber: "",
    disposition: "ANSWERED",
    trunk: "192.0.2.10",
    sipCode: null,
    q850Cause: null,
    pddMs: null,
    warnings: null,
    ...over,
  };
}

/** Each line's outcome: the CDR, or the reject's reason and field. */
function outcomes(rows: ParsedRow[]): Map<number, MediatedCdr | string> {
  const byLine = new Map<number, MediatedCdr | string>();
  for (const row of rows) {
    expect(byLine.has(row.line), `line ${row.line} emitted twice`).to.equal(false);
    byLine.set(row.line, row.kind === "cdr" ? row.cdr : `${row.reason}${row.field ? `:${row.field}` : ""}`);
  }
  return byLine;
}

describe("mediation/kamailio-acc", () => {
  it("is in the registry with a header row, local times and pairing", () => {
    const format = formatById("kamailio-acc");
    expect(format.headerRows).to.equal(1);
    expect(format.times).to.equal("local");
    expect(format.pairs?.(OPTS)).to.equal(true);
    expect(format.looksLike(ACC.split("\n").slice(0, 5))).to.equal(true);
    expect(formatById("kamailio-cdrs").looksLike(ACC.split("\n").slice(0, 5))).to.equal(false);
  });

  it("pairs each answered INVITE with its BYE and makes every other row an attempt or a named reject", async () => {
    const rows = await collect(ACC, "kamailio-acc", OPTS);
    const got = outcomes(rows);
    const want = new Map<number, MediatedCdr | string>([
      // INVITE 200 at 11:00:05 local, BYE (from the callee, tags swapped) at 11:02:10: 125 s.
      [
        2,
        call({
          key: "kam:8f2c1a90-0001@10.0.0.5:as1f0a9c01:b7e0c2d901",
          startMs: at(0, 5),
          setupMs: at(0, 5),
          answerMs: at(0, 5),
          endMs: at(2, 10),
          duration: 125,
          aNumber: "442079460001",
          bNumber: "4930123456",
          sipCode: 200,
        }),
      ],
      [
        3,
        call({
          key: "kam:8f2c1a90-0002@10.0.0.5:as1f0a9c02:5ec5fa0502:486",
          startMs: at(0, 10),
          setupMs: at(0, 10),
          endMs: at(0, 10),
          aNumber: "442079460002",
          bNumber: "447700900123",
          disposition: "BUSY",
          sipCode: 486,
        }),
      ],
      // In from INITECH (src_ip), a re-INVITE on line 7 inside it, BYE at 11:03:30: 150 s.
      [
        4,
        call({
          key: "kam:c0ffee03@198.51.100.7:fe20c7aa03:as1f0a9c03",
          partner: "INITECH",
          direction: "in",
          trunk: "198.51.100.7",
          startMs: at(1, 0),
          setupMs: at(1, 0),
          answerMs: at(1, 0),
          endMs: at(3, 30),
          duration: 150,
          aNumber: "33142685300",
          bNumber: "442079460100",
          sipCode: 200,
        }),
      ],
      [5, "OTHER_LEG"], // the BYE of line 2
      [6, "OTHER_LEG"], // a 183 early-media report
      [7, "OTHER_LEG"], // the re-INVITE
      [8, "OTHER_LEG"], // the BYE of line 4
      [
        9,
        call({
          key: "kam:8f2c1a90-0008@10.0.0.5:as1f0a9c08:MESSAGE",
          service: "sms",
          volume: 1,
          startMs: at(4, 0),
          setupMs: at(4, 0),
          aNumber: "442079460008",
          bNumber: "4917612345678",
          sipCode: 202,
        }),
      ],
      [10, "INVALID:method"], // REGISTER
      [
        11,
        call({
          key: "kam:8f2c1a90-0010@10.0.0.5:as1f0a9c10:5ec5fa0510:487",
          startMs: at(4, 30),
          setupMs: at(4, 30),
          endMs: at(4, 30),
          aNumber: "442079460010",
          bNumber: "4930123410",
          disposition: "CANCEL",
          sipCode: 487,
        }),
      ],
      [12, "INVALID:callid"], // a BYE with no INVITE before it
      // PostgreSQL's fractions: 11:05:00.250 → 11:07:01.750 is 121.5 s, billed 121.
      [
        13,
        call({
          key: "kam:8f2c1a90-0012@10.0.0.5:as1f0a9c12:b7e0c2d912",
          startMs: at(5, 0, 250),
          setupMs: at(5, 0, 250),
          answerMs: at(5, 0, 250),
          endMs: at(7, 1, 750),
          duration: 121,
          aNumber: "442079460012",
          bNumber: "4930123412",
          sipCode: 200,
        }),
      ],
      [
        14,
        call({
          key: "kam:8f2c1a90-0013@10.0.0.5:as1f0a9c13:5ec5fa0513:503",
          trunk: "192.0.2.11",
          startMs: at(5, 10),
          setupMs: at(5, 10),
          endMs: at(5, 10),
          aNumber: "442079460013",
          bNumber: "4930123413",
          disposition: "CONGESTION",
          sipCode: 503,
        }),
      ],
      [15, "INVALID:callid"], // answered, never a BYE: the file ended
      [16, "INVALID:dst_ouser"],
      [17, "OTHER_LEG"], // the BYE of the rejected line 16
      [18, "OTHER_LEG"], // the BYE of line 13
      // The missed_calls copy of line 3: the same key, so the store counts it a DUPLICATE.
      [
        19,
        call({
          key: "kam:8f2c1a90-0002@10.0.0.5:as1f0a9c02:5ec5fa0502:486",
          startMs: at(0, 10),
          setupMs: at(0, 10),
          endMs: at(0, 10),
          aNumber: "442079460002",
          bNumber: "447700900123",
          disposition: "BUSY",
          sipCode: 486,
        }),
      ],
    ]);
    expect([...got.keys()].sort((a, b) => a - b)).to.deep.equal([...want.keys()]);
    for (const [line, outcome] of want) expect(got.get(line), `line ${line}`).to.deep.equal(outcome);
    const messages = rows.flatMap((row) => (row.kind === "reject" ? [`${row.line}: ${row.message}`] : []));
    expect(messages).to.include.members([
      "5: the BYE of the call answered on line 2 (call-id 8f2c1a90-0001@10.0.0.5)",
      "7: a re-INVITE within the call answered on line 4 (call-id c0ffee03@198.51.100.7)",
      "17: the BYE of the call on line 16, which was rejected (call-id 8f2c1a90-0015@10.0.0.5)",
      "15: the call answered at 2026-10-02T10:06:00.000Z has no BYE by the end of the input: its length is unknown, so it is not billed",
    ]);
  });

  it("holds an answered INVITE until its BYE, whatever the batch size, and says which line it holds", async () => {
    for (const batch of [1, 2, 7]) {
      const rows = await collect(ACC, "kamailio-acc", OPTS, batch);
      expect(rows, `batch ${batch}`).to.have.length(18);
    }
    const handler = formatById("kamailio-acc").create(OPTS);
    const lines = ACC.trimEnd().split("\n");
    const out: ParsedRow[] = [];
    lines.slice(0, 3).forEach((line, i) => {
      const fields = line.split(",");
      handler.record({ fields, count: fields.length, line: i + 1, raw: () => line, text: () => line }, out);
    });
    expect(handler.lowestHeldLine?.()).to.equal(2); // the INVITE of line 2 waits for its BYE
    expect(out.map((row) => row.line)).to.deep.equal([3]);
  });

  it("gives up on a call whose BYE has not come within the hold window of the newest row", async () => {
    const header = ACC.split("\n")[0]!;
    const later = new Date(Date.UTC(2026, 9, 2, 10) + MAX_CALL_HOLD_MS + 2 * 3_600_000)
      .toISOString()
      .slice(0, 19)
      .replace("T", " ");
    const text = [
      header,
      "1,INVITE,a1,b1,c1@x,200,OK,2026-10-02 11:00:00,442079460001,004930123456,10.0.0.5,192.0.2.10",
      `2,INVITE,a2,b2,c2@x,486,Busy,${later},442079460002,004930123456,10.0.0.5,192.0.2.10`,
      `3,BYE,a1,b1,c1@x,200,OK,${later},442079460001,004930123456,10.0.0.5,192.0.2.10`,
    ].join("\n");
    const got = outcomes(await collect(text, "kamailio-acc", OPTS));
    expect(
      Object.fromEntries([...got].map(([line, o]) => [line, typeof o === "string" ? o : o.disposition])),
    ).to.deep.equal({
      2: "INVALID:callid",
      3: "BUSY",
      4: "INVALID:callid",
    });
  });

  it("reads acc time_mode 1 (time_attr seconds, time_exten microseconds) as UTC", async () => {
    const text = [
      "method,from_tag,to_tag,callid,sip_code,time,time_attr,time_exten,src_user,dst_ouser,dst_ip",
      "INVITE,a,b,c@x,200,2026-10-02 11:00:00,1790935200,250000,442079460001,004930123456,192.0.2.10",
      "BYE,a,b,c@x,200,2026-10-02 11:01:00,1790935260,900000,442079460001,004930123456,192.0.2.10",
    ].join("\n");
    const [row] = await collect(text, "kamailio-acc", OPTS);
    expect(row?.kind === "cdr" && [row.cdr.answerMs, row.cdr.endMs, row.cdr.duration]).to.deep.equal([
      1_790_935_200_250, 1_790_935_260_900, 60,
    ]);
  });

  it("rejects every row of a file whose header lacks acc's columns, naming them", async () => {
    const rows = await collect("id,callid,time\n1,c@x,2026-10-02 11:00:00\n", "kamailio-acc", OPTS);
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ kind: "reject", reason: "INVALID", field: "method" });
    expect(rows[0]!.kind === "reject" && rows[0]!.message).to.match(
      /lacks the columns method, from_tag, to_tag, sip_code, dst_ouser or dst_user/,
    );
  });

  it("refuses an invalid match-rule pattern before reading", () => {
    const bad = options({}, [{ partner: "GLOBEX", direction: "out", field: "dst_ip", pattern: "(" }]);
    expect(() => formatById("kamailio-acc").create(bad)).to.throw(InputError, /invalid pattern/);
  });
});

describe("mediation/kamailio-cdrs", () => {
  it("reads acc_cdrs rows: answered with whole seconds, failed at duration 0, each bad value named", async () => {
    const got = outcomes(await collect(CDRS, "kamailio-cdrs", options({ fileName: "acc_cdrs.csv" }, RULES)));
    expect(got.get(2)).to.deep.equal(
      call({
        key: "kamcdr:8f2c1a90-0001@10.0.0.5",
        startMs: at(0, 5),
        setupMs: at(0, 5),
        answerMs: at(0, 5),
        endMs: at(2, 10),
        duration: 125, // 125.318 s
        aNumber: "442079460001",
        bNumber: "4930123456",
      }),
    );
    expect(got.get(3)).to.deep.equal(
      call({
        key: "kamcdr:8f2c1a90-0002@10.0.0.5",
        startMs: at(0, 10),
        setupMs: at(0, 10),
        endMs: at(0, 10),
        aNumber: "442079460002",
        bNumber: "447700900123",
        disposition: "FAILED",
      }),
    );
    expect(got.get(4)).to.include({
      partner: "INITECH",
      direction: "in",
      duration: 150,
      trunk: "198.51.100.7",
    });
    expect(got.get(5)).to.include({ key: "kamcdr:id:4", duration: 121 }); // no callid: the row id
    expect(got.get(6)).to.equal("INVALID:end_time");
    expect(got.get(7)).to.equal("INVALID:duration");
    expect(got.get(8)).to.equal("UNKNOWN_PARTNER");
    expect(got.size).to.equal(7);
  });

  it("takes the disposition from a sip_code column when the script writes one", async () => {
    const text = [
      "start_time,end_time,duration,callid,sip_code,src_user,dst_ouser,dst_ip",
      "2026-10-02 11:00:00,2026-10-02 11:00:00,0,c1@x,486,442079460001,004930123456,192.0.2.10",
      "2026-10-02 11:00:00,2026-10-02 11:00:30,30,c2@x,486,442079460001,004930123456,192.0.2.10",
    ].join("\n");
    const got = outcomes(await collect(text, "kamailio-cdrs", OPTS));
    expect(got.get(2)).to.include({ disposition: "BUSY", sipCode: 486 });
    expect(got.get(3)).to.equal("INVALID:duration");
  });
});
