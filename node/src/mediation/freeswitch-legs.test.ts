/**
 * Golden tests of FreeSWITCH's `legs` handling, against files written as mod_cdr_csv writes them.
 * What the files look like, from FreeSWITCH's source (signalwire/freeswitch):
 *
 * - The shipped `example` template (conf/vanilla/autoload_configs/cdr_csv.conf.xml) is 15 quoted
 *   variables: caller_id_name, caller_id_number, destination_number, context, start_stamp,
 *   answer_stamp, end_stamp, duration, billsec, hangup_cause, uuid, bleg_uuid, accountcode,
 *   read_codec, write_codec. mod_cdr_csv.c appends "\n" to a template and writes the expanded line
 *   to Master.csv; values are put between the template's quotes as they are.
 * - Which legs: mod_cdr_csv.c `my_on_reporting` skips, with `legs=a`, every channel that has an
 *   originator caller profile (a B-leg: switch_core_session_outgoing_channel gives every channel
 *   it creates one), and with `legs=b` every channel that has an originatee caller profile (an A-leg
 *   that bridged). `ab` writes both. So a `legs=b` file also holds the A-legs that never bridged.
 * - `${bleg_uuid}`: switch_channel.c reads a `bleg_` variable from the caller profile's
 *   *originatee* profile, which switch_ivr_originate.c sets on the A-leg only when the originate
 *   succeeded. So an A-leg row names its B-leg's uuid, a B-leg row has an empty bleg_uuid (a B-leg
 *   originates nothing), and so does an A-leg that never bridged (busy, no route). Only the A-leg
 *   names the other: that is how the legs are paired and told apart.
 * - switch_channel.c sets `direction` (`inbound` on the A-leg, `outbound` on the B-leg),
 *   `start_epoch`, `answer_epoch` (0 when never answered; `answer_stamp` is then not set, so empty),
 *   `end_epoch`, and `progressmsec` / `progress_mediamsec`: milliseconds from the channel's creation
 *   to the first progress (180) / early media (183), 0 when there was none.
 */
import { expect } from "chai";
import fc from "fast-check";
import fs from "node:fs";
import path from "node:path";
import { databaseTargets, tempDir } from "../../../test/helpers/databases";
import { addPartner } from "../db/partners";
import { cdrStats } from "../db/stats";
import { importDeck } from "../db/tariffs";
import { ingestFile } from "../ingest/ingest-file";
import type { IngestSettings } from "../ingest/pipeline";
import { loadTariffDeck } from "../rating/tariff-deck";
import { collect, options, UK_PLAN } from "../../../test/helpers/mediation";
import type { MatchRule, MediatedCdr, MediationOptions, ParsedRow } from "./types";

/** A custom template with the variables the format reads beyond the example's. */
const TEMPLATE = [
  "direction",
  "caller_id_name",
  "caller_id_number",
  "destination_number",
  "context",
  "start_stamp",
  "answer_stamp",
  "end_stamp",
  "start_epoch",
  "answer_epoch",
  "end_epoch",
  "duration",
  "billsec",
  "hangup_cause",
  "hangup_cause_q850",
  "sip_term_status",
  "progressmsec",
  "progress_mediamsec",
  "uuid",
  "bleg_uuid",
  "accountcode",
  "sip_gateway_name",
] as const;

/** One channel as the switch knows it when it hangs up. */
interface Leg {
  uuid: string;
  /** The uuid of the leg this one bridged to (A-legs that bridged only). */
  bleg: string;
  direction: "inbound" | "outbound";
  cid: string;
  dest: string;
  context: string;
  /** UTC epoch seconds. */
  start: number;
  answer: number | null;
  end: number;
  cause: string;
  q850: number;
  sip: number | null;
  progress: number;
  media: number;
  accountcode: string;
  gateway: string;
}

