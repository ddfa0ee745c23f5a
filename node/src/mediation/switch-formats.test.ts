import { createHash } from "node:crypto";
import { expect } from "chai";
import { InputError } from "../errors";
import { channelPeer } from "./formats/asterisk";
import { mediateStream } from "./mediate";
import type { MatchRule, MediatedCdr, ParsedRow } from "./types";
import { collect, options } from "../../../test/helpers/mediation";

const q = (v: string): string => `"${v.replace(/"/g, '""')}"`;

interface AstRow {
  accountcode?: string;
  src?: string;
  dst?: string;
  dcontext?: string;
  clid?: string;
  channel?: string;
  dstchannel?: string;
  start?: string;
  answer?: string;
  end?: string;
  duration?: string;
  billsec?: string;
  disposition?: string;
  uniqueid?: string;
  columns?: 16 | 18 | 21;
}

/** A Master.csv line as cdr_csv writes it: text quoted, duration and billsec bare. */
function ast(r: AstRow = {}): string {
  const cols = [
    q(r.accountcode ?? ""),
    q(r.src ?? "1000"),
    q(r.dst ?? "02079460000"),
    q(r.dcontext ?? "from-internal"),
    q(r.clid ?? '"Alice" <1000>'),
    q(r.channel ?? "SIP/1000-00000001"),
    q(r.dstchannel ?? "SIP/globex-0000001a"),
    q("Dial"),
    q("SIP/globex/02079460000,30"),
    q(r.start ?? "2026-01-15 12:00:00"),
    q(r.answer ?? "2026-01-15 12:00:05"),
    q(r.end ?? "2026-01-15 12:01:05"),
    r.duration ?? "65",
    r.billsec ?? "60",
    q(r.disposition ?? "ANSWERED"),
    q("DOCUMENTATION"),
  ];
  const n = r.columns ?? 18;
  if (n >= 18) cols.push(q(r.uniqueid ?? "1768478400.1"), q(""));
  if (n === 21) cols.push(q(""), q("1768478400.0"), "7");
  return cols.join(",");
}

const RULES: MatchRule[] = [
  { partner: "globex", direction: "out", field: "trunk", pattern: "^globex$" },
  { partner: "initech", direction: "in", field: "trunk", pattern: "^initech" },
  { partner: "umbrella", direction: "out", field: "accountcode", pattern: "^UMB-" },
];

const astOpts = options({ timeZone: "Europe/London" }, RULES);

function only(rows: ParsedRow[]): ParsedRow {
  expect(rows).to.have.length(1);
  return rows[0] as ParsedRow;
}

function cdrOf(rows: ParsedRow[]): MediatedCdr {
  const row = only(rows);
  if (row.kind !== "cdr") throw new Error(`${row.reason} ${row.field}: ${row.message}`);
  return row.cdr;
}

const answered: MediatedCdr = {
  key: "ast:1768478400.1",
  partner: "globex",
  direction: "out",
  service: "voice",
  startMs: Date.UTC(2026, 0, 15, 12, 0, 5),
  setupMs: Date.UTC(2026, 0, 15, 12, 0, 0),
  answerMs: Date.UTC(2026, 0, 15, 12, 0, 5),
  endMs: Date.UTC(2026, 0, 15, 12, 1, 5),
  duration: 60,
  totalSeconds: 65,
  volume: 0,
  aNumber: "1000",
  bNumber: "442079460000",
  disposition: "ANSWERED",
  trunk: "globex",
  sipCode: null,
  q850Cause: null,
  pddMs: null,
  warnings: null,
};

