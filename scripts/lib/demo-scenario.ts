/**
 * The demo month's scenario, shared by both ways of running it (scripts/demo.ts in one process,
 * scripts/lib/demo-processes.ts with a process per node): who lost what, the traffic each carrier's
 * switch writes into its files, and how the figures are printed and read back.
 */
import path from "node:path";
import { formatAmount } from "../../node/src/chain/display";
import type { Consortium, ConsortiumAgreement, ConsortiumCarrier } from "./consortium";
import { SWITCHES } from "./demo-carriers";
import { PERIOD } from "./hardhat-node";
import { chooseLost, generateCalls, writeSideCdrs, type Call } from "./traffic";

/** The demo month as the CLI and the printed lines write it (2030-01). */
export const MONTH = `${String(PERIOD).slice(0, 4)}-${String(PERIOD).slice(4)}`;

/** ACME's switch delivers the CDRs of ACME–GLOBEX calls from this time on in a late batch. */
const LATE_FROM = Date.UTC(2030, 0, 30);
/** Share of ACME–GLOBEX's earlier calls the late batch sends again (duplicates the node rejects). */
const RESENT = 0.01;
/** Share of call attempts nobody answered (logged by both switches, billed by neither). */
const UNANSWERED = 0.05;

/** The scenario: who lost what. */
export const SCENARIO: Record<
  ConsortiumAgreement["name"],
  { lostOnB: number; skewOnBMs: number; expect: string }
> = {
  "ACME-GLOBEX": { lostOnB: 0, skewOnBMs: 0, expect: "Matched" },
  // INITECH's switch clock also runs 10 minutes slow: calls near midnight land on the day before.
  "ACME-INITECH": { lostOnB: 0.005, skewOnBMs: -600_000, expect: "Reconciled" },
  "GLOBEX-INITECH": { lostOnB: 0.04, skewOnBMs: 0, expect: "Mismatched" },
};

/** One switch file, with the rows written into it. */
export interface SwitchFile {
  file: string;
  rows: number;
}

/** The calls each agreement's traffic came from, which of them B's switch lost and which A's sent twice. */
export type DemoTraffic = Record<string, { calls: Call[]; lostOnB: Set<number>; resentOnA: Set<number> }>;

/**
 * Writes the month's traffic: one list of calls per agreement (`cdrs` in all, at least 100 per
 * agreement); each carrier's switch writes its side of every call it kept into its own files in
 * `dirOf(carrier)`, in its own format. ACME's last two days of GLOBEX traffic go into a late file
 * that also re-sends 1% of the earlier calls.
 * @returns the traffic, per carrier its files in the order they reach the node (the late one last,
 * ingested after the others), and the late file.
 */
export function writeDemoTraffic(
  c: Consortium,
  dirOf: (carrier: ConsortiumCarrier) => string,
  cdrs: number,
): { traffic: DemoTraffic; files: Map<string, SwitchFile[]>; late: SwitchFile } {
  type SideWrite = Parameters<typeof writeSideCdrs>[2];
  const perAgreement = Math.max(100, Math.floor(cdrs / 2));
  const traffic: DemoTraffic = {};
  const files = new Map<string, SwitchFile[]>(Object.keys(c.carriers).map((name) => [name, []]));
  const write = (carrier: ConsortiumCarrier, name: string, calls: readonly Call[], side: SideWrite) => {
    const list = files.get(carrier.name)!;
    const file = path.join(dirOf(carrier), name);
    let entry = list.find((f) => f.file === file);
    if (!entry) list.push((entry = { file, rows: 0 }));
    entry.rows += writeSideCdrs(file, calls, { ...side, append: entry.rows > 0 });
    return entry;
  };
  let late: SwitchFile | null = null;
  for (const [index, agreement] of Object.values(c.agreements).entries()) {
    const calls = generateCalls(PERIOD, perAgreement, 100 + index, { unanswered: UNANSWERED });
    const lost = chooseLost(calls, SCENARIO[agreement.name].lostOnB, 200 + index);
    const resent = new Set<number>();
    traffic[agreement.name] = { calls, lostOnB: lost, resentOnA: resent };
    for (const [side, carrier] of [
      ["A", agreement.a],
      ["B", agreement.b],
    ] as const) {
      const partner = side === "A" ? agreement.b.name : agreement.a.name;
      const profile = SWITCHES[carrier.name]!;
      const sideWrite: SideWrite = {
        side,
        partner,
        lost: side === "B" ? lost : undefined,
        skewMs: side === "B" ? SCENARIO[agreement.name].skewOnBMs : undefined,
        batch: agreement.name,
        profile: { ...profile, trunk: partner.toLowerCase() },
      };
      const name = profile.format === "icl-csv" ? `cdrs-${MONTH}.csv` : `Master-${MONTH}.csv`;
      if (agreement.name !== "ACME-GLOBEX" || side === "B") {
        write(carrier, name, calls, sideWrite);
        continue;
      }
      // ACME's switch holds back the last two days of GLOBEX traffic, then sends them in a late
      // batch together with 1% of the month's earlier calls again.
      const early = calls.filter((call) => call.startMs < LATE_FROM);
      for (const i of chooseLost(early, RESENT, 300)) resent.add(i);
      write(carrier, name, early, sideWrite);
      const again = calls.filter((call) => call.startMs >= LATE_FROM || resent.has(call.index));
      late = write(carrier, `cdrs-${MONTH}-late.csv`, again, sideWrite);
    }
  }
  // The late file moves to the end of ACME's list: it reaches the node after the others.
  const acme = files.get("ACME")!;
  acme.push(...acme.splice(acme.indexOf(late!), 1));
  return { traffic, files, late: late! };
}

/** ICUSD base units as the demo prints them and DemoResult holds them (exact decimals). */
export function formatIcusd(units: bigint): string {
  return formatAmount(units, { symbol: "", decimals: 6, address: "" }).trim();
}

/** Each carrier's ICUSD escrow on the ledger, base units. */
export async function escrowBalances(c: Consortium): Promise<Map<string, bigint>> {
  const token = await c.tokens.ICUSD.getAddress();
  const result = new Map<string, bigint>();
  for (const carrier of Object.values(c.carriers)) {
    result.set(carrier.name, await c.deployment.ledger.connect(c.provider).escrowOf(carrier.id, token));
  }
  return result;
}

/** Per carrier: its escrow before the first settlement and after the last (the balances above). */
export function escrowMoves(
  c: Consortium,
  before: ReadonlyMap<string, bigint>,
  after: ReadonlyMap<string, bigint>,
): Record<string, { before: bigint; after: bigint }> {
  return Object.fromEntries(
    Object.values(c.carriers).map((k) => [
      k.name,
      { before: before.get(k.name)!, after: after.get(k.name)! },
    ]),
  );
}

/** Per carrier: how many transactions its node key has sent, as the chain counts them. */
export async function nodeTransactionCounts(c: Consortium): Promise<Record<string, number>> {
  return Object.fromEntries(
    await Promise.all(
      Object.values(c.carriers).map(
        async (k) => [k.name, await c.provider.getTransactionCount(k.node.address)] as const,
      ),
    ),
  );
}

/**
 * A cleanup that runs each step on its own: one failing (PostgreSQL gone, say) is printed and must not
 * leave the chain or another node running.
 */
export function cleanupStep(out: (line: string) => void) {
  return async (what: string, step: () => Promise<unknown>): Promise<void> => {
    try {
      await step();
    } catch (error) {
      out(`cleanup: could not ${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
}