/** A local stamp as FreeSWITCH writes it, in Europe/London (BST, UTC+1, all of these calls). */
const stamp = (epoch: number) => new Date((epoch + 3600) * 1000).toISOString().slice(0, 19).replace("T", " ");
const q = (v: string | number) => `"${v}"`;
const variables = (l: Leg): Record<string, string | number> => ({
  caller_id_name: "Caller",
  caller_id_number: l.cid,
  destination_number: l.dest,
  context: l.context,
  start_stamp: stamp(l.start),
  answer_stamp: l.answer === null ? "" : stamp(l.answer),
  end_stamp: stamp(l.end),
  start_epoch: l.start,
  answer_epoch: l.answer ?? 0,
  end_epoch: l.end,
  duration: l.end - l.start,
  billsec: l.answer === null ? 0 : l.end - l.answer,
  hangup_cause: l.cause,
  hangup_cause_q850: l.q850,
  sip_term_status: l.sip ?? "",
  progressmsec: l.progress,
  progress_mediamsec: l.media,
  uuid: l.uuid,
  bleg_uuid: l.bleg,
  accountcode: l.accountcode,
  sip_gateway_name: l.gateway,
  read_codec: "PCMA",
  write_codec: "PCMA",
  direction: l.direction,
});
const EXAMPLE = [
  "caller_id_name",
  "caller_id_number",
  "destination_number",
  "context",
  "start_stamp",
  "answer_stamp",
  "end_stamp",
  "duration",
  "billsec",
  "hangup_cause",
  "uuid",
  "bleg_uuid",
  "accountcode",
  "read_codec",
  "write_codec",
];
/** The legs as lines of a file with the example template, or with {@link TEMPLATE}. */
function file(legs: readonly Leg[], template: readonly string[] = EXAMPLE): string {
  return legs.map((l) => template.map((name) => q(variables(l)[name] ?? "")).join(",") + "\n").join("");
}

/** 2026-10-05T10:00:00Z. */
const T = Date.UTC(2026, 9, 5, 10) / 1000;
const uuid = (n: number, leg: "a" | "b") =>
  `${leg === "a" ? "a" : "b"}0c0ffee-0000-4000-8000-${String(n).padStart(12, "0")}`;

/**
 * A bridged call: the A-leg comes in from `cid`, the B-leg goes out `gateway` a second later; both
 * are answered together and hang up together. The B-leg dials the number as the gateway takes it.
 */
function call(
  n: number,
  o: {
    at: number;
    talk: number;
    dest: string;
    gwDest: string;
    context?: string;
    gateway?: string;
    account?: string;
  },
): [Leg, Leg] {
  const start = T + o.at;
  const answer = start + 7;
  const end = answer + o.talk;
  const common = {
    cid: "+442079460001",
    context: o.context ?? "default",
    answer,
    end,
    cause: "NORMAL_CLEARING",
    q850: 16,
    sip: 200,
    accountcode: o.account ?? "globex",
  };
  return [
    {
      ...common,
      uuid: uuid(n, "a"),
      bleg: uuid(n, "b"),
      direction: "inbound",
      dest: o.dest,
      start,
      progress: 2100,
      media: 0,
      gateway: "",
    },
    {
      ...common,
      uuid: uuid(n, "b"),
      bleg: "",
      direction: "outbound",
      dest: o.gwDest,
      start: start + 1,
      progress: 1900,
      media: 1700,
      gateway: o.gateway ?? "globex",
    },
  ];
}

/** An A-leg that never bridged: busy (its failed B-leg, if any, is written apart), or no route at all. */
function unbridged(
  n: number,
  o: { at: number; dest: string; context?: string; cause?: string; account?: string },
): Leg {
  return {
    uuid: uuid(n, "a"),
    bleg: "",
    direction: "inbound",
    cid: "+442079460002",
    dest: o.dest,
    context: o.context ?? "default",
    start: T + o.at,
    answer: null,
    end: T + o.at + 9,
    cause: o.cause ?? "USER_BUSY",
    q850: o.cause === "NO_ROUTE_DESTINATION" ? 3 : 17,
    sip: o.cause === "NO_ROUTE_DESTINATION" ? 404 : 486,
    progress: 0,
    media: 0,
    accountcode: o.account ?? "globex",
    gateway: "",
  };
}
/** The B-leg the switch tried for a call that did not bridge (the gateway answered 486). */
function failedB(n: number, a: Leg): Leg {
  return {
    ...a,
    uuid: uuid(n, "b"),
    direction: "outbound",
    start: a.start + 1,
    sip: 486,
    progress: 0,
    gateway: "globex",
  };
}

