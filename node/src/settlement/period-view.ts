/**
 * Everything an officer looks at before acting on a period, read from the ledger and the node's own
 * database: both parties' figures per direction, the tolerance test as the agreement defines it, the
 * final and undisputed figures, the dispute, the deadlines and who has approved.
 */
import { preRevealSigning, type PreRevealSigning } from "./pre-reveal-status";
import type { ChainClient } from "../chain/client";
import type { Database } from "../db/database";
import type { LocalAgreement } from "../db/agreements";
import { loadReport } from "../db/reports";
import { loadSummary } from "../db/summaries";
import { listStoredApprovals, FINAL_STATES, PARTIAL_STATES } from "./approvals";
import { carrierName, loadPeriodContext, type PeriodContext } from "./period-context";
import { peopleNames } from "../chain/display";
import { toleranceCheck } from "../protocol";

const REVEALED = 1n;
const CLAIMED = 2n;
const RESOLUTIONS = ["None", "Accepted", "Ruled", "Withdrawn"] as const;

export interface DirectionTest {
  direction: "AB" | "BA";
  ofA: bigint;
  ofB: bigint;
  difference: bigint;
  /** max(bps × larger / 10 000, absolute): the largest difference still within tolerance. */
  allowed: bigint;
  within: boolean;
}

export interface SideFigures {
  carrier: string;
  name: string;
  /** "revealed", "claimed" (contested a default), "committed" or "none". */
  status: "revealed" | "claimed" | "committed" | "none";
  root: string | null;
  amountAB: bigint | null;
  amountBA: bigint | null;
}

export interface CarrierApprovals {
  carrier: string;
  name: string;
  count: number;
  threshold: number;
  approved: boolean;
  /** Officers whose approval the ledger recorded (OfficerApproved), in order. */
  officers: string[];
}

/** One settlement of the period on the ledger: the figures it settled and what moved between escrows. */
export interface SettlementMove {
  amountAB: bigint;
  amountBA: bigint;
  /** What moved A→B (negative: B→A); after a settlement of the undisputed part, only the remainder. */
  netAB: bigint;
  /** Periods settled in the same transaction (more than 1: a netted batch). */
  batch: number;
  /** Settled by the co-signed fast path (one transaction, nothing revealed). */
  fastPath: boolean;
  tx: string;
}

export interface PeriodView {
  ctx: PeriodContext;
  round: number;
  sides: { A: SideFigures; B: SideFigures };
  /** This node's own summary, when built. */
  local: { root: string; amountAB: bigint; amountBA: bigint; committed: boolean } | null;
  /** Per direction, once both parties stated figures. */
  tolerance: DirectionTest[] | null;
  final: { amountAB: bigint; amountBA: bigint } | null;
  partial: { amountAB: bigint; amountBA: bigint } | null;
  dispute: {
    opener: string | null;
    proposer: string | null;
    proposed: { amountAB: bigint; amountBA: bigint } | null;
    escalatedAt: bigint | null;
    resolution: (typeof RESOLUTIONS)[number];
    resolved: { amountAB: bigint; amountBA: bigint } | null;
    lastActionAt: bigint;
  } | null;
  /** Non-zero deadlines of the current round and dispute, seconds. */
  deadlines: Record<string, bigint>;
  approvals: { final: CarrierApprovals[]; partial: CarrierApprovals[] };
  /**
   * While the node holds the period unrevealed for approvals (both openings reconcile): the figures both
   * carriers approve before the reveal and how far each carrier's officers are (pre-reveal.ts).
   */
  preReveal: PreRevealSigning | null;
  /** Signatures this node gathered that are not on the ledger yet. */
  pendingSignatures: { officer: string; partial: boolean; deadline: bigint }[];
  report: {
    round: number;
    leafCount: number;
    counts: Record<string, number>;
    evidenceCid: string | null;
  } | null;
  /** Both carriers' officers and the arbiter by name (lower-case address → "ACME officer 1"). */
  names: Record<string, string>;
  /** Officers per carrier (lower-case id) in the registry now: the N of the M-of-N rule. */
  officerCounts: Record<string, number>;
  /** What was paid: the undisputed part settled first, then the final settlement (or the fast path). */
  settlement: { partial: SettlementMove | null; final: SettlementMove | null } | null;
}

