/**
 * Golden tests of the CUCM format against node/samples/cucm-cdr.csv, a flat file written as Cisco's
 * "Call Reporting and Billing Administration Guide" (CDR Field Descriptions, release 11–15) lays it
 * out: the 129 field names of an 11.x cluster (quoted), their data types (INTEGER, VARCHAR(n),
 * UNIQUEIDENTIFIER), then one CDR per line with strings quoted, UTC epoch seconds, Q.850 causes on
 * the side that cleared and 0 on the other, and dateTimeConnect 0 for a call that never connected.
 */
import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { InputError } from "../errors";
import { cucm, cucmCause } from "./formats/cucm";
import { formatById } from "./formats/registry";
import { mediateStream } from "./mediate";
import { collect, options } from "../../../test/helpers/mediation";
import type { MatchRule, MediatedCdr, ParsedRow } from "./types";

const FIXTURE = fs.readFileSync(path.join(__dirname, "..", "..", "samples", "cucm-cdr.csv"), "utf8");
const RULES: MatchRule[] = [
  { partner: "GLOBEX", direction: "out", field: "trunk", pattern: "^SIPTrunk_GLOBEX$" },
  { partner: "INITECH", direction: "in", field: "trunk", pattern: "^GW_INITECH" },
];
const OPTS = options({ fileName: "cdr_StandAloneCluster_01_202610021000_1" }, RULES);
/** 2026-10-02T10:00:00Z, the fixture's first origination. */
const T0 = Date.UTC(2026, 9, 2, 10) / 1000;
const ms = (offset: number): number => (T0 + offset) * 1000;

/** A CDR of the fixture: an outgoing GLOBEX attempt unless told otherwise. */
function cdr(pkid: number, over: Partial<MediatedCdr>): MediatedCdr {
  return {
    key: `cucm:3c8a0f2e-71d4-4b6a-9e05-5d2c7b1a${String(pkid).padStart(4, "0")}`,
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
    trunk: "SIPTrunk_GLOBEX",
    sipCode: null,
    q850Cause: null,
    pddMs: null,
    warnings: null,
    ...over,
  };
}

/** What every line of the fixture becomes: the CDR, or the reject's reason and field. */
const GOLDEN: { line: number; cdr?: MediatedCdr; reject?: string }[] = [
  {
    line: 3, // answered after 7 s, 125 s connected, the caller hung up (origCause_value 16)
    cdr: cdr(1, {
      startMs: ms(7),
      setupMs: ms(0),
      answerMs: ms(7),
      endMs: ms(132),
      duration: 125,
      aNumber: "442079460001",
      bNumber: "493012345678", // 00 49 … : the international prefix of the plan
      q850Cause: 16,
    }),
  },
  {
    line: 4, // busy: destCause_value 17, dateTimeConnect 0
    cdr: cdr(2, {
      startMs: ms(60),
      setupMs: ms(60),
      endMs: ms(64),
      aNumber: "442079460002",
      bNumber: "447700900123", // 07700 900123: the national prefix
      disposition: "BUSY",
      q850Cause: 17,
    }),
  },
  {
    line: 5, // no answer from user: destCause_value 19
    cdr: cdr(3, {
      startMs: ms(120),
      setupMs: ms(120),
      endMs: ms(150),
      aNumber: "442079460003",
      bNumber: "33612345678",
      disposition: "NO_ANSWER",
      q850Cause: 19,
    }),
  },
  {
    line: 6, // no circuit available: destCause_value 34
    cdr: cdr(4, {
      startMs: ms(180),
      setupMs: ms(180),
      endMs: ms(181),
      aNumber: "442079460001",
      bNumber: "33145678900",
      disposition: "CONGESTION",
      q850Cause: 34,
    }),
  },
  { line: 7, reject: "INVALID:cdrRecordType" }, // a CMR line, in the CMR's own layout
  { line: 8, reject: "INVALID:dateTimeOrigination" }, // "2026-10-02 10:05:00" is not epoch seconds
  {
    line: 9, // incoming on Initech's gateway (the trunk is origDeviceName), the called party hung up
    cdr: cdr(6, {
      partner: "INITECH",
      direction: "in",
      startMs: ms(3604),
      setupMs: ms(3600),
      answerMs: ms(3604),
      endMs: ms(3664),
      duration: 60,
      aNumber: "4930901820",
      bNumber: "442079460001",
      trunk: "GW_INITECH_PRI",
      q850Cause: 16,
    }),
  },
  {
    line: 10, // the caller gave up before an answer: origCause_value 16, destCause_value 0
    cdr: cdr(7, {
      startMs: ms(3700),
      setupMs: ms(3700),
      endMs: ms(3712),
      aNumber: "442079460002",
      bNumber: "442079460999",
      disposition: "CANCEL",
      q850Cause: 16,
    }),
  },
  {
    line: 11, // CCM_SIP_486_BUSY_HERE (0x46000011): SIP 486, Q.850 17
    cdr: cdr(8, {
      startMs: ms(3800),
      setupMs: ms(3800),
      endMs: ms(3801),
      aNumber: "442079460003",
      bNumber: "4915123456789",
      disposition: "BUSY",
      sipCode: 486,
      q850Cause: 17,
    }),
  },
  { line: 12, reject: "UNKNOWN_PARTNER:null" }, // phone to phone: no partner's device
  {
    line: 13, // split off by a transfer: Cisco's 393216 is no Q.850 cause
    cdr: cdr(10, {
      startMs: ms(4002),
      setupMs: ms(4000),
      answerMs: ms(4002),
      endMs: ms(4042),
      duration: 40,
      aNumber: "442079460002",
      bNumber: "442079460777",
    }),
  },
];

