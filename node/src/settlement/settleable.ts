/**
 * Which periods can settle now, read from the ledger. Candidates come from the indexed events, not
 * from this node's agreements: a netting batch may settle any carriers' Approved periods (settlement
 * is callable by anyone), so every `CarrierApproved` (final) not followed by a final `Settled` is a
 * candidate; each is then checked against the ledger's current state and terms.
 */
import type { ChainClient } from "../chain/client";
import { BINDING_STATES, PERIOD_STATES, type PeriodStateName, PERIOD_FLAGS } from "../protocol";
import { listAgreements } from "../db/agreements";
import { listChainEvents } from "../db/chain-store";
import type { Database } from "../db/database";
import { ConflictError } from "../errors";
import { formatPeriod } from "../reconciliation/reveal";
import { chainCall } from "./escrow-tokens";
import type { SettleablePeriod } from "./netting";
import { partialNet, payerOf, readReservation } from "./reservations";

const { PARTIAL_APPROVED_A, PARTIAL_APPROVED_B, PARTIAL_SETTLED } = PERIOD_FLAGS;

/** Names of the agreements this node knows, by lower-case id; others show as a shortened id. */
export async function agreementNamer(db: Database): Promise<(agreementId: string) => string> {
  const names = new Map((await listAgreements(db)).map((a) => [a.agreementId.toLowerCase(), a.name]));
  return (agreementId) => names.get(agreementId.toLowerCase()) ?? `${agreementId.slice(0, 10)}…`;
}

async function periodStateName(
  chain: ChainClient,
  agreementId: string,
  period: number,
): Promise<PeriodStateName> {
  const index = await chainCall("state", () => chain.ledger.state(agreementId, period));
  return PERIOD_STATES[Number(index)] ?? "Pending";
}

async function loadPeriod(
  chain: ChainClient,
  key: { agreementId: string; period: number; name: string; amountAB: bigint; amountBA: bigint },
  partial: boolean,
): Promise<SettleablePeriod> {
  const [terms] = await chainCall("termsAt", () => chain.book.termsAt(key.agreementId, key.period));
  const record = await chainCall("periodRecord", () =>
    chain.ledger.periodRecord(key.agreementId, key.period),
  );
  const alreadySettledNet = partial
    ? 0n
    : partialNet({
        flags: BigInt(record.flags),
        amountABofA: record.amountABofA,
        amountABofB: record.amountABofB,
        amountBAofA: record.amountBAofA,
        amountBAofB: record.amountBAofB,
      });
  // What the payer reserved for this settlement: the settlement spends it before any available escrow.
  const reservation = await readReservation(chain, terms, key.agreementId, key.period);
  const { payer } = payerOf(terms, key.amountAB, key.amountBA, alreadySettledNet);
  const reserved =
    reservation.partialSettlement === partial && payer !== null && reservation.payer === payer
      ? reservation.amount
      : 0n;
  return {
    agreementId: key.agreementId.toLowerCase(),
    name: key.name,
    period: key.period,
    carrierA: terms.carrierA.toLowerCase(),
    carrierB: terms.carrierB.toLowerCase(),
    token: terms.token.toLowerCase(),
    amountAB: key.amountAB,
    amountBA: key.amountBA,
    alreadySettledNet,
    reserved,
  };
}

/** Final figures of every period some carrier approved, from the index (latest approval wins). */
async function approvedFigures(
  chain: ChainClient,
  db: Database,
  filter: { agreementId?: string; period?: number } = {},
): Promise<Map<string, { agreementId: string; period: number; amountAB: bigint; amountBA: bigint }>> {
  const base = { chainId: chain.chainId, ...filter };
  const figures = new Map<
    string,
    { agreementId: string; period: number; amountAB: bigint; amountBA: bigint }
  >();
  for (const event of await listChainEvents(db, { ...base, name: "CarrierApproved" })) {
    if (event.args.partialSettlement === true || event.agreementId === null || event.period === null)
      continue;
    figures.set(`${event.agreementId.toLowerCase()}:${event.period}`, {
      agreementId: event.agreementId.toLowerCase(),
      period: event.period,
      amountAB: BigInt(String(event.args.amountAB)),
      amountBA: BigInt(String(event.args.amountBA)),
    });
  }
  for (const event of await listChainEvents(db, { ...base, name: "Settled" })) {
    if (event.args.partialSettlement === true || event.agreementId === null) continue;
    figures.delete(`${event.agreementId.toLowerCase()}:${event.period}`);
  }
  return figures;
}

/**
 * Every Approved period on the ledger (of any carriers), optionally only those settling in `token`,
 * ordered by period then agreement id. Syncs the event index first.
 * @throws UnavailableError when the chain node is unreachable.
 */