const RULES: MatchRule[] = [
  { partner: "GLOBEX", direction: "out", field: "accountcode", pattern: "^globex$" },
  { partner: "INITECH", direction: "in", field: "context", pattern: "^from-initech$" },
];
const ab = (over: Partial<MediationOptions> = {}, rules = RULES) =>
  options({ timeZone: "Europe/London", freeswitch: { legs: "ab" }, ...over }, rules);

const O1 = call(1, { at: 0, talk: 125, dest: "00493012345678", gwDest: "493012345678" });
const O2 = call(2, { at: 60, talk: 61, dest: "0033145678900", gwDest: "33145678900" });
const I1 = call(3, {
  at: 120,
  talk: 30,
  dest: "02079460001",
  gwDest: "1001",
  context: "from-initech",
  account: "",
  gateway: "",
});
const X = unbridged(4, { at: 150, dest: "07700900123", cause: "NO_ROUTE_DESTINATION" });
/** The legs in the order the switch wrote them: O1's A then B, O2's B then A with I1's A-leg and X between. */
const MIXED = [O1[0], O1[1], O2[1], I1[0], X, O2[0], I1[1]];

/** Each row by line: the CDR's key, partner and duration, or the reject's reason. */
function outcome(rows: readonly ParsedRow[]): Record<number, string> {
  return Object.fromEntries(
    rows.map((row) => [
      row.line,
      row.kind === "cdr"
        ? `${row.cdr.key.slice(3, 5)}${row.cdr.key.slice(-1)}:${row.cdr.partner}:${row.cdr.duration}`
        : row.reason,
    ]),
  );
}

/** Every row of a file of `n` lines is a CDR or a reject, once. */
function accountedFor(rows: readonly ParsedRow[], n: number): void {
  expect(rows.map((row) => row.line).sort((x, y) => x - y)).to.deep.equal(
    Array.from({ length: n }, (_, i) => i + 1),
  );
}