function summary(rows: readonly ParsedRow[]): { line: number; cdr?: MediatedCdr; reject?: string }[] {
  return rows.map((row) =>
    row.kind === "cdr"
      ? { line: row.line, cdr: row.cdr }
      : { line: row.line, reject: `${row.reason}:${row.field}` },
  );
}

/** The fixture's lines as fields (its values hold no commas). */
const LINES = FIXTURE.trimEnd().split("\n");
const NAMES = LINES[0]!.split(",");
const TYPES = LINES[1]!.split(",");

/** The fixture with its CDR columns rearranged by `order` (indexes into the 129 columns), the CMR line as it is. */
function rearranged(order: readonly number[], names = NAMES, types = TYPES): string {
  return LINES.map((line, i) => {
    const fields = i === 0 ? names : i === 1 ? types : line.split(",");
    if (fields.length !== names.length) return line;
    return order.map((k) => fields[k]).join(",");
  }).join("\r\n");
}

describe("mediation/cucm", () => {
  it("is in the registry with two header rows and UTC epoch times", () => {
    expect(formatById("cucm")).to.equal(cucm);
    expect(cucm).to.deep.include({ headerRows: 2, times: "epoch", partnerFromRow: false, syntax: "csv" });
  });

  it("reads the documented flat file: answered, busy 17, no answer 19, congestion 34, a CMR, a bad epoch", async () => {
    const rows = await collect(FIXTURE, "cucm", OPTS);
    expect(summary(rows)).to.deep.equal(GOLDEN);
    const cmr = rows.find((row) => row.line === 7);
    expect(cmr?.kind === "reject" && cmr.message).to.match(/^a CMR \(cdrRecordType 2/);
    const bad = rows.find((row) => row.line === 8);
    expect(bad?.kind === "reject" && bad.message).to.equal(
      "dateTimeOrigination '2026-10-02 10:05:00' is not UTC epoch seconds",
    );
    // Every data line is a CDR or a reject; the two header rows are neither.
    expect(rows.map((row) => row.line)).to.deep.equal(
      Array.from({ length: LINES.length - 2 }, (_, i) => i + 3),
    );
  });

  it("reads columns by name: reversed, shuffled, or with the four columns of 12.5 and later appended", async () => {
    const n = NAMES.length;
    const reversed = Array.from({ length: n }, (_, i) => n - 1 - i);
    const shuffled = Array.from({ length: n }, (_, i) => (i * 37) % n); // 37 and 129 are coprime
    for (const order of [reversed, shuffled]) {
      expect(summary(await collect(rearranged(order), "cucm", OPTS))).to.deep.equal(GOLDEN);
    }
    const later = ["origDeviceType", "destDeviceType", "origDeviceSessionID", "destDeviceSessionID"];
    const wider = LINES.map((line, i) => {
      if (i === 0) return `${line},${later.map((name) => `"${name}"`).join(",")}`;
      if (i === 1) return `${line},VARCHAR(100),VARCHAR(100),VARCHAR(128),VARCHAR(128)`;
      return line.startsWith("1,") ? `${line},"","","ab30317f1a784dc48f1824d0d3715d86",""` : line;
    });
    expect(summary(await collect(wider.join("\n"), "cucm", OPTS))).to.deep.equal(GOLDEN);
  });

  it("gives the same rows whatever the chunking", async () => {
    const bytes = Buffer.from(FIXTURE);
    const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) =>
      bytes.subarray(i * 7, i * 7 + 7),
    );
    expect(summary(await collect(chunks, "cucm", OPTS))).to.deep.equal(GOLDEN);
  });

  it("takes no record from the two header rows", async () => {
    const header = `${LINES[0]}\n${LINES[1]}\n`;
    expect(await collect(header, "cucm", OPTS)).to.deep.equal([]);
    expect(await collect(`\n${LINES[0]}\r\n\r\n${LINES[1]}\n\n  \n`, "cucm", OPTS)).to.deep.equal([]);
    expect(await collect(LINES[0]!, "cucm", OPTS)).to.deep.equal([]);
    // The types row is never read as a CDR, even when it is the last line.
    const rows = await collect(`${header}${LINES[2]}\n`, "cucm", OPTS);
    expect(summary(rows)).to.deep.equal([GOLDEN[0]]);
  });

  it("rejects every row when the second row is not the data-types row (the file lost it)", async () => {
    const rows = await collect([LINES[0], ...LINES.slice(2)].join("\n"), "cucm", OPTS);
    // Line 2 (the first CDR) was taken for the types row; every later row says why nothing can be read.
    expect(rows.map((row) => row.line)).to.deep.equal(
      Array.from({ length: LINES.length - 3 }, (_, i) => i + 3),
    );
    for (const row of rows) {
      expect(row.kind === "reject" && [row.reason, row.field]).to.deep.equal(["INVALID", null]);
      expect(row.kind === "reject" && row.message).to.match(/^line 2 is not CUCM's data-types row/);
    }
  });

  it("rejects every row naming the required column the header lacks, as icl-csv does", async () => {
    const without = (drop: readonly string[]) => {
      const keep = NAMES.map((_, i) => i).filter((i) => !drop.includes(NAMES[i]!.replace(/"/g, "")));
      return rearranged(keep);
    };
    for (const [drop, field, message] of [
      [
        ["finalCalledPartyNumber"],
        "finalCalledPartyNumber",
        /lacks the required column finalCalledPartyNumber$/,
      ],
      [
        ["dateTimeConnect", "duration"],
        "dateTimeConnect",
        /lacks the required columns dateTimeConnect, duration$/,
      ],
      [["pkid", "globalCallID_callId"], "pkid", /required column pkid \(or globalCallID_callId\)$/],
    ] as const) {
      const rows = await collect(without(drop), "cucm", OPTS);
      expect(rows).to.have.length(LINES.length - 2);
      for (const row of rows) {
        expect(row.kind === "reject" && [row.reason, row.field]).to.deep.equal(["INVALID", field]);
        expect(row.kind === "reject" && row.message).to.match(message);
      }
    }
  });

  it("keys a file without pkid by cluster, node, call id, legs and origination (destLegCallIdentifier too)", async () => {
    const names = NAMES.map((name) => (name === '"destLegIdentifier"' ? '"destLegCallIdentifier"' : name));
    const keep = NAMES.map((_, i) => i).filter((i) => NAMES[i] !== '"pkid"');
    const rows = await collect(rearranged(keep, names), "cucm", OPTS);
    const first = rows[0];
    expect(first?.kind === "cdr" && first.cdr.key).to.equal(
      `cucm:StandAloneCluster:1:388289:17586046:17586047:${T0}`,
    );
    expect(summary(rows).map((row) => row.reject ?? row.cdr!.disposition)).to.deep.equal(
      GOLDEN.map((row) => row.reject ?? row.cdr!.disposition),
    );
    // A row whose pkid is empty falls back to the same key; one with neither has no key.
    const noPkid = LINES[2]!.replace(/"3c8a0f2e-[^"]*"/, '""');
    const fallback = await collect(`${LINES[0]}\n${LINES[1]}\n${noPkid}\n`, "cucm", OPTS);
    expect(fallback[0]?.kind === "cdr" && fallback[0].cdr.key).to.equal(
      `cucm:StandAloneCluster:1:388289:17586046:17586047:${T0}`,
    );
    const broken = noPkid.replace(/^1,1,388289,/, "1,1,,");
    const none = await collect(`${LINES[0]}\n${LINES[1]}\n${broken}\n`, "cucm", OPTS);
    expect(none[0]?.kind === "reject" && [none[0].field, none[0].message]).to.deep.equal([
      "pkid",
      "pkid is empty and globalCallID_callId '' is not a whole number: the CDR has no key",
    ]);
  });

  it("matches rules on any column by name, in any case, and on the trunk towards the partner", async () => {
    const rules: MatchRule[] = [
      { partner: "HOOLI", direction: "out", field: "finalcalledpartynumber", pattern: "^\\+4915" },
      { partner: "GLOBEX", direction: "out", field: "DESTDEVICENAME", pattern: "^SIPTrunk_" },
      { partner: "ACME", direction: "in", field: "trunk", pattern: "^SEP0011223344" },
      { partner: "NOBODY", direction: "out", field: "noSuchColumn", pattern: "" },
    ];
    const rows = await collect(FIXTURE, "cucm", options({}, rules));
    const partners = rows.map((row) =>
      row.kind === "cdr" ? `${row.cdr.partner}:${row.cdr.direction}:${row.cdr.trunk}` : row.reason,
    );
    expect(partners).to.deep.equal([
      "GLOBEX:out:SIPTrunk_GLOBEX",
      "GLOBEX:out:SIPTrunk_GLOBEX",
      "GLOBEX:out:SIPTrunk_GLOBEX",
      "GLOBEX:out:SIPTrunk_GLOBEX",
      "INVALID",
      "INVALID",
      "UNKNOWN_PARTNER", // Initech's gateway: no rule here claims it
      "GLOBEX:out:SIPTrunk_GLOBEX",
      "HOOLI:out:SIPTrunk_GLOBEX", // the first matching rule wins
      "ACME:in:SEP001122334455", // an in-rule's trunk is origDeviceName
      "GLOBEX:out:SIPTrunk_GLOBEX",
    ]);
  });

  it("checks each row's values and names the column at fault", async () => {
    const header = `${LINES[0]}\n${LINES[1]}\n`;
    const answered = LINES[2]!;
    const busy = LINES[3]!;
    const set = (line: string, name: string, value: string) => {
      const fields = line.split(",");
      fields[NAMES.indexOf(`"${name}"`)] = value;
      return fields.join(",");
    };
    const cases: [string, string | null, RegExp][] = [
      [set(answered, "dateTimeConnect", "17909352O7"), "dateTimeConnect", /not UTC epoch seconds/],
      [set(answered, "dateTimeDisconnect", "-1"), "dateTimeDisconnect", /not UTC epoch seconds/],
      [set(answered, "dateTimeOrigination", "0"), "dateTimeOrigination", /is no time/],
      [set(answered, "duration", "12.5"), "duration", /not a whole number/],
      [set(busy, "duration", "3"), "duration", /duration 3 but dateTimeConnect is 0/],
      [set(answered, "origCause_value", "-16"), "origCause_value", /not a cause code/],
      [
        set(answered, "finalCalledPartyNumber", '"b0019901001"'),
        "finalCalledPartyNumber",
        /not a phone number/,
      ],
      [set(answered, "callingPartyNumber", '"alice"'), "callingPartyNumber", /not a phone number/],
      [set(answered, "cdrRecordType", "0"), "cdrRecordType", /start record/],
      [set(answered, "cdrRecordType", "9"), "cdrRecordType", /cdrRecordType '9' is not 1/],
      [`${answered},"extra"`, null, /row has 130 fields but the header has 129/],
    ];
    const rows = await collect(header + cases.map(([line]) => line).join("\n"), "cucm", OPTS);
    expect(rows.map((row) => (row.kind === "reject" ? row.field : "cdr"))).to.deep.equal(
      cases.map(([, f]) => f),
    );
    rows.forEach((row, i) => expect(row.kind === "reject" && row.message).to.match(cases[i]![2]));
    // Empty connect and cause fields read as CUCM's 0; a withheld calling number is allowed.
    const sparse = set(
      set(set(busy, "dateTimeConnect", ""), "destCause_value", ""),
      "callingPartyNumber",
      '""',
    );
    const [row] = await collect(header + sparse, "cucm", OPTS);
    expect(row?.kind === "cdr" && row.cdr).to.deep.include({
      disposition: "CANCEL",
      q850Cause: null,
      aNumber: "",
    });
  });

  it("decodes Cisco's cause codes into SIP responses and Q.850 causes", () => {
    expect(cucmCause(0)).to.deep.equal({ q850: null, sip: null });
    expect(cucmCause(16)).to.deep.equal({ q850: 16, sip: null });
    expect(cucmCause(126)).to.deep.equal({ q850: null, sip: null }); // call split (Cisco specific)
    expect(cucmCause(393216)).to.deep.equal({ q850: null, sip: null });
    expect(cucmCause(458752)).to.deep.equal({ q850: null, sip: null });
    expect(cucmCause(851976)).to.deep.equal({ q850: 8, sip: null }); // PREEMPTION_NON_IP
    expect(cucmCause(83886081)).to.deep.equal({ q850: 1, sip: 404 });
    expect(cucmCause(1191182367)).to.deep.equal({ q850: 31, sip: 487 });
    expect(cucmCause(1459617833)).to.deep.equal({ q850: 41, sip: 503 });
    expect(cucmCause(2701131793)).to.deep.equal({ q850: 17, sip: 600 });
  });

  it("throws InputError up front for an invalid rule pattern, before reading", () => {
    let read = false;
    async function* input(): AsyncGenerator<string> {
      read = true;
      yield FIXTURE;
    }
    const bad = options({}, [
      { partner: "GLOBEX", direction: "out", field: "destDeviceName", pattern: "([" },
    ]);
    expect(() => mediateStream(input(), "cucm", bad)).to.throw(InputError, /match rule 1 \(partner GLOBEX/);
    expect(read).to.equal(false);
  });

  it("recognises a CUCM CDR file, and not a CMR file or other formats", () => {
    expect(cucm.looksLike(LINES.slice(0, 5))).to.equal(true);
    const cmr = [
      '"cdrRecordType","globalCallID_callManagerId","globalCallID_callId","nodeId","directoryNum","callIdentifier"',
      "INTEGER,INTEGER,INTEGER,INTEGER,VARCHAR(50),INTEGER",
    ];
    expect(cucm.looksLike(cmr)).to.equal(false);
    expect(cucm.looksLike([LINES[0]!, LINES[2]!])).to.equal(false);
    expect(cucm.looksLike(['"","1000","02079460000","from-internal"'])).to.equal(false);
  });
});
