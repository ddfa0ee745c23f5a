import fs from "node:fs";

/** Deterministic PRNG (mulberry32): the same seed gives the same traffic on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A tariff deck matching the generated traffic: ~40 destinations with increments and a mid-month rate change. */
export function generatedDeck(): string {
  const lines = [
    "service,prefix,destination,rate,connect_fee,first_increment,next_increment,effective_from,effective_to,time_band,days,time_from,time_to,timezone",
  ];
  const countries: [string, string][] = [
    ["44", "United Kingdom"],
    ["49", "Germany"],
    ["33", "France"],
    ["34", "Spain"],
    ["39", "Italy"],
    ["31", "Netherlands"],
    ["32", "Belgium"],
    ["41", "Switzerland"],
    ["43", "Austria"],
    ["45", "Denmark"],
    ["46", "Sweden"],
    ["47", "Norway"],
    ["48", "Poland"],
    ["351", "Portugal"],
    ["353", "Ireland"],
    ["358", "Finland"],
    ["30", "Greece"],
    ["36", "Hungary"],
    ["420", "Czechia"],
    ["40", "Romania"],
  ];
  countries.forEach(([cc, name], i) => {
    const fixed = (0.004 + i * 0.0007).toFixed(4);
    const mobile = (0.02 + i * 0.0013).toFixed(4);
    lines.push(`voice,${cc},${name} - Fixed,${fixed},0,60,60,,,,,,,`);
    if (i % 5 === 0) {
      lines.push(`voice,${cc}7,${name} - Mobile,${mobile},0,30,6,,2026-10-16,,,,,`);
      lines.push(
        `voice,${cc}7,${name} - Mobile,${(Number(mobile) * 0.9).toFixed(4)},0,30,6,2026-10-16,,,,,,`,
      );
    } else lines.push(`voice,${cc}7,${name} - Mobile,${mobile},0.0005,1,1,,,,,,,`);
  });
  lines.push(
    "sms,44,United Kingdom - SMS,0.0150,,,,,,,,,,",
    "data,44,United Kingdom - Data,0.0040,,,,,,,,,,",
  );
  return lines.join("\n") + "\n";
}

const PREFIXES = [
  "44",
  "49",
  "33",
  "34",
  "39",
  "31",
  "32",
  "41",
  "43",
  "45",
  "46",
  "47",
  "48",
  "351",
  "353",
  "358",
  "30",
  "36",
  "420",
  "40",
];

/**
 * Writes `count` icl-csv CDRs for October 2026 to `path`: mostly answered voice to the deck's
 * destinations, some unanswered, sms and data; with `imperfect`, about 0.5% duplicates, 0.3% invalid
 * rows and 0.2% unratable numbers, as real switch extracts have. With `attempts`, every row also
 * carries what a switch records of an attempt (answer and end times, SIP code, Q.850 cause, PDD,
 * trunk) in icl-csv's optional columns: the widest rows the node stores. The same seed gives the
 * same calls either way.
 */
export function writeIclCsv(
  path: string,
  count: number,
  options: { seed?: number; imperfect?: boolean; partners?: string[]; attempts?: boolean } = {},
): void {
  const random = prng(options.seed ?? 1);
  const partners = options.partners ?? ["GLOBEX", "INITECH"];
  const fd = fs.openSync(path, "w");
  const month = Date.parse("2026-10-01T00:00:00Z");
  const span = 31 * 86_400_000;
  const attempts = options.attempts === true;
  let buffer =
    "cdr_id,partner,direction,service,start_time,duration,volume,a_number,b_number,disposition" +
    (attempts ? ",answer_time,end_time,sip_code,q850_cause,pdd_ms,trunk\n" : "\n");
  for (let i = 0; i < count; i++) {
    const r = random();
    const partner = partners[Math.floor(random() * partners.length)]!;
    const direction = random() < 0.5 ? "out" : "in";
    const start = new Date(month + Math.floor(random() * span)).toISOString().replace(".000Z", "Z");
    const prefix = PREFIXES[Math.floor(random() * PREFIXES.length)]!;
    const mobile = random() < 0.4 ? "7" : "2";
    const number = `+${prefix}${mobile}${String(Math.floor(random() * 1e9)).padStart(9, "0")}`;
    const caller = `+1212${String(Math.floor(random() * 1e7)).padStart(7, "0")}`;
    let line: string;
    if (options.imperfect && r < 0.005 && i > 0) {
      line = `CDR-${String(i - 1).padStart(9, "0")},${partner},${direction},voice,${start},60,,${caller},${number},ANSWERED`;
    } else if (options.imperfect && r < 0.008) {
      line = `CDR-${String(i).padStart(9, "0")},${partner},${direction},voice,2026-10-32T00:00:00Z,60,,${caller},${number},ANSWERED`;
    } else if (options.imperfect && r < 0.01) {
      line = `CDR-${String(i).padStart(9, "0")},${partner},${direction},voice,${start},60,,${caller},+8131234567,ANSWERED`;
    } else if (r < 0.04) {
      line = `CDR-${String(i).padStart(9, "0")},${partner},${direction},sms,${start},,1,${caller},+447${String(i).padStart(9, "0")},ANSWERED`;
    } else if (r < 0.05) {
      line = `CDR-${String(i).padStart(9, "0")},${partner},${direction},data,${start},,${Math.floor(random() * 5e7)},${caller},+447${String(i).padStart(9, "0")},ANSWERED`;
    } else if (r < 0.15) {
      line = `CDR-${String(i).padStart(9, "0")},${partner},${direction},voice,${start},0,,${caller},${number},NO_ANSWER`;
    } else {
      const duration = Math.floor(-Math.log(1 - random()) * 180) + 1;
      line = `CDR-${String(i).padStart(9, "0")},${partner},${direction},voice,${start},${duration},,${caller},${number},ANSWERED`;
    }
    if (attempts) line += attemptColumns(line, partner);
    buffer += line + "\n";
    if (buffer.length > 1 << 20) {
      fs.writeSync(fd, buffer);
      buffer = "";
    }
  }
  fs.writeSync(fd, buffer);
  fs.closeSync(fd);
}

/**
 * The optional attempt columns for an icl-csv row written above, derived from the row itself (so
 * the random stream, and with it every call, is the same with and without them): an answered call
 * rang for a few seconds before its answer and ended `duration` seconds later; an unanswered one
 * rang out with 480.
 */
function attemptColumns(line: string, partner: string): string {
  const f = line.split(",");
  const setup = Date.parse(f[4]!);
  const id = Number(f[0]!.slice(4)) || 0;
  const trunk = `${partner.toLowerCase()}-${(id % 4) + 1}`;
  if (!Number.isFinite(setup) || f[3] !== "voice") return `,,,,,,${trunk}`;
  const pdd = 800 + (id % 37) * 100;
  if (f[9] !== "ANSWERED") {
    const end = new Date(setup + 30_000).toISOString();
    return `,,${end},480,19,${pdd},${trunk}`;
  }
  const ring = 2000 + (id % 11) * 1000;
  const answer = setup + pdd + ring;
  // start_time is the attempt's start here; the billable interval runs from the answer.
  const end = answer + Number(f[5]) * 1000;
  return `,${new Date(answer).toISOString()},${new Date(end).toISOString()},200,16,${pdd},${trunk}`;
}

/** {@link generatedDeck} plus a termination rate to New York (+1212) for the calls partners hand to a US carrier. */
export function interconnectDeck(): string {
  return generatedDeck() + "voice,1212,United States - New York,0.0030,0,6,6,,,,,,,\n";
}
