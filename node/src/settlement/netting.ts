/**
 * Multilateral netting, off chain and pure: from the periods a `settleBatch` would settle, per token,
 * the gross obligations (one payer → payee amount per period), each carrier's net position, the
 * transfers bilateral settlement would make against the ones the net positions imply, and the escrow
 * top-ups needed before anything can be sent. Mirrors `SettlementLedger.settleBatch`, which moves
 * exactly each carrier's net position (one debit or credit per carrier) and lets a payer spend its
 * available escrow plus the reservations of the periods it pays in the batch, so a plan computed here
 * is what the ledger will do — or, with a top-up listed, why it would revert with
 * `LedgerInsufficientEscrow`. (An Approved period's payer always holds its reservation, so top-ups
 * only show for a settlement that holds none.) All amounts are token units (`bigint`), never floats.
 */

/** One period ready to settle (Approved, or with both partial approvals during a dispute). */
export interface SettleablePeriod {
  agreementId: string;
  /** What people call the agreement (the local name, or the id when this node is not party to it). */
  name: string;
  /** YYYYMM. */
  period: number;
  carrierA: string;
  carrierB: string;
  /** Address of the settlement token. */
  token: string;
  /** Final figures in token units: what A owes B, what B owes A. */
  amountAB: bigint;
  amountBA: bigint;
  /** A→B net a partial settlement already moved (0 without one); the final settlement moves the rest. */
  alreadySettledNet: bigint;
  /** What the payer reserved for this settlement (`reservationOf`), spent before its available escrow. */
  reserved: bigint;
}

/** What one period moves: `amount` (≥ 0) from `payer` to `payee`. */
export interface Obligation {
  agreementId: string;
  name: string;
  period: number;
  payer: string;
  payee: string;
  amount: bigint;
}

export interface Transfer {
  from: string;
  to: string;
  amount: bigint;
}

/** A carrier's net position: positive receives, negative pays. */
export interface Position {
  carrier: string;
  net: bigint;
}

/** A payer whose available escrow and reservations do not cover its net debit. */
export interface TopUp {
  carrier: string;
  needed: bigint;
  available: bigint;
  shortfall: bigint;
}

/** The netting of one token. */
export interface TokenPlan {
  token: string;
  periods: SettleablePeriod[];
  /** One per period, in input order; periods whose net is zero have amount 0 (payer A, payee B). */
  obligations: Obligation[];
  /** Σ of the obligations: what bilateral settlement moves in total. */
  gross: bigint;
  /** Every carrier of the token's periods, by carrier id; the nets sum to zero. */
  positions: Position[];
  /** One transfer per period with a non-zero net. */
  bilateralTransfers: Transfer[];
  /** Debtor → creditor payments implied by the net positions: at most (carriers − 1). */
  nettedTransfers: Transfer[];
  /** Σ of the netted transfers (= Σ of the positive positions). */
  netted: bigint;
  transfersSaved: number;
  /** Payers short of escrow, by carrier id; empty when the batch can be sent. */
  topUps: TopUp[];
}

/** Available escrow of `carrier` in `token` (token units): `escrowOf − reservedOf`. */
export type EscrowLookup = (carrier: string, token: string) => bigint;

const norm = (value: string) => value.toLowerCase();

/** A→B amount the period still moves: final net minus what a partial settlement already moved. */
export function remainingNetAB(period: SettleablePeriod): bigint {
  return period.amountAB - period.amountBA - period.alreadySettledNet;
}

/** Who pays whom for one period (the amount is never negative). */
export function obligationOf(period: SettleablePeriod): Obligation {
  const net = remainingNetAB(period);
  const base = { agreementId: period.agreementId, name: period.name, period: period.period };
  return net >= 0n
    ? { ...base, payer: norm(period.carrierA), payee: norm(period.carrierB), amount: net }
    : { ...base, payer: norm(period.carrierB), payee: norm(period.carrierA), amount: -net };
}

/**
 * Greedy debtor → creditor matching: the largest debtor pays the largest creditor as much as both
 * allow, until every position is zero. Each step clears at least one carrier, so n carriers need at
 * most n − 1 transfers. Ties are broken by carrier id, so the plan is deterministic.
 */
