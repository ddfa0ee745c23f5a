/**
 * What `npm run demo -- --serve` leaves for people to work once the demo month has settled: the two
 * months after it, driven on the same nodes with the demo's own steps to the states where someone must
 * act, CDR files of the month after those for the operators to upload, every role's sign-in key, and
 * what to try first with each.
 *
 * The chain's clock decides what can wait at once. A period on the co-signed fast path can be settled
 * only in the first days of its commit window (until `settlement.fastPathFallbackMs` before it closes),
 * an escalated dispute only until the arbitration window closes, and escalation needs the response
 * window after the last proposal to have passed. So the dispute to escalate comes from February: opened
 * and answered with a proposal in early March, escalated once the clock is moved to 1 April; March's
 * periods are closed then, in their commit window, and wait there with it:
 *
 * | period | waits | for |
 * | --- | --- | --- |
 * | GLOBEX–INITECH February | Escalated | the arbiter's ruling (ten days of chain time) |
 * | ACME–INITECH February | Approved | someone to settle it (the nodes do not settle on their own) |
 * | ACME–GLOBEX March | on the fast path | ACME's second officer to co-sign its Settlement |
 * | GLOBEX–INITECH March | Mismatched | an officer to open a dispute with the discrepancy report |
 *
 * Mismatched and Approved wait without a deadline. The nodes keep following the ledger in the
 * background (as `icl run` does) so that a co-signature or a dispute step taken in a console goes on.
 * Who signs in where, and what to try first, is demo-serve-guide.ts.
 */
import fs from "node:fs";
import path from "node:path";
import type { Role } from "../../gateway/src/auth/types";
import { formatPeriod, periodState, revealSummary } from "../../node/src/reconciliation/reveal";
import { acceptSettlementSignature, ourSettlement, signSettlement } from "../../node/src/settlement/cosign";
import { DISPUTE_REASONS } from "../../node/src/settlement/disputes";
import type { Consortium, ConsortiumAgreement, ConsortiumCarrier } from "../../test/helpers/consortium";
import { openCommitWindow } from "../../test/helpers/hardhat";
import { SWITCHES, nodeOf, type DemoNode } from "./demo-carriers";
import { printServed, servedKeys, tryFirst } from "./demo-serve-guide";
import { approveAll, disputeStep, latestTimestamp, untilSeen, type Note } from "./demo-steps";
import { generateCalls, chooseLost, writeSideCdrs, type Call } from "./traffic";

/** The months after the demo's January: the dispute escalated, the periods waiting, the files to upload. */
export const SERVED_MONTHS = { escalated: 203002, waiting: 203003, uploads: 203004 } as const;

/** How often the served nodes follow the ledger, as `peer.pollMs` does for `icl run`. */
const POLL_MS = 2_000;

export interface ServedPeriod {
  agreement: ConsortiumAgreement["name"];
  /** YYYY-MM. */
  period: string;
  /** The ledger state it waits in; `Committing` for the one left to the co-signed fast path. */
  state: "Mismatched" | "Escalated" | "Approved" | "Committing";
  /** Left to the co-signed fast path (closed on both nodes, not committed). */
  fastPath: boolean;
}

export interface ServedKey {
  /** As the lines print it: "ACME officer 1", "GLOBEX operator", "arbiter". */
  who: string;
  role: Role;
  address: string;
  privateKey: string;
  /** The gateway (its console at `/console/`) where the key signs in with `role`. */
  url: string;
}

export interface ServedUpload {
  carrier: ConsortiumCarrier["name"];
  file: string;
  /** The `format` the upload takes (`icl ingest --format`, `POST /api/v1/ingest?format=`). */
  format: string;
  rows: number;
  /** The month of its calls, YYYY-MM (not closed: they count towards it). */
  period: string;
}

export interface ServedDemo {
  chain: string;
  /** Each carrier's gateway URL (the console at `/console/`). */
  gateways: Record<ConsortiumCarrier["name"], string>;
  periods: ServedPeriod[];
  uploads: ServedUpload[];
  keys: ServedKey[];
  /** What to try first, one line each, as printed. */
  tryFirst: string[];
  /** Stops the nodes following the ledger (before they close). */
  halt(): Promise<void>;
}