describe("mediation/asterisk", () => {
  it("reads an answered 18-column row: answer time, billsec, uniqueid key, trunk rule", async () => {
    expect(cdrOf(await collect(ast() + "\n", "asterisk", astOpts))).to.deep.equal(answered);
  });

  it("reads 21-column rows and keys 16-column rows by a SHA-1 of the record", async () => {
    // Asterisk 12+: each dial attempt is its own record, keyed by uniqueid and sequence.
    expect(cdrOf(await collect(ast({ columns: 21 }), "asterisk", astOpts))).to.deep.equal({
      ...answered,
      key: "ast:1768478400.1:7",
    });
    const line = ast({ columns: 16 });
    const key = "ast:" + createHash("sha1").update(line).digest("hex");
    expect(cdrOf(await collect(line + "\r\n", "asterisk", astOpts))).to.deep.equal({ ...answered, key });
    const empty = ast({ uniqueid: "" });
    expect(cdrOf(await collect(empty, "asterisk", astOpts)).key).to.equal(
      "ast:" + createHash("sha1").update(empty).digest("hex"),
    );
  });

  it("maps each disposition; NO ANSWER starts at the start time with duration 0", async () => {
    const rows = await collect(
      [
        ast({ disposition: "NO ANSWER", answer: "", billsec: "0" }),
        ast({ disposition: "BUSY", answer: "", billsec: "0" }),
        ast({ disposition: "FAILED", answer: "", billsec: "0" }),
        ast({ disposition: "CONGESTION", answer: "", billsec: "0" }),
      ].join("\n"),
      "asterisk",
      astOpts,
    );
    expect(
      rows.map((r) => (r.kind === "cdr" ? [r.cdr.disposition, r.cdr.startMs, r.cdr.duration] : r.message)),
    ).to.deep.equal([
      ["NO_ANSWER", Date.UTC(2026, 0, 15, 12), 0],
      ["BUSY", Date.UTC(2026, 0, 15, 12), 0],
      ["FAILED", Date.UTC(2026, 0, 15, 12), 0],
      ["CONGESTION", Date.UTC(2026, 0, 15, 12), 0],
    ]);
  });

  it("reads local time in the zone (summer, DST gap and overlap) or UTC with usegmtime", async () => {
    const summer = ast({
      start: "2026-07-01 12:00:00",
      answer: "2026-07-01 12:00:05",
      end: "2026-07-01 12:01:05",
    });
    expect(cdrOf(await collect(summer, "asterisk", astOpts)).startMs).to.equal(
      Date.UTC(2026, 6, 1, 11, 0, 5),
    );
    const gap = ast({ start: "2026-03-29 01:30:00", answer: "2026-03-29 01:30:00" });
    expect(cdrOf(await collect(gap, "asterisk", astOpts)).startMs).to.equal(Date.UTC(2026, 2, 29, 1, 30));
    const overlap = ast({ start: "2026-10-25 01:30:00", answer: "2026-10-25 01:30:00" });
    expect(cdrOf(await collect(overlap, "asterisk", astOpts)).startMs).to.equal(Date.UTC(2026, 9, 25, 0, 30));
    const gmt = options({ useGmtTime: true, timeZone: "not/used" }, RULES);
    expect(cdrOf(await collect(summer, "asterisk", gmt)).startMs).to.equal(Date.UTC(2026, 6, 1, 12, 0, 5));
    const ny = options({ timeZone: "America/New_York" }, RULES);
    expect(cdrOf(await collect(summer, "asterisk", ny)).startMs).to.equal(Date.UTC(2026, 6, 1, 16, 0, 5));
  });

  it("takes partner and direction from the first matching rule: trunk of dstchannel (out) or channel (in), other columns", async () => {
    const rows = await collect(
      [
        ast({ channel: "PJSIP/initech-gw-00000001", dstchannel: "" }),
        ast({ channel: "IAX2/initech-123", dstchannel: "SIP/globex-0000001a" }),
        ast({ dstchannel: "DAHDI/1-1", accountcode: "UMB-7" }),
        ast({ dstchannel: "SIP/hooli-0000001b", channel: "SIP/1000-00000001" }),
      ].join("\n"),
      "asterisk",
      astOpts,
    );
    expect(
      rows.map((r) => (r.kind === "cdr" ? `${r.cdr.partner}/${r.cdr.direction}` : `${r.reason}/${r.field}`)),
    ).to.deep.equal(["initech/in", "globex/out", "umbrella/out", "UNKNOWN_PARTNER/null"]);
  });

  it("extracts the trunk peer from channel names", () => {
    expect(channelPeer("SIP/globex-0000001a")).to.equal("globex");
    expect(channelPeer("PJSIP/globex-00000001")).to.equal("globex");
    expect(channelPeer("IAX2/peer-123")).to.equal("peer");
    expect(channelPeer("SIP/my-peer-0000001a")).to.equal("my-peer");
    expect(channelPeer("SIP/globex")).to.equal("globex");
    expect(channelPeer("")).to.equal("");
  });

  it("normalises src and dst, allows a withheld src, and names the bad column", async () => {
    const rows = await collect(
      [
        ast({ src: "", dst: "sip:+15551234567@carrier.example" }),
        ast({ src: "+44 (20) 7946-0000", dst: "0044 20 7946 0000" }),
        ast({ dst: "s" }),
        ast({ dst: "" }),
        ast({ src: "anonymous" }),
        ast({ start: "2026-01-15T12:00:00" }),
        ast({ answer: "2026-01-32 12:00:00" }),
        ast({ end: "soon" }),
        ast({ duration: "x" }),
        ast({ billsec: "-3" }),
        ast({ disposition: "HUNG" }),
        ast({ columns: 16 }) + ',"extra"',
      ].join("\n"),
      "asterisk",
      astOpts,
    );
    const [a, b, ...bad] = rows;
    expect(a?.kind === "cdr" && [a.cdr.aNumber, a.cdr.bNumber]).to.deep.equal(["", "15551234567"]);
    expect(b?.kind === "cdr" && [b.cdr.aNumber, b.cdr.bNumber]).to.deep.equal([
      "442079460000",
      "442079460000",
    ]);
    expect(bad.map((r) => (r.kind === "reject" ? r.field : "cdr"))).to.deep.equal([
      "dst",
      "dst",
      "src",
      "start",
      "answer",
      "end",
      "duration",
      "billsec",
      "disposition",
      null,
    ]);
    expect(bad.map((r) => r.line)).to.deep.equal([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(bad[0]?.kind === "reject" && bad[0].message).to.equal(
      "dst 's' is not a phone number (E.164 needs 1–15 digits, optionally written with +, 00 or the national prefix)",
    );
    expect(bad[3]?.kind === "reject" && bad[3].message).to.equal(
      "start '2026-01-15T12:00:00' is not a YYYY-MM-DD HH:MM:SS time",
    );
    expect(bad[9]?.kind === "reject" && bad[9].message).to.equal(
      "row has 17 columns; Asterisk Master.csv rows have 16, 18 or 21",
    );
  });

  it("throws InputError up front for an invalid rule regex or an unknown zone, before reading", () => {
    let read = false;
    async function* input(): AsyncGenerator<string> {
      read = true;
      yield ast();
    }
    const badRule = options({}, [{ partner: "globex", direction: "out", field: "trunk", pattern: "([" }]);
    expect(() => mediateStream(input(), "asterisk", badRule)).to.throw(
      InputError,
      /match rule 1 \(partner globex/,
    );
    expect(() => mediateStream(input(), "freeswitch", badRule)).to.throw(InputError);
    expect(() => mediateStream(input(), "asterisk", options({ timeZone: "Europe/Lndon" }, RULES))).to.throw(
      InputError,
      /unknown time zone 'Europe\/Lndon'/,
    );
    expect(read).to.equal(false);
  });
});

interface FsRow {
  name?: string;
  cid?: string;
  dest?: string;
  context?: string;
  start?: string;
  answer?: string;
  end?: string;
  duration?: string;
  billsec?: string;
  cause?: string;
  uuid?: string;
  accountcode?: string;
  columns?: 13 | 15;
}

/** A mod_cdr_csv line with the `example` template: every field quoted. */
function fs(r: FsRow = {}): string {
  const cols = [
    r.name ?? "Alice",
    r.cid ?? "+442079460000",
    r.dest ?? "0033123456789",
    r.context ?? "public",
    r.start ?? "2026-01-15 12:00:00",
    r.answer ?? "2026-01-15 12:00:05",
    r.end ?? "2026-01-15 12:01:05",
    r.duration ?? "65",
    r.billsec ?? "60",
    r.cause ?? "NORMAL_CLEARING",
    r.uuid ?? "a1b2c3d4-0000-4000-8000-000000000001",
    "",
    r.accountcode ?? "globex",
  ];
  if ((r.columns ?? 15) === 15) cols.push("PCMA", "PCMA");
  return cols.map(q).join(",");
}

const FS_RULES: MatchRule[] = [
  { partner: "globex", direction: "out", field: "accountcode", pattern: "^globex$" },
  { partner: "initech", direction: "in", field: "context", pattern: "^from-initech$" },
];
const fsOpts = options({ timeZone: "Europe/Paris" }, FS_RULES);

describe("mediation/freeswitch", () => {
  const fsAnswered: MediatedCdr = {
    key: "fs:a1b2c3d4-0000-4000-8000-000000000001",
    partner: "globex",
    direction: "out",
    service: "voice",
    startMs: Date.UTC(2026, 0, 15, 11, 0, 5),
    setupMs: Date.UTC(2026, 0, 15, 11, 0, 0),
    answerMs: Date.UTC(2026, 0, 15, 11, 0, 5),
    endMs: Date.UTC(2026, 0, 15, 11, 1, 5),
    duration: 60,
    totalSeconds: 65,
    volume: 0,
    aNumber: "442079460000",
    bNumber: "33123456789",
    disposition: "ANSWERED",
    trunk: null,
    sipCode: null,
    q850Cause: 16,
    pddMs: null,
    warnings: null,
  };

  it("reads 15- and 13-column rows in the switch's zone", async () => {
    expect(cdrOf(await collect(fs(), "freeswitch", fsOpts))).to.deep.equal(fsAnswered);
    expect(cdrOf(await collect(fs({ columns: 13 }) + "\r\n", "freeswitch", fsOpts))).to.deep.equal(
      fsAnswered,
    );
    const summer = fs({ start: "2026-07-01 12:00:00", answer: "2026-07-01 12:00:05", end: "" });
    expect(cdrOf(await collect(summer, "freeswitch", fsOpts)).startMs).to.equal(
      Date.UTC(2026, 6, 1, 10, 0, 5),
    );
  });

  it("derives the disposition from answer_stamp, billsec and hangup_cause", async () => {
    const rows = await collect(
      [
        fs({ billsec: "0", cause: "NORMAL_CLEARING" }),
        fs({ answer: "", billsec: "0", cause: "USER_BUSY" }),
        fs({ answer: "", billsec: "0", cause: "NO_ANSWER" }),
        fs({ answer: "", billsec: "0", cause: "NO_USER_RESPONSE" }),
        fs({ answer: "", billsec: "0", cause: "ORIGINATOR_CANCEL" }),
        fs({ answer: "", billsec: "0", cause: "ALLOTTED_TIMEOUT" }),
        fs({ answer: "", billsec: "0", cause: "CALL_REJECTED" }),
        fs({ answer: "", billsec: "0", cause: "NORMAL_CLEARING" }),
        fs({ answer: "", billsec: "12", cause: "NORMAL_CLEARING" }),
      ].join("\n"),
      "freeswitch",
      fsOpts,
    );
    expect(
      rows.map((r) =>
        r.kind === "cdr" ? `${r.cdr.disposition}:${r.cdr.duration}:${r.cdr.startMs}` : r.field,
      ),
    ).to.deep.equal([
      `ANSWERED:0:${Date.UTC(2026, 0, 15, 11, 0, 5)}`,
      `BUSY:0:${Date.UTC(2026, 0, 15, 11)}`,
      `NO_ANSWER:0:${Date.UTC(2026, 0, 15, 11)}`,
      `NO_ANSWER:0:${Date.UTC(2026, 0, 15, 11)}`,
      `CANCEL:0:${Date.UTC(2026, 0, 15, 11)}`,
      `NO_ANSWER:0:${Date.UTC(2026, 0, 15, 11)}`,
      `BUSY:0:${Date.UTC(2026, 0, 15, 11)}`,
      `CANCEL:0:${Date.UTC(2026, 0, 15, 11)}`,
      "billsec",
    ]);
  });

  it("matches rules on context, rejects unknown partners and names bad columns", async () => {
    const rows = await collect(
      [
        fs({ context: "from-initech", accountcode: "", cid: "", dest: "tel:+1 555 123 4567" }),
        fs({ accountcode: "hooli" }),
        fs({ uuid: "" }),
        fs({ start: "2026-02-30 10:00:00" }),
        fs({ answer: "12:00" }),
        fs({ end: "2026-01-15 25:00:00" }),
        fs({ duration: "1e3" }),
        fs({ billsec: "" }),
        fs({ cid: "caller" }),
        fs({ dest: "" }),
        fs({ dest: "+" }),
        '"a","b"',
      ].join("\n"),
      "freeswitch",
      fsOpts,
    );
    const first = rows[0];
    expect(first?.kind === "cdr" && first.cdr).to.deep.include({
      partner: "initech",
      direction: "in",
      aNumber: "",
      bNumber: "15551234567",
    });
    expect(rows.slice(1).map((r) => (r.kind === "reject" ? `${r.reason}:${r.field}` : "cdr"))).to.deep.equal([
      "UNKNOWN_PARTNER:null",
      "INVALID:uuid",
      "INVALID:start_stamp",
      "INVALID:answer_stamp",
      "INVALID:end_stamp",
      "INVALID:duration",
      "INVALID:billsec",
      "INVALID:caller_id_number",
      "INVALID:destination_number",
      "INVALID:destination_number",
      "INVALID:null",
    ]);
  });
});