describe("mediation/freeswitch legs", () => {
  it("legs=ab: a bridged call bills once, on its A-leg, whichever leg comes first and with rows between", async () => {
    const rows = await collect(file(MIXED), "freeswitch", ab());
    accountedFor(rows, MIXED.length);
    expect(outcome(rows)).to.deep.equal({
      1: "a01:GLOBEX:125",
      2: "OTHER_LEG",
      3: "OTHER_LEG",
      4: "a03:INITECH:30",
      5: "a04:GLOBEX:0", // no B-leg at all (no route): still an attempt
      6: "a02:GLOBEX:61",
      7: "OTHER_LEG",
    });
    const a = rows.find((row) => row.line === 1);
    expect(a?.kind === "cdr" && a.cdr).to.deep.equal({
      key: `fs:${uuid(1, "a")}`,
      partner: "GLOBEX",
      direction: "out",
      service: "voice",
      startMs: (T + 7) * 1000,
      setupMs: T * 1000,
      answerMs: (T + 7) * 1000,
      endMs: (T + 132) * 1000,
      duration: 125,
      totalSeconds: 132,
      volume: 0,
      aNumber: "442079460001",
      bNumber: "493012345678",
      disposition: "ANSWERED",
      trunk: null,
      sipCode: null,
      q850Cause: 16,
      pddMs: null,
      warnings: null,
    } satisfies MediatedCdr);
    const b = rows.find((row) => row.line === 2);
    expect(b?.kind === "reject" && b).to.deep.include({
      field: null,
      sourceKey: `fs:${uuid(1, "b")}`,
      message: `the B-leg (uuid ${uuid(1, "b")}) of a call whose A-leg is recorded; GLOBEX bills the A-leg (mediation.partners.GLOBEX.billLeg)`,
    });
    // The unbridged row is held until the end of the file (without `direction` it may be a B-leg).
    expect(rows.map((row) => row.line)).to.deep.equal([1, 2, 3, 6, 4, 7, 5]);
  });

  it("legs=ab with billLeg {GLOBEX: b} bills GLOBEX's calls on the B-leg, others' still on the A-leg", async () => {
    const rows = await collect(file(MIXED), "freeswitch", ab({ billLeg: { GLOBEX: "b" } }));
    accountedFor(rows, MIXED.length);
    expect(outcome(rows)).to.deep.equal({
      1: "OTHER_LEG",
      2: "b01:GLOBEX:125",
      3: "b02:GLOBEX:61",
      4: "a03:INITECH:30",
      5: "a04:GLOBEX:0", // the only leg of its call
      6: "OTHER_LEG",
      7: "OTHER_LEG",
    });
    const b = rows.find((row) => row.line === 2);
    expect(b?.kind === "cdr" && b.cdr).to.deep.include({
      key: `fs:${uuid(1, "b")}`,
      setupMs: (T + 1) * 1000,
      startMs: (T + 7) * 1000,
      duration: 125,
      totalSeconds: 131,
      bNumber: "493012345678",
    });
    const a = rows.find((row) => row.line === 1);
    expect(a?.kind === "reject" && a.message).to.equal(
      `the A-leg (uuid ${uuid(1, "a")}) of a call whose B-leg is recorded; GLOBEX bills the B-leg (mediation.partners.GLOBEX.billLeg)`,
    );
  });

  it("legs=ab in any order, in any chunks: every row once, the billed leg's keys exactly", async () => {
    const calls = Array.from({ length: 12 }, (_, n) =>
      call(10 + n, { at: n * 30, talk: 10 + n, dest: "00493012345678", gwDest: "493012345678" }),
    );
    const lone = Array.from({ length: 3 }, (_, n) => unbridged(40 + n, { at: n * 45, dest: "07700900123" }));
    const legs = [...calls.flat(), ...lone];
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(legs, { minLength: legs.length, maxLength: legs.length }),
        fc.constantFrom<"a" | "b">("a", "b"),
        fc.integer({ min: 1, max: 400 }),
        async (order, leg, chunk) => {
          const text = Buffer.from(file(order));
          const chunks = Array.from({ length: Math.ceil(text.length / chunk) }, (_, i) =>
            text.subarray(i * chunk, (i + 1) * chunk),
          );
          const rows = await collect(chunks, "freeswitch", ab({ billLeg: { GLOBEX: leg } }));
          accountedFor(rows, legs.length);
          const billed = rows.flatMap((row) => (row.kind === "cdr" ? [row.cdr.key] : [])).sort();
          const expected = [
            ...calls.map((c) => `fs:${c[leg === "a" ? 0 : 1].uuid}`),
            ...lone.map((l) => `fs:${l.uuid}`),
          ];
          expect(billed).to.deep.equal(expected.sort());
          expect(rows.filter((row) => row.kind === "reject" && row.reason === "OTHER_LEG")).to.have.length(
            calls.length,
          );
        },
      ),
      { numRuns: 40 },
    );
  });

  it("legs=a and legs=b files: every row is a call, and they bill what legs=ab bills", async () => {
    const abRows = await collect(file(MIXED), "freeswitch", ab());
    const abB = await collect(file(MIXED), "freeswitch", ab({ billLeg: { GLOBEX: "b", INITECH: "b" } }));
    const cdrsOf = (rows: readonly ParsedRow[]) =>
      rows.flatMap((row) => (row.kind === "cdr" ? [row.cdr] : [])).sort((x, y) => (x.key < y.key ? -1 : 1));
    // legs=a: the channels without an originator, the A-legs (bridged or not).
    const aLegs = MIXED.filter((l) => l.direction === "inbound");
    const a = await collect(
      file(aLegs),
      "freeswitch",
      options({ timeZone: "Europe/London", freeswitch: { legs: "a" } }, RULES),
    );
    expect(a.map((row) => row.kind)).to.deep.equal(aLegs.map(() => "cdr"));
    expect(cdrsOf(a)).to.deep.equal(cdrsOf(abRows));
    // legs=b: the channels without an originatee, the B-legs and the A-legs that never bridged.
    const bLegs = MIXED.filter((l) => l.direction === "outbound" || l.bleg === "");
    const b = await collect(
      file(bLegs),
      "freeswitch",
      options({ timeZone: "Europe/London", freeswitch: { legs: "b" } }, RULES),
    );
    expect(b.map((row) => row.kind)).to.deep.equal(bLegs.map(() => "cdr"));
    expect(cdrsOf(b)).to.deep.equal(cdrsOf(abB));
    // Either way the same calls and seconds are billed.
    const seconds = (rows: readonly ParsedRow[]) =>
      cdrsOf(rows)
        .map((c) => c.duration)
        .sort((x, y) => x - y);
    expect(seconds(a)).to.deep.equal(seconds(b));
  });

  describe("with a template that has direction, sip_term_status, hangup_cause_q850, progress times, epochs and the gateway", () => {
    const custom = (over: Partial<MediationOptions> = {}, rules = RULES, legs: "a" | "b" | "ab" = "ab") =>
      options({ timeZone: "Europe/London", freeswitch: { legs, template: TEMPLATE }, ...over }, rules);

    it("reads SIP code, Q.850 cause and PDD (progressmsec, else progress_mediamsec, 0 = none); epochs over stamps", async () => {
      const [a, b] = O1;
      const legs: Leg[] = [
        a,
        { ...b, uuid: uuid(5, "b"), progress: 0 }, // only early media: PDD from progress_mediamsec
        { ...b, uuid: uuid(6, "b"), progress: 0, media: 0 }, // neither: no PDD
        { ...unbridged(7, { at: 300, dest: "07700900123" }), direction: "outbound", gateway: "globex" },
      ];
      const text = file(legs, TEMPLATE).replace(`"${stamp(a.start)}"`, '"not a time"'); // stamps are not read
      const rows = await collect(text, "freeswitch", custom({}, RULES, "a"));
      expect(rows[0]?.kind === "cdr" && rows[0].cdr).to.deep.equal({
        key: `fs:${uuid(1, "a")}`,
        partner: "GLOBEX",
        direction: "out",
        service: "voice",
        startMs: (T + 7) * 1000,
        setupMs: T * 1000,
        answerMs: (T + 7) * 1000,
        endMs: (T + 132) * 1000,
        duration: 125,
        totalSeconds: 132,
        volume: 0,
        aNumber: "442079460001",
        bNumber: "493012345678",
        disposition: "ANSWERED",
        trunk: null,
        sipCode: 200,
        q850Cause: 16,
        pddMs: 2100,
        warnings: null,
      } satisfies MediatedCdr);
      expect(
        rows.map((row) =>
          row.kind === "cdr"
            ? [row.cdr.pddMs, row.cdr.sipCode, row.cdr.q850Cause, row.cdr.trunk]
            : row.reason,
        ),
      ).to.deep.equal([
        [2100, 200, 16, null],
        [1700, 200, 16, "globex"],
        [null, 200, 16, "globex"],
        [null, 486, 17, "globex"],
      ]);
      const busy = rows[3];
      expect(busy?.kind === "cdr" && busy.cdr).to.deep.include({
        disposition: "BUSY",
        answerMs: null,
        startMs: (T + 300) * 1000,
        duration: 0,
      });
      // The epochs are read even where the stamps say something else (the stamps are local, the epochs UTC).
      const shifted = file([{ ...a }], TEMPLATE).replace(`"${a.start}"`, `"${a.start - 3600}"`);
      const [early] = await collect(shifted, "freeswitch", custom({}, RULES, "a"));
      expect(early?.kind === "cdr" && early.cdr.setupMs).to.equal((T - 3600) * 1000);
      // A template with start_epoch but the local answer and end stamps reads each time from what it has.
      const mixed = TEMPLATE.filter((name) => name !== "answer_epoch" && name !== "end_epoch");
      const [row] = await collect(
        file([a], mixed),
        "freeswitch",
        custom({ freeswitch: { legs: "a", template: mixed } }),
      );
      expect(row?.kind === "cdr" && [row.cdr.setupMs, row.cdr.answerMs, row.cdr.endMs]).to.deep.equal([
        T * 1000,
        (T + 7) * 1000,
        (T + 132) * 1000,
      ]);
    });

    it("takes the partner from whichever leg a rule claims, the trunk from the B-leg, and bills transit on both partners", async () => {
      const gatewayOnly: MatchRule[] = [
        { partner: "GLOBEX", direction: "out", field: "sip_gateway_name", pattern: "^globex$" },
        { partner: "INITECH", direction: "in", field: "context", pattern: "^from-initech$" },
      ];
      // Transit: in from Initech, out through Globex's gateway.
      const transit = call(8, {
        at: 400,
        talk: 42,
        dest: "00493012345678",
        gwDest: "493012345678",
        context: "from-initech",
      });
      const legs = [O1[1], O1[0], transit[0], transit[1]];
      const rows = await collect(file(legs, TEMPLATE), "freeswitch", custom({}, gatewayOnly));
      accountedFor(rows, legs.length);
      expect(outcome(rows)).to.deep.equal({
        1: "OTHER_LEG",
        2: "a01:GLOBEX:125", // the A-leg names no gateway; its B-leg does
        3: "a08:INITECH:42",
        4: "b08:GLOBEX:42",
      });
      const kept = rows.find((row) => row.line === 2);
      expect(kept?.kind === "cdr" && [kept.cdr.direction, kept.cdr.trunk]).to.deep.equal(["out", "globex"]);
    });

    it("an A-leg that never bridged is an attempt at once; its failed B-leg the other leg", async () => {
      const busyA = unbridged(9, { at: 500, dest: "00493012345678" });
      const legs = [
        busyA,
        failedB(9, busyA),
        unbridged(10, { at: 600, dest: "07700900123", cause: "NO_ROUTE_DESTINATION" }),
      ];
      const rows = await collect(file(legs, TEMPLATE), "freeswitch", custom());
      accountedFor(rows, legs.length);
      expect(
        rows.map((row) =>
          row.kind === "cdr" ? [row.line, row.cdr.disposition, row.cdr.sipCode] : [row.line, row.reason],
        ),
      ).to.deep.equal([
        [1, "BUSY", 486],
        [3, "FAILED", 404],
        [2, "OTHER_LEG"], // held for its A-leg until the end of the file
      ]);
      // Without `direction` (the example template) neither row says which leg it is: both are attempts.
      const plain = await collect(file(legs.slice(0, 2)), "freeswitch", ab());
      expect(plain.map((row) => row.kind === "cdr" && row.cdr.disposition)).to.deep.equal(["BUSY", "BUSY"]);
    });

    it("rejects a second copy of a held leg as a DUPLICATE instead of losing a row", async () => {
      const legs = [O1[1], O1[1], O1[0]];
      for (const rows of [
        await collect(file(legs, TEMPLATE), "freeswitch", custom()),
        await collect(file(legs), "freeswitch", ab()),
      ]) {
        accountedFor(rows, 3);
        expect(outcome(rows)).to.deep.equal({ 1: "OTHER_LEG", 2: "DUPLICATE", 3: "a01:GLOBEX:125" });
      }
    });
  });
});