export interface ServeParts {
  c: Consortium;
  nodes: readonly DemoNode[];
  rpcUrl: string;
  /** The demo's work directory; the files to upload go to its `uploads/`. */
  work: string;
  /** Calls per agreement and served month. */
  calls: number;
  note: Note;
  out: (line: string) => void;
}

/**
 * Drives the served months to the states in the header, writes the files to upload, starts the nodes
 * following the ledger and prints where everything is, every key and what to try first.
 * @throws Error naming the period when one does not end up in the state it should wait in.
 */
export async function leaveServed(parts: ServeParts): Promise<ServedDemo> {
  const { c, nodes, note } = parts;
  const { escalated: february, waiting: march, uploads: april } = SERVED_MONTHS;
  const gi = c.agreements["GLOBEX-INITECH"];
  const ai = c.agreements["ACME-INITECH"];
  const ag = c.agreements["ACME-GLOBEX"];
  const globex = nodeOf(nodes, c.carriers.GLOBEX);
  const initech = nodeOf(nodes, c.carriers.INITECH);
  const acme = nodeOf(nodes, c.carriers.ACME);
  parts.out("\nLeaving periods for people to work (--serve):");

  // February: GLOBEX–INITECH lost 4% again (to be disputed), ACME–INITECH only INITECH's slow clock.
  await moveClockPast(c, nodes, february, note);
  await traffic(parts, gi, february, 0.04, 0, 500);
  await traffic(parts, ai, february, 0, -600_000, 510);
  for (const agreement of [gi, ai]) await commitAndReveal(nodes, agreement, february, note);
  await passesUntilCompared(nodes, [gi], february);
  await expectState(acme, ai, february, ["Matched", "Reconciled"]);
  await approveAll(nodes, ai, february, false, note);
  const { report } = await globex.node.periods.report(gi.agreementId, february);
  await disputeStep(
    c,
    globex,
    gi,
    february,
    c.carriers.GLOBEX.officers[0],
    "open",
    { reasonCode: DISPUTE_REASONS.missing_cdrs, evidenceCid: report?.evidenceCid ?? undefined },
    "GLOBEX officer 1",
    note,
  );
  const record = await globex.chain.ledger.periodRecord(gi.agreementId, february);
  await disputeStep(
    c,
    initech,
    gi,
    february,
    c.carriers.INITECH.officers[0],
    "propose",
    { amountAB: record.amountABofB, amountBA: record.amountBAofB },
    "INITECH officer 1",
    note,
  );

  // 1 April: February's response window is long closed (GLOBEX escalates), March's commit window open.
  await moveClockPast(c, nodes, march, note);
  await disputeStep(
    c,
    globex,
    gi,
    february,
    c.carriers.GLOBEX.officers[1],
    "escalate",
    {},
    "GLOBEX officer 2",
    note,
  );
  await traffic(parts, ag, march, 0, 0, 520);
  await traffic(parts, gi, march, 0.04, 0, 530);
  await leaveToFastPath(nodes, ag, march, note);
  await commitAndReveal(nodes, gi, march, note);
  await passesUntilCompared(nodes, [gi], march);

  const waiting: [ConsortiumAgreement, number, ServedPeriod["state"]][] = [
    [gi, march, "Mismatched"],
    [gi, february, "Escalated"],
    [ai, february, "Approved"],
    [ag, march, "Committing"],
  ];
  const periods: ServedPeriod[] = [];
  for (const [agreement, period, state] of waiting) {
    await expectState(acme, agreement, period, [state]);
    const fastPath = state === "Committing";
    periods.push({ agreement: agreement.name, period: formatPeriod(period), state, fastPath });
  }
  const uploads = writeUploads(parts, april);

  // From here on the nodes follow the ledger on their own, as `icl run` does.
  const following = new AbortController();
  const loops = nodes.map((n) => n.runner.run(following.signal, POLL_MS));
  const served: ServedDemo = {
    chain: parts.rpcUrl,
    gateways: Object.fromEntries(nodes.map((n) => [n.carrier.name, n.gateway.url])) as ServedDemo["gateways"],
    periods,
    uploads,
    keys: servedKeys(c, nodes),
    tryFirst: [],
    async halt() {
      following.abort();
      await Promise.all(loops);
    },
  };
  served.tryFirst = tryFirst(served);
  printServed(served, parts.out);
  return served;
}

