/**
 * The replay's end state against the contract's own views at the last audited block: every period's
 * derived state (`state`), its stored facts (`periodRecord`, `disputeRecord`) and its reservation
 * (`reservationOf`), every escrow account (`escrowOf`) and its reserved part (`reservedOf`, never more
 * than the escrow) and, per token, Σ escrow against the ledger's token balance. A difference means the
 * event stream does not tell the whole story; the finding names the block and transaction where the
 * missing or altered fact happened when the views' timestamps or the calldata can tell.
 */
import { getAddress } from "ethers";
import { IERC20__factory } from "../../../typechain-types";
import { PERIOD_FLAGS } from "../protocol";
import type { AuditChain } from "./chain";
import type { Place } from "./findings";
import {
  claimOnRecord,
  derivedState,
  OUTCOMES,
  RESOLUTIONS,
  stateName,
  type PeriodModel,
  type Terms,
} from "./model";
import type { Replay } from "./replay";

const ZERO = "0x" + "0".repeat(64);

/** Compares the replay with the views at `chain.toBlock`; adds findings to the replay. */
export async function compareWithViews(
  replay: Replay,
  chain: AuditChain,
): Promise<{ periods: number; escrowAccounts: number; tokens: number }> {
  const blockTag = chain.toBlock;
  const now = await chain.blockTimestamp(blockTag);
  const locate = locator(chain);
  for (const p of replay.periods.values()) {
    const terms = replay.termsFor(p.agreementId, p.period);
    if (terms === undefined) continue;
    await comparePeriod(replay, chain, p, terms, now, locate);
  }
  let accounts = 0;
  await compareReserved(replay, chain);
  for (const account of replay.escrow.values()) {
    accounts++;
    const view = await chain.ledger.escrowOf(account.carrierId, account.token, { blockTag });
    if (view !== account.amount) {
      replay.add(
        "error",
        "escrow-mismatch",
        account.last,
        { agreementId: null, period: null },
        `escrow of ${replay.carrierLabel(account.carrierId)} in ${account.token}: events give ${account.amount}, escrowOf ${view}`,
      );
    }
  }
  const tokens = new Set([...replay.tokens, ...[...replay.escrow.values()].map((a) => a.token)]);
  for (const token of tokens) {
    let sum = 0n;
    for (const carrierId of replay.carriers.keys())
      sum += await chain.ledger.escrowOf(carrierId, token, { blockTag });
    const balance = await IERC20__factory.connect(token, chain.provider).balanceOf(chain.addresses.ledger, {
      blockTag,
    });
    if (balance !== sum) {
      const last = [...replay.escrow.values()].filter((a) => a.token === getAddress(token)).at(-1)?.last;
      const { symbol } = await chain.token(token);
      replay.add(
        balance < sum ? "error" : "warning",
        "escrow-balance-mismatch",
        last ?? { block: blockTag, tx: null },
        { agreementId: null, period: null },
        `Σ escrow in ${symbol} (${token}) is ${sum} but the ledger holds ${balance}` +
          (balance > sum ? " (tokens sent to the ledger outside deposit: not owed to anyone)" : ""),
      );
    }
  }
  return { periods: replay.periods.size, escrowAccounts: accounts, tokens: tokens.size };
}

/**
 * Each carrier's reserved escrow against `reservedOf`, and against its escrow (`escrowOf`): the ledger
 * never reserves more than a carrier holds.
 */
async function compareReserved(replay: Replay, chain: AuditChain): Promise<void> {
  const blockTag = chain.toBlock;
  const keys = new Map<string, { carrierId: string; token: string; last: Place }>();
  for (const a of [...replay.escrow.values(), ...replay.reserved.values()])
    keys.set(`${a.carrierId}|${a.token}`, { carrierId: a.carrierId, token: a.token, last: a.last });
  for (const { carrierId, token, last } of keys.values()) {
    const model = replay.reserved.get(`${carrierId}|${token}`);
    const [reserved, escrow] = await Promise.all([
      chain.ledger.reservedOf(carrierId, token, { blockTag }),
      chain.ledger.escrowOf(carrierId, token, { blockTag }),
    ]);
    const where = { agreementId: null, period: null };
    if (reserved !== (model?.amount ?? 0n)) {
      replay.add(
        "error",
        "reserved-mismatch",
        model?.last ?? last,
        where,
        `reserved of ${replay.carrierLabel(carrierId)} in ${token}: events give ${model?.amount ?? 0n}, reservedOf ${reserved}`,
      );
    }
    if (reserved > escrow) {
      replay.add(
        "error",
        "reserved-exceeds-escrow",
        model?.last ?? last,
        where,
        `${replay.carrierLabel(carrierId)} has ${reserved} reserved in ${token} but only ${escrow} in escrow`,
      );
    }
  }
}