export async function findSettleable(
  chain: ChainClient,
  db: Database,
  options: { token?: string; name?: (agreementId: string) => string } = {},
): Promise<SettleablePeriod[]> {
  await chain.indexer.sync();
  const name = options.name ?? (await agreementNamer(db));
  const found: SettleablePeriod[] = [];
  for (const key of (await approvedFigures(chain, db)).values()) {
    if ((await periodStateName(chain, key.agreementId, key.period)) !== "Approved") continue;
    const period = await loadPeriod(chain, { ...key, name: name(key.agreementId) }, false);
    if (options.token === undefined || period.token === options.token.toLowerCase()) found.push(period);
  }
  return found.sort((x, y) =>
    x.period !== y.period ? x.period - y.period : x.agreementId < y.agreementId ? -1 : 1,
  );
}

/** What `icl settle AGREEMENT PERIOD` would settle. */
export interface SettleStep {
  /**
   * `settle` for an Approved period or a binding outcome past its approval deadline; `settlePartial` for
   * the undisputed part during a dispute.
   */
  kind: "settle" | "settlePartial";
  state: PeriodStateName;
  period: SettleablePeriod;
}

/**
 * The settlement one period allows now: the final one when Approved, or when Uncontested or Resolved
 * and its approval deadline has passed (the outcome binds without approvals); the partial one when both
 * carriers approved the undisputed part during Disputed/Escalated (and it has not moved yet).
 * @throws ConflictError naming the state otherwise ("period ACME-GLOBEX 2026-10 is Mismatched; settle
 * needs Approved"); UnavailableError when the chain node is unreachable.
 */
export async function settleStep(
  chain: ChainClient,
  db: Database,
  key: { agreementId: string; period: number; name: string },
): Promise<SettleStep> {
  const state = await periodStateName(chain, key.agreementId, key.period);
  if (state === "Approved") {
    await chain.indexer.sync();
    const figures = (
      await approvedFigures(chain, db, { agreementId: key.agreementId.toLowerCase(), period: key.period })
    ).get(`${key.agreementId.toLowerCase()}:${key.period}`);
    if (figures === undefined)
      throw new ConflictError(`no final approval of ${key.name} ${formatPeriod(key.period)} is indexed`);
    return { kind: "settle", state, period: await loadPeriod(chain, { ...key, ...figures }, false) };
  }
  if (BINDING_STATES.includes(state)) {
    const [{ approvalDeadline }, block] = await Promise.all([
      chainCall("deadlines", () => chain.ledger.deadlines(key.agreementId, key.period)),
      chainCall("getBlock", () => chain.provider.getBlock("latest")),
    ]);
    if (block === null || BigInt(block.timestamp) <= approvalDeadline) {
      throw new ConflictError(
        `period ${key.name} ${formatPeriod(key.period)} is ${state}: it settles once both carriers ` +
          `approve, or without approvals after ${new Date(Number(approvalDeadline) * 1000).toISOString()}`,
      );
    }
    const [amountAB, amountBA] = await chainCall("approvalFigures", () =>
      chain.ledger.approvalFigures(key.agreementId, key.period, false),
    );
    return { kind: "settle", state, period: await loadPeriod(chain, { ...key, amountAB, amountBA }, false) };
  }
  if (state === "Disputed" || state === "Escalated") {
    const record = await chainCall("periodRecord", () =>
      chain.ledger.periodRecord(key.agreementId, key.period),
    );
    const flags = BigInt(record.flags);
    const where = `period ${key.name} ${formatPeriod(key.period)} is ${state}`;
    if ((flags & PARTIAL_SETTLED) !== 0n) {
      throw new ConflictError(
        `${where} and its undisputed part is already settled; the rest settles once Approved`,
      );
    }
    const a = (flags & PARTIAL_APPROVED_A) !== 0n;
    const b = (flags & PARTIAL_APPROVED_B) !== 0n;
    if (!a || !b) {
      throw new ConflictError(
        `${where}; settle needs Approved, or both carriers' approval of the undisputed part ` +
          `(A ${a ? "approved" : "not yet"}, B ${b ? "approved" : "not yet"})`,
      );
    }
    const [amountAB, amountBA] = await chainCall("approvalFigures", () =>
      chain.ledger.approvalFigures(key.agreementId, key.period, true),
    );
    return {
      kind: "settlePartial",
      state,
      period: await loadPeriod(chain, { ...key, amountAB, amountBA }, true),
    };
  }
  throw new ConflictError(
    `period ${key.name} ${formatPeriod(key.period)} is ${state}; settle needs Approved, or ` +
      `${BINDING_STATES.join(" or ")} past its approval deadline`,
  );
}