/** Moves the chain's clock a minute past `period`'s end (its commit window opens) and waits until every node sees it. */
async function moveClockPast(c: Consortium, nodes: readonly DemoNode[], period: number, note: Note) {
  await openCommitWindow(c.provider, period);
  const moved = await latestTimestamp(c.provider);
  await untilSeen([c.provider, ...nodes.map((n) => n.chain.provider)], moved);
  note(
    `the chain's clock moved to ${new Date(moved * 1000).toISOString().slice(0, 10)}: ${formatPeriod(period)}'s commit window opened`,
    "time",
  );
}

/**
 * One month of `agreement`'s calls, each side written by its carrier's switch into its own file in its
 * node's directory and ingested; B's switch loses `lostOnB` of them and its clock runs `skewOnBMs` off.
 */
async function traffic(
  parts: ServeParts,
  agreement: ConsortiumAgreement,
  period: number,
  lostOnB: number,
  skewOnBMs: number,
  seed: number,
): Promise<void> {
  const calls = generateCalls(period, parts.calls, seed, { unanswered: 0.05 });
  const lost = chooseLost(calls, lostOnB, seed + 1);
  for (const [side, carrier] of [
    ["A", agreement.a],
    ["B", agreement.b],
  ] as const) {
    const partner = side === "A" ? agreement.b.name : agreement.a.name;
    const n = nodeOf(parts.nodes, carrier);
    const file = path.join(n.dir, switchFile(carrier, period, partner));
    const profile = SWITCHES[carrier.name]!;
    writeSideCdrs(file, calls, {
      side,
      partner,
      lost: side === "B" ? lost : undefined,
      skewMs: side === "B" ? skewOnBMs : undefined,
      batch: `${agreement.name}-${period}`,
      profile: { ...profile, trunk: partner.toLowerCase() },
    });
    const { file: f } = await n.node.ingest(file, profile.format);
    parts.note(
      `ingested ${path.basename(file)} (${profile.format}): ${f.records} CDRs, ${f.rated} rated + ${f.unbilled} unbilled + ${f.rejected} rejected`,
      carrier.name,
    );
  }
}

/** The name a carrier's switch gives its file of one month towards one partner. */
function switchFile(carrier: ConsortiumCarrier, period: number, partner: string): string {
  const base = SWITCHES[carrier.name]!.format === "icl-csv" ? "cdrs" : "Master";
  return `${base}-${formatPeriod(period)}-${partner.toLowerCase()}.csv`;
}

/** Both nodes close and commit `period`, then each reveals its own side at once (as `icl period reveal`). */
async function commitAndReveal(
  nodes: readonly DemoNode[],
  agreement: ConsortiumAgreement,
  period: number,
  note: Note,
): Promise<void> {
  const sides = [nodeOf(nodes, agreement.a), nodeOf(nodes, agreement.b)];
  for (const n of sides) {
    const closed = await n.node.periods.close(agreement.name, period, "commit", n.chain);
    const receipt = await n.chain.provider.getTransactionReceipt(closed.commit!.txHash);
    note(
      `closed ${agreement.name} ${formatPeriod(period)} and committed its salted root`,
      n.carrier.name,
      receipt?.gasUsed ?? null,
    );
  }
  // Revealed by hand, not held for approvals before the reveal: those would settle it at once.
  for (const n of sides) {
    const revealed = await revealSummary(
      n.db,
      n.chain,
      await n.node.agreements.require(agreement.name),
      period,
    );
    note(`revealed ${agreement.name} ${formatPeriod(period)}: ${revealed.state}`, n.carrier.name);
  }
}