async function comparePeriod(
  replay: Replay,
  chain: AuditChain,
  p: PeriodModel,
  terms: Terms,
  now: number,
  locate: (timestamp: number) => Promise<Place | null>,
): Promise<void> {
  const blockTag = chain.toBlock;
  const where = { agreementId: p.agreementId, period: p.period };
  const [stateView, record, dispute, reservation] = await Promise.all([
    chain.ledger.state(p.agreementId, p.period, { blockTag }),
    chain.ledger.periodRecord(p.agreementId, p.period, { blockTag }),
    chain.ledger.disputeRecord(p.agreementId, p.period, { blockTag }),
    chain.ledger.reservationOf(p.agreementId, p.period, { blockTag }),
  ]);
  const held = p.reservation;
  const rebuilt =
    held === null
      ? "none"
      : `${held.amount} of ${"AB"[held.side]} (${held.partial ? "partial" : "final"}) until ${held.expiresAt}`;
  const viewed =
    reservation.amount === 0n
      ? "none"
      : `${reservation.amount} of ${"?AB"[Number(reservation.payer)]} (${reservation.partialSettlement ? "partial" : "final"}) until ${reservation.expiresAt}`;
  if (rebuilt !== viewed) {
    replay.add(
      "error",
      "reserved-mismatch",
      p.last,
      where,
      `reservation: the events give ${rebuilt}, reservationOf ${viewed}`,
    );
  }
  const a = p.claims[0];
  const b = p.claims[1];
  const [heldA, heldB] = [claimOnRecord(p, 0), claimOnRecord(p, 1)];
  const fields: { name: string; model: unknown; view: unknown; at: Place | null; time?: boolean }[] = [
    {
      name: "hashA",
      model: a ? a.root : (p.commitments[0] ?? ZERO),
      view: record.hashA.toLowerCase(),
      at: a?.at ?? null,
    },
    {
      name: "hashB",
      model: b ? b.root : (p.commitments[1] ?? ZERO),
      view: record.hashB.toLowerCase(),
      at: b?.at ?? null,
    },
    { name: "amountABofA", model: heldA.amountAB, view: record.amountABofA, at: a?.at ?? null },
    { name: "amountBAofA", model: heldA.amountBA, view: record.amountBAofA, at: a?.at ?? null },
    { name: "amountABofB", model: heldB.amountAB, view: record.amountABofB, at: b?.at ?? null },
    { name: "amountBAofB", model: heldB.amountBA, view: record.amountBAofB, at: b?.at ?? null },
    { name: "statusA", model: a?.status ?? 0, view: Number(record.statusA), at: a?.at ?? null },
    { name: "statusB", model: b?.status ?? 0, view: Number(record.statusB), at: b?.at ?? null },
    { name: "round", model: p.round, view: Number(record.round), at: null },
    {
      name: "roundStart",
      model: p.round === 0 ? 0 : p.roundStart,
      view: Number(record.roundStart),
      at: null,
      time: true,
    },
    { name: "evaluatedAt", model: p.evaluatedAt, view: Number(record.evaluatedAt), at: null, time: true },
    { name: "outcome", model: p.outcome, view: OUTCOMES[Number(record.outcome)], at: null },
    { name: "flags", model: flagsOf(p), view: Number(record.flags), at: null },
    {
      name: "dispute.openedAt",
      model: p.dispute.openedAt,
      view: Number(dispute.openedAt),
      at: null,
      time: true,
    },
    {
      name: "dispute.lastActionAt",
      model: p.dispute.lastActionAt,
      view: Number(dispute.lastActionAt),
      at: null,
      time: true,
    },
    {
      name: "dispute.escalatedAt",
      model: p.dispute.escalatedAt,
      view: Number(dispute.escalatedAt),
      at: null,
      time: true,
    },
    { name: "dispute.opener", model: p.dispute.opener, view: Number(dispute.opener), at: null },
    { name: "dispute.proposer", model: p.dispute.proposer, view: Number(dispute.proposer), at: null },
    { name: "dispute.proposals", model: p.dispute.proposals, view: Number(dispute.proposals), at: null },
    {
      name: "dispute.resolution",
      model: p.dispute.resolution,
      view: RESOLUTIONS[Number(dispute.resolution)],
      at: null,
    },
    { name: "dispute.proposedAB", model: p.dispute.proposedAB, view: dispute.proposedAB, at: null },
    { name: "dispute.proposedBA", model: p.dispute.proposedBA, view: dispute.proposedBA, at: null },
    { name: "dispute.resolvedAB", model: p.dispute.resolvedAB, view: dispute.resolvedAB, at: null },
    { name: "dispute.resolvedBA", model: p.dispute.resolvedBA, view: dispute.resolvedBA, at: null },
    {
      name: "dispute.resolvedAt",
      model: p.dispute.resolvedAt,
      view: Number(dispute.resolvedAt),
      at: null,
      time: true,
    },
  ];
  const differing = fields.filter((f) => f.model !== f.view);
  const modelState = derivedState(p, terms, now);
  const viewState = stateName(stateView);
  if (differing.length === 0 && modelState === viewState) return;
  // Where did the chain do what the stream does not show? A timestamp the views hold and the
  // replay lacks is the block of the missing step; an escrow movement without its Settled names its
  // transaction; otherwise the fact's own event, or the period's last event.
  let located: Place | null = null;
  for (const f of differing) {
    if (f.time === true && typeof f.view === "number" && f.view > 0) {
      located = await locate(f.view);
      if (located !== null) break;
    }
  }
  located ??= replay.extras.get(`${p.agreementId}:${p.period}`)?.unexplained ?? null;
  const hint = (at: Place | null) =>
    located !== null && at === null ? " (the block of the step the events lack)" : "";
  if (modelState !== viewState) {
    replay.add(
      "error",
      "state-mismatch",
      located ?? p.last,
      where,
      `the events rebuild ${modelState}, the contract's state() is ${viewState} at block ${blockTag}${hint(null)}`,
    );
  }
  for (const f of differing) {
    replay.add(
      "error",
      "record-mismatch",
      f.at ?? located ?? p.last,
      where,
      `${f.name}: the events give ${String(f.model)}, the contract holds ${String(f.view)}${hint(f.at)}`,
    );
  }
}