export function settleTransfers(positions: readonly Position[]): Transfer[] {
  const byAmount = (x: { carrier: string; left: bigint }, y: { carrier: string; left: bigint }) =>
    x.left === y.left ? (x.carrier < y.carrier ? -1 : 1) : x.left > y.left ? -1 : 1;
  const debtors = positions.filter((p) => p.net < 0n).map((p) => ({ carrier: p.carrier, left: -p.net }));
  const creditors = positions.filter((p) => p.net > 0n).map((p) => ({ carrier: p.carrier, left: p.net }));
  const transfers: Transfer[] = [];
  for (;;) {
    debtors.sort(byAmount);
    creditors.sort(byAmount);
    const debtor = debtors[0];
    const creditor = creditors[0];
    if (debtor === undefined || creditor === undefined || debtor.left === 0n || creditor.left === 0n) break;
    const amount = debtor.left < creditor.left ? debtor.left : creditor.left;
    transfers.push({ from: debtor.carrier, to: creditor.carrier, amount });
    debtor.left -= amount;
    creditor.left -= amount;
  }
  return transfers;
}

/**
 * Plans the netting of `periods`, one plan per token (tokens are never mixed), tokens in order of
 * first appearance. Carrier ids and token addresses are compared case-insensitively and returned in
 * lower case. `escrowOf` gives each payer's available balance for the top-ups; the reservations of the
 * periods it pays come on top.
 * @throws RangeError when the positions of a token do not sum to zero (cannot happen for valid input).
 */
export function planNetting(periods: readonly SettleablePeriod[], escrowOf: EscrowLookup): TokenPlan[] {
  const byToken = new Map<string, SettleablePeriod[]>();
  for (const period of periods) {
    const token = norm(period.token);
    const list = byToken.get(token) ?? [];
    list.push(period);
    byToken.set(token, list);
  }
  return [...byToken].map(([token, list]) => planToken(token, list, escrowOf));
}

/** The positions split by connected component of the graph of non-zero obligations. */
function components(positions: readonly Position[], edges: readonly Transfer[]): Position[][] {
  const parent = new Map<string, string>(positions.map((p) => [p.carrier, p.carrier]));
  const root = (carrier: string): string => {
    let r = carrier;
    while (parent.get(r) !== r) r = parent.get(r) ?? r;
    parent.set(carrier, r);
    return r;
  };
  for (const edge of edges) parent.set(root(edge.from), root(edge.to));
  const groups = new Map<string, Position[]>();
  for (const p of positions) {
    const key = root(p.carrier);
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  return [...groups.values()];
}

function planToken(token: string, periods: SettleablePeriod[], escrowOf: EscrowLookup): TokenPlan {
  const obligations = periods.map(obligationOf);
  const nets = new Map<string, bigint>();
  for (const o of obligations) {
    nets.set(o.payer, (nets.get(o.payer) ?? 0n) - o.amount);
    nets.set(o.payee, (nets.get(o.payee) ?? 0n) + o.amount);
  }
  const positions = [...nets]
    .map(([carrier, net]) => ({ carrier, net }))
    .sort((x, y) => (x.carrier < y.carrier ? -1 : x.carrier > y.carrier ? 1 : 0));
  if (positions.reduce((sum, p) => sum + p.net, 0n) !== 0n) {
    throw new RangeError(`net positions of token ${token} do not sum to zero`);
  }
  const bilateralTransfers = obligations
    .filter((o) => o.amount > 0n)
    .map((o) => ({ from: o.payer, to: o.payee, amount: o.amount }));
  // Matched within each connected group of trading carriers: within a group of n carriers bilateral
  // settlement needs at least n − 1 transfers and the greedy at most n − 1, so netting never adds any.
  const nettedTransfers = components(positions, bilateralTransfers).flatMap(settleTransfers);
  const reservedBy = new Map<string, bigint>();
  for (const [i, o] of obligations.entries())
    reservedBy.set(o.payer, (reservedBy.get(o.payer) ?? 0n) + periods[i]!.reserved);
  const topUps: TopUp[] = [];
  for (const p of positions) {
    if (p.net >= 0n) continue;
    const needed = -p.net;
    const available = escrowOf(p.carrier, token) + (reservedBy.get(p.carrier) ?? 0n);
    if (available < needed)
      topUps.push({ carrier: p.carrier, needed, available, shortfall: needed - available });
  }
  return {
    token,
    periods,
    obligations,
    gross: obligations.reduce((sum, o) => sum + o.amount, 0n),
    positions,
    bilateralTransfers,
    nettedTransfers,
    netted: nettedTransfers.reduce((sum, t) => sum + t.amount, 0n),
    transfersSaved: bilateralTransfers.length - nettedTransfers.length,
    topUps,
  };
}