/** Both nodes close `period` without committing; GLOBEX's two officers and ACME's first co-sign its Settlement. */
async function leaveToFastPath(
  nodes: readonly DemoNode[],
  agreement: ConsortiumAgreement,
  period: number,
  note: Note,
): Promise<void> {
  for (const carrier of [agreement.a, agreement.b]) {
    const n = nodeOf(nodes, carrier);
    const closed = await n.node.periods.close(agreement.name, period, "freeze", n.chain);
    const settlement = await ourSettlement(n.db, n.chain, closed.agreement, period);
    const chainNow = BigInt((await n.chain.provider.getBlock("latest"))!.timestamp);
    const signers = carrier === agreement.a ? carrier.officers.slice(0, 1) : carrier.officers.slice(0, 2);
    for (const officer of signers) {
      const signature = await signSettlement(n.chain, officer, settlement);
      await acceptSettlementSignature(n.db, n.chain, settlement, carrier.id, signature, chainNow);
    }
    note(
      `closed ${agreement.name} ${formatPeriod(period)} without committing; ${signers.length} of its officers co-signed the Settlement (fast path)`,
      carrier.name,
    );
  }
}

/** Passes of every node until both parties of each agreement compared `period` with the other's node. */
async function passesUntilCompared(
  nodes: readonly DemoNode[],
  agreements: readonly ConsortiumAgreement[],
  period: number,
): Promise<void> {
  const compared = async () => {
    for (const agreement of agreements) {
      for (const carrier of [agreement.a, agreement.b]) {
        const { report } = await nodeOf(nodes, carrier).node.periods.report(agreement.agreementId, period);
        if (report === null) return false;
      }
    }
    return true;
  };
  for (let pass = 0; !(await compared()); pass++) {
    if (pass === 8) {
      throw new Error(
        `the nodes did not compare ${agreements.map((a) => a.name).join(", ")} ${formatPeriod(period)} in 8 passes`,
      );
    }
    for (const n of nodes) await n.runner.pass();
  }
}

async function expectState(
  n: DemoNode,
  agreement: ConsortiumAgreement,
  period: number,
  states: readonly string[],
): Promise<void> {
  const state = await periodState(n.chain, agreement.agreementId, period);
  if (!states.includes(state)) {
    throw new Error(
      `${agreement.name} ${formatPeriod(period)} is ${state} on the ledger; --serve leaves it ${states.join(" or ")}`,
    );
  }
}

/**
 * April's calls of every agreement as each carrier's switch writes them, one file per carrier under
 * `<work>/uploads/`, for its operator to upload (April is not closed: they count towards it).
 */
function writeUploads(parts: ServeParts, period: number): ServedUpload[] {
  const dir = path.join(parts.work, "uploads");
  fs.mkdirSync(dir, { recursive: true });
  const uploads = new Map<ConsortiumCarrier["name"], ServedUpload>();
  for (const [index, agreement] of Object.values(parts.c.agreements).entries()) {
    const calls: Call[] = generateCalls(period, Math.max(50, Math.floor(parts.calls / 4)), 600 + index, {
      unanswered: 0.05,
    });
    for (const [side, carrier] of [
      ["A", agreement.a],
      ["B", agreement.b],
    ] as const) {
      const partner = side === "A" ? agreement.b.name : agreement.a.name;
      const profile = SWITCHES[carrier.name]!;
      let upload = uploads.get(carrier.name);
      if (upload === undefined) {
        const base = profile.format === "icl-csv" ? "cdrs" : "Master";
        const file = path.join(dir, `${carrier.name.toLowerCase()}-${base}-${formatPeriod(period)}.csv`);
        upload = {
          carrier: carrier.name,
          file,
          format: profile.format,
          rows: 0,
          period: formatPeriod(period),
        };
        uploads.set(carrier.name, upload);
      }
      upload.rows += writeSideCdrs(upload.file, calls, {
        side,
        partner,
        batch: `${agreement.name}-${period}`,
        profile: { ...profile, trunk: partner.toLowerCase() },
        append: upload.rows > 0,
      });
    }
  }
  return [...uploads.values()];
}