/** States in which something may have settled: the undisputed part in a dispute, or the whole period. */
const MAY_HAVE_SETTLED = ["Disputed", "Escalated", "Uncontested", "Resolved", "Approved", "Settled"];

/**
 * The period's settlements as the ledger logged them, each with the number of periods its transaction
 * settled (a netted `settleBatch` settles several in one).
 */
async function settlementsOf(chain: ChainClient, ctx: PeriodContext): Promise<PeriodView["settlement"]> {
  if (!MAY_HAVE_SETTLED.includes(ctx.state)) return null;
  const from = chain.deployment.deployBlock;
  const [settled, fast] = await Promise.all([
    chain.ledger.queryFilter(chain.ledger.filters.Settled(ctx.agreementId, ctx.period), from),
    ctx.state === "Settled"
      ? chain.ledger.queryFilter(chain.ledger.filters.FastPathSettled(ctx.agreementId, ctx.period), from)
      : Promise.resolve([]),
  ]);
  const move = async (e: (typeof settled)[number]): Promise<SettlementMove> => {
    const sameBlock = await chain.ledger.queryFilter(
      chain.ledger.filters.Settled(),
      e.blockNumber,
      e.blockNumber,
    );
    return {
      amountAB: e.args.amountAB,
      amountBA: e.args.amountBA,
      netAB: e.args.netAB,
      batch: sameBlock.filter((x) => x.transactionHash === e.transactionHash).length,
      fastPath: false,
      tx: e.transactionHash,
    };
  };
  const partial = settled.find((e) => e.args.partialSettlement);
  const final = settled.find((e) => !e.args.partialSettlement);
  const [fastPath] = fast;
  const finalMove = final
    ? await move(final)
    : fastPath
      ? {
          amountAB: fastPath.args.amountAB,
          amountBA: fastPath.args.amountBA,
          netAB: fastPath.args.amountAB - fastPath.args.amountBA,
          batch: 1,
          fastPath: true,
          tx: fastPath.transactionHash,
        }
      : null;
  const partialMove = partial ? await move(partial) : null;
  return partialMove === null && finalMove === null ? null : { partial: partialMove, final: finalMove };
}

/** One direction's tolerance test, as contracts/libraries/Tolerance.sol (protocol/evaluation.ts). */
export function toleranceTest(
  direction: "AB" | "BA",
  ofA: bigint,
  ofB: bigint,
  bps: number,
  absolute: bigint,
): DirectionTest {
  return { direction, ofA, ofB, ...toleranceCheck(ofA, ofB, bps, absolute) };
}

async function approvalsOf(
  chain: ChainClient,
  ctx: PeriodContext,
  partial: boolean,
  approvedEvents: { carrier: string; signer: string; partial: boolean }[],
): Promise<CarrierApprovals[]> {
  return Promise.all(
    [ctx.terms.carrierA, ctx.terms.carrierB].map(async (carrier) => {
      const p = await chain.ledger.approvalsOf(ctx.agreementId, ctx.period, carrier, partial);
      return {
        carrier,
        name: carrierName(carrier),
        count: Number(p.count),
        threshold: Number(p.threshold),
        approved: p.approved,
        officers: approvedEvents
          .filter((e) => e.carrier === carrier && e.partial === partial)
          .map((e) => e.signer),
      };
    }),
  );
}