function flagsOf(p: PeriodModel): number {
  const F = PERIOD_FLAGS;
  return Number(
    (p.approved[0] ? F.APPROVED_A : 0n) |
      (p.approved[1] ? F.APPROVED_B : 0n) |
      (p.partialApproved[0] ? F.PARTIAL_APPROVED_A : 0n) |
      (p.partialApproved[1] ? F.PARTIAL_APPROVED_B : 0n) |
      (p.partialSettled ? F.PARTIAL_SETTLED : 0n) |
      (p.settled ? F.SETTLED : 0n) |
      (p.disputed ? F.DISPUTED : 0n) |
      (p.tallied ? F.TALLIED : 0n),
  );
}

/**
 * Finds the block with timestamp `t` (block times only grow) and the ledger transaction in it;
 * null when no block has exactly that time.
 */
function locator(chain: AuditChain): (t: number) => Promise<Place | null> {
  return async (t) => {
    let low = chain.fromBlock;
    let high = chain.toBlock;
    while (low < high) {
      const mid = Math.floor((low + high) / 2);
      if ((await chain.blockTimestamp(mid)) < t) low = mid + 1;
      else high = mid;
    }
    if ((await chain.blockTimestamp(low)) !== t) return null;
    const block = await chain.provider.getBlock(low, true);
    const tx = block?.prefetchedTransactions.find(
      (candidate) => candidate.to?.toLowerCase() === chain.addresses.ledger.toLowerCase(),
    );
    return { block: low, tx: tx?.hash ?? null };
  };
}
