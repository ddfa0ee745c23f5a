/**
 * Interconnect traffic between carriers A and B as one list of calls, and each carrier's own CDR
 * file derived from it — the way two switches see the same calls: A's `out` is B's `in`, each side
 * with its own CDR ids, and with the imperfections real interconnects have (CDRs lost on one side,
 * a clock running an hour off).
 */
import fs from "node:fs";
import { prng } from "./generate-cdrs";

export interface Call {
  /** The call's index in the list; CDR ids derive from it (`A-7`, `B-7`). */
  index: number;
  /** `AB`: A hands the call to B (A owes B). */
  direction: "AB" | "BA";
  aNumber: string;
  bNumber: string;
  startMs: number;
  durationSeconds: number;
}

const PREFIXES = ["44", "49", "33", "34", "39", "31", "32", "41", "43", "45", "46", "47", "48", "351", "353"];

/** `count` answered voice calls spread over the UTC month `period` (YYYYMM), seeded. */
export function generateCalls(period: number, count: number, seed: number): Call[] {
  const random = prng(seed);
  const start = Date.UTC(Math.floor(period / 100), (period % 100) - 1, 1);
  const end = Date.UTC(Math.floor(period / 100), period % 100, 1);
  const calls: Call[] = [];
  for (let index = 0; index < count; index++) {
    const direction = random() < 0.6 ? "AB" : "BA";
    const prefix = PREFIXES[Math.floor(random() * PREFIXES.length)]!;
    const mobile = random() < 0.4 ? "7" : "2";
    const foreign = `+${prefix}${mobile}${String(Math.floor(random() * 1e9)).padStart(9, "0")}`;
    const domestic = `+1212${String(Math.floor(random() * 1e7)).padStart(7, "0")}`;
    calls.push({
      index,
      direction,
      // A is the US carrier: its subscribers call abroad (AB) and are called from abroad (BA).
      aNumber: direction === "AB" ? domestic : foreign,
      bNumber: direction === "AB" ? foreign : domestic,
      // Whole seconds: CDRs carry seconds, and the call key is per second.
      startMs: start + Math.floor((random() * (end - start)) / 1000) * 1000,
      durationSeconds: 1 + (Math.floor(-Math.log(1 - random()) * 150) % 3600),
    });
  }
  return calls;
}

export interface SideOptions {
  /** This carrier: A or B. */
  side: "A" | "B";
  /** What this carrier's node calls the other carrier. */
  partner: string;
  /** Indexes of calls this side's switch lost. */
  lost?: ReadonlySet<number>;
  /** Added to every start time (a clock running off). */
  skewMs?: number;
  /** Tells this file's CDR ids from other files' (switches number CDRs per file or per day). */
  batch: string;
}

/** This side's icl-csv CDR file of `calls`; CDR ids are `<side>-<batch>-<index>`. */
export function writeSideCdrs(file: string, calls: readonly Call[], options: SideOptions): void {
  const lines = ["cdr_id,partner,direction,service,start_time,duration,volume,a_number,b_number,disposition"];
  for (const call of calls) {
    if (options.lost?.has(call.index)) continue;
    const ours = (call.direction === "AB") === (options.side === "A") ? "out" : "in";
    const start = new Date(call.startMs + (options.skewMs ?? 0)).toISOString().replace(".000Z", "Z");
    lines.push(
      `${cdrId(options.side, options.batch, call)},${options.partner},${ours},voice,${start},${call.durationSeconds},,` +
        `${call.aNumber},${call.bNumber},ANSWERED`,
    );
  }
  fs.writeFileSync(file, lines.join("\n") + "\n");
}

/** A seeded choice of about `fraction` of the calls. */
export function chooseLost(calls: readonly Call[], fraction: number, seed: number): Set<number> {
  const random = prng(seed);
  return new Set(calls.filter(() => random() < fraction).map((call) => call.index));
}

export function cdrId(side: "A" | "B", batch: string, call: Pick<Call, "index">): string {
  return `${side}-${batch}-${call.index}`;
}