/** Reads the view of `period` of a local agreement, or of one this node is not party to (`side` null). */
export async function loadPeriodView(
  db: Database,
  chain: ChainClient,
  // side null: an agreement this node is not party to (a regulator's read); it has no summary or report here.
  agreement: Pick<LocalAgreement, "agreementId" | "name"> & { side: LocalAgreement["side"] | null },
  period: number,
): Promise<PeriodView> {
  const ctx = await loadPeriodContext(chain, agreement, period);
  const { agreementId } = ctx;
  const [record, disputeRecord, deadlines, summary, report] = await Promise.all([
    chain.ledger.periodRecord(agreementId, period),
    chain.ledger.disputeRecord(agreementId, period),
    chain.ledger.deadlines(agreementId, period),
    loadSummary(db, agreementId, period, { leaves: false }),
    loadReport(db, agreementId, period),
  ]);
  const side = (carrier: string, status: bigint, hash: string, ab: bigint, ba: bigint): SideFigures => {
    const stated = status === REVEALED || status === CLAIMED;
    const zero = /^0x0{64}$/.test(hash);
    return {
      carrier,
      name: carrierName(carrier),
      status: status === REVEALED ? "revealed" : status === CLAIMED ? "claimed" : zero ? "none" : "committed",
      root: status === REVEALED ? hash.toLowerCase() : null,
      amountAB: stated ? ab : null,
      amountBA: stated ? ba : null,
    };
  };
  const A = side(
    ctx.terms.carrierA,
    BigInt(record.statusA),
    record.hashA,
    record.amountABofA,
    record.amountBAofA,
  );
  const B = side(
    ctx.terms.carrierB,
    BigInt(record.statusB),
    record.hashB,
    record.amountABofB,
    record.amountBAofB,
  );
  const tolerance =
    A.amountAB !== null && B.amountAB !== null
      ? [
          toleranceTest("AB", A.amountAB, B.amountAB, ctx.terms.toleranceBps, ctx.terms.toleranceAbs),
          toleranceTest("BA", A.amountBA!, B.amountBA!, ctx.terms.toleranceBps, ctx.terms.toleranceAbs),
        ]
      : null;
  const figures = async (partial: boolean) => {
    if ((partial ? PARTIAL_STATES : FINAL_STATES).includes(ctx.state)) {
      const f = await chain.ledger.approvalFigures(agreementId, period, partial);
      return { amountAB: f.amountAB, amountBA: f.amountBA };
    }
    if (partial || (ctx.state !== "Approved" && ctx.state !== "Settled")) return null;
    // Approved or settled: the figures both carriers approved, as the ledger logged them.
    const approved = await chain.ledger.queryFilter(
      chain.ledger.filters.CarrierApproved(agreementId, period),
      chain.deployment.deployBlock,
    );
    const last = approved.filter((e) => !e.args.partialSettlement).at(-1);
    if (last) return { amountAB: last.args.amountAB, amountBA: last.args.amountBA };
    // Settled by the co-signed fast path: the figures both carriers' officers signed.
    const [fast] = await chain.ledger.queryFilter(
      chain.ledger.filters.FastPathSettled(agreementId, period),
      chain.deployment.deployBlock,
    );
    return fast ? { amountAB: fast.args.amountAB, amountBA: fast.args.amountBA } : null;
  };
  // Officers counted below the threshold each have an OfficerApproved; those whose approval reached it are
  // named in the carrier's CarrierApproved.
  const [officerEvents, carrierEvents] = await Promise.all([
    chain.ledger.queryFilter(
      chain.ledger.filters.OfficerApproved(agreementId, period),
      chain.deployment.deployBlock,
    ),
    chain.ledger.queryFilter(
      chain.ledger.filters.CarrierApproved(agreementId, period),
      chain.deployment.deployBlock,
    ),
  ]);
  const at = (e: { blockNumber: number; index: number }) => e.blockNumber * 1_000_000 + e.index;
  const approvedEvents = [
    ...officerEvents.map((e) => ({ at: at(e), carrierId: e.args.carrierId, signers: [e.args.signer], e })),
    ...carrierEvents.map((e) => ({
      at: at(e),
      carrierId: e.args.carrierId,
      signers: [...e.args.officers],
      e,
    })),
  ]
    .sort((x, y) => x.at - y.at)
    .flatMap(({ carrierId, signers, e }) =>
      signers.map((signer) => ({
        carrier: String(carrierId).toLowerCase(),
        signer: String(signer),
        partial: Boolean(e.args.partialSettlement),
      })),
    );
  const opened = disputeRecord.openedAt > 0n;
  const party = (index: bigint) => (index === 1n ? A.name : index === 2n ? B.name : null);
  const deadlineNames = [
    "roundStart",
    "commitDeadline",
    "revealDeadline",
    "reconcileDeadline",
    "defaultDisputeDeadline",
    "responseDeadline",
    "arbitrationDeadline",
    "approvalDeadline",
  ] as const;
  const round = Number(record.round);
  const [people, settlement] = await Promise.all([
    peopleNames(chain.registry, [ctx.terms.carrierA, ctx.terms.carrierB], [ctx.terms.arbiter]),
    settlementsOf(chain, ctx),
  ]);
  const stored = ctx.ourCarrier
    ? [
        ...(await listStoredApprovals(db, ctx, round, false)),
        ...(await listStoredApprovals(db, ctx, round, true)),
      ]
    : [];
  return {
    ctx,
    round,
    sides: { A, B },
    local: summary
      ? {
          root: summary.root,
          amountAB: summary.amountAB,
          amountBA: summary.amountBA,
          committed: summary.committedAt !== null,
        }
      : null,
    tolerance,
    final: await figures(false),
    partial: await figures(true),
    dispute: opened
      ? {
          opener: party(BigInt(disputeRecord.opener)),
          proposer: party(BigInt(disputeRecord.proposer)),
          proposed:
            BigInt(disputeRecord.proposer) === 0n
              ? null
              : { amountAB: disputeRecord.proposedAB, amountBA: disputeRecord.proposedBA },
          escalatedAt: disputeRecord.escalatedAt > 0n ? disputeRecord.escalatedAt : null,
          resolution: RESOLUTIONS[Number(disputeRecord.resolution)] ?? "None",
          resolved:
            Number(disputeRecord.resolution) === 0
              ? null
              : { amountAB: disputeRecord.resolvedAB, amountBA: disputeRecord.resolvedBA },
          lastActionAt: disputeRecord.lastActionAt,
        }
      : null,
    deadlines: Object.fromEntries(
      deadlineNames.map((name) => [name, BigInt(deadlines[name])]).filter(([, value]) => value !== 0n),
    ) as Record<string, bigint>,
    approvals: {
      final: await approvalsOf(chain, ctx, false, approvedEvents),
      partial: await approvalsOf(chain, ctx, true, approvedEvents),
    },
    preReveal: await preRevealSigning(db, chain, ctx),
    pendingSignatures: stored
      .filter((s) => s.submittedTx === null)
      .map((s) => ({
        officer: s.officer,
        partial: s.approval.partialSettlement,
        deadline: s.approval.deadline,
      })),
    report: report
      ? {
          round: report.round,
          leafCount: report.leafCount,
          counts: (report.report as { counts?: Record<string, number> }).counts ?? {},
          evidenceCid: report.evidenceCid,
        }
      : null,
    names: people.names,
    officerCounts: people.officerCounts,
    settlement,
  };
}

/** The agreement-periods this node knows of: its summaries and every period the ledger has a commitment for. */
export async function knownPeriods(
  db: Database,
  chain: ChainClient,
  agreements: readonly Pick<LocalAgreement, "agreementId">[],
): Promise<{ agreementId: string; period: number }[]> {
  const seen = new Map<string, { agreementId: string; period: number }>();
  const add = (agreementId: string, period: number) =>
    seen.set(`${agreementId}:${period}`, { agreementId: agreementId.toLowerCase(), period });
  const { rows } = await db.query<{ agreement_id: string; period: number }>(
    "SELECT agreement_id, period FROM summaries",
  );
  for (const row of rows) add(row.agreement_id, row.period);
  for (const agreement of agreements) {
    const events = await chain.ledger.queryFilter(
      chain.ledger.filters.Committed(agreement.agreementId),
      chain.deployment.deployBlock,
    );
    for (const e of events) add(agreement.agreementId, Number(e.args.period));
  }
  return [...seen.values()].sort((x, y) => y.period - x.period || x.agreementId.localeCompare(y.agreementId));
}