/**
 * The whole `legs=ab` file through the real pipeline: partners and decks in the database, the file
 * mediated, checked, rated and stored. The out-calls' partner is known on both legs (the A-leg's
 * accountcode, the B-leg's gateway), the in-calls' by context.
 */
for (const target of databaseTargets()) {
  describe(`freeswitch legs=ab through the ingest pipeline on ${target.name}`, function () {
    this.timeout(120_000);
    const dir = tempDir();
    after(async () => {
      await target.cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const rules: MatchRule[] = [
      { partner: "GLOBEX", direction: "out", field: "sip_gateway_name", pattern: "^globex$" },
      { partner: "GLOBEX", direction: "out", field: "accountcode", pattern: "^globex$" },
      { partner: "GLOBEX", direction: "in", field: "context", pattern: "^from-globex$" },
    ];
    // Delivered to a PBX that takes the national number (billing an in-call on its B-leg needs one).
    const inCall = call(3, {
      at: 120,
      talk: 30,
      dest: "02079460001",
      gwDest: "02079460001",
      context: "from-globex",
      account: "",
      gateway: "",
    });
    const busyIn = unbridged(4, { at: 150, dest: "02079460002", context: "from-globex", account: "" });
    const busyOut = unbridged(5, { at: 200, dest: "00493012345678" });
    const legs = [O1[0], O1[1], O2[1], inCall[0], busyIn, O2[0], inCall[1], busyOut, failedB(5, busyOut)];
    const settings = (legsOption: "a" | "ab", billLeg?: Record<string, "a" | "b">): IngestSettings => ({
      mediation: {
        timeZone: "Europe/London",
        useGmtTime: false,
        numbering: UK_PLAN,
        freeswitch: { legs: legsOption, template: TEMPLATE },
        billLeg,
      },
      now: () => Date.parse("2026-11-15T00:00:00Z"),
    });

    async function ingest(name: string, rows: readonly Leg[], s: IngestSettings) {
      const db = await target.open();
      try {
        await addPartner(db, { id: "GLOBEX", name: "Globex", matchRules: rules });
        const deck = fs.readFileSync(
          path.join(__dirname, "..", "..", "samples", "tariff-globex.csv"),
          "utf8",
        );
        for (const direction of ["in", "out"] as const) {
          await importDeck(db, {
            partner: "GLOBEX",
            direction,
            name: `globex-${direction}`,
            currency: "EUR",
            contentHash: direction,
            rows: loadTariffDeck(deck, "tariff-globex.csv"),
          });
        }
        const csv = path.join(dir, name);
        fs.writeFileSync(csv, file(rows, TEMPLATE));
        await ingestFile(db, csv, "freeswitch", s);
        const stats = await cdrStats(db);
        const { rows: rated } = await db.query<{ source_key: string }>(
          "SELECT source_key FROM cdrs WHERE outcome = 'rated' ORDER BY source_key",
        );
        return { stats, rated: rated.map((row) => row.source_key) };
      } finally {
        await db.close();
      }
    }

    it("bills each call once: rated + unbilled + rejected = rows, the B-legs OTHER_LEG, the amount the A-legs'", async () => {
      const both = await ingest("Master.csv", legs, settings("ab"));
      expect(both.stats.records).to.equal(BigInt(legs.length));
      expect(both.stats.rated + both.stats.unbilled + both.stats.rejected).to.equal(both.stats.records);
      expect(both.stats).to.deep.include({ rated: 3n, unbilled: 2n, rejected: 4n });
      expect(both.stats.rejectedByReason).to.deep.equal({ OTHER_LEG: 4n });
      expect(both.rated).to.deep.equal([O1[0], O2[0], inCall[0]].map((l) => `fs:${l.uuid}`).sort());

      // The same switch writing legs=a: the A-legs alone. Same calls rated, same money.
      const aOnly = await ingest(
        "Master-a.csv",
        legs.filter((l) => l.direction === "inbound"),
        settings("a"),
      );
      expect(aOnly.stats).to.deep.include({ records: 5n, rated: 3n, unbilled: 2n, rejected: 0n });
      expect(aOnly.rated).to.deep.equal(both.rated);
      const amount = (s: typeof both.stats) => s.byPartner.reduce((sum, p) => sum + p.amount, 0n);
      expect(amount(both.stats) > 0n).to.equal(true);
      expect(amount(both.stats)).to.equal(amount(aOnly.stats));
      expect(both.stats.byPartner).to.deep.equal(aOnly.stats.byPartner);

      // Billed on the B-leg instead: the B-legs rated, the A-legs the other legs, the same money.
      const onB = await ingest("Master-b.csv", legs, settings("ab", { GLOBEX: "b" }));
      expect(onB.stats.rejectedByReason).to.deep.equal({ OTHER_LEG: 3n });
      expect(onB.rated).to.deep.equal([O1[1], O2[1], inCall[1]].map((l) => `fs:${l.uuid}`).sort());
      expect(amount(onB.stats)).to.equal(amount(both.stats));
    });
  });
}
