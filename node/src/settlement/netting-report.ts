/**
 * A netting plan as people and scripts read it: amounts as decimals of the token, carriers by name,
 * and (with an FX table) a reference-currency column where each period is converted at its own
 * month's rate. `icl settle` prints it; other reports can reuse it.
 */
import { table } from "../cli/format";
import { formatMicros, formatScaled } from "../money/decimal";
import { formatPeriod } from "../reconciliation/reveal";
import { carrierName, type ListedToken } from "./escrow-tokens";
import { toReference, type FxTable } from "./fx";
import type { TokenPlan } from "./netting";
import type { EscrowAccount } from "./reservations";

/**
 * The JSON shape of a plan. `balances` holds each carrier's escrow, reserved and available balance by
 * `token:carrier` (lower case); `fx` may be null.
 */
export function planView(
  p: TokenPlan,
  token: ListedToken,
  balances: Map<string, EscrowAccount>,
  fx: FxTable | null,
) {
  const amount = (value: bigint) => formatScaled(value, token.decimals);
  const warnings: string[] = [];
  const reference = (value: bigint, period: number) => {
    if (fx === null) return null;
    const converted = toReference(fx, {
      currency: token.symbol,
      decimals: token.decimals,
      amount: value,
      period,
    });
    if (converted === null)
      warnings.push(`no ${token.symbol} rate on or before the end of ${formatPeriod(period)}`);
    return converted;
  };
  const periods = p.obligations.map((o) => {
    const ref = reference(o.amount, o.period);
    return {
      agreement: o.name,
      agreementId: o.agreementId,
      period: formatPeriod(o.period),
      payer: carrierName(o.payer),
      payee: carrierName(o.payee),
      amount: amount(o.amount),
      reference: ref === null ? null : { amount: formatMicros(ref.amount), rate: ref.rate },
    };
  });
  // A carrier's position in the reference currency: each period converted at its own month's rate.
  const refNet = new Map<string, bigint | null>();
  let refGross: bigint | null = fx === null ? null : 0n;
  for (const o of p.obligations) {
    const ref =
      fx === null
        ? null
        : toReference(fx, {
            currency: token.symbol,
            decimals: token.decimals,
            amount: o.amount,
            period: o.period,
          });
    const add = (carrier: string, sign: bigint) => {
      const before = refNet.has(carrier) ? refNet.get(carrier)! : 0n;
      refNet.set(carrier, before === null || ref === null ? null : before + sign * ref.amount);
    };
    add(o.payer, -1n);
    add(o.payee, 1n);
    refGross = refGross === null || ref === null ? null : refGross + ref.amount;
  }
  const account = (carrier: string): EscrowAccount =>
    balances.get(`${p.token}:${carrier}`) ?? { escrow: 0n, reserved: 0n, available: 0n };
  const escrow = (carrier: string) => account(carrier).escrow;
  return {
    token: token.symbol,
    tokenAddress: token.address,
    decimals: token.decimals,
    referenceCurrency: fx?.reference ?? null,
    periods,
    gross: amount(p.gross),
    grossReference: refGross === null ? null : formatMicros(refGross),
    positions: p.positions.map((pos) => {
      const ref = refNet.get(pos.carrier);
      return {
        carrier: carrierName(pos.carrier),
        carrierId: pos.carrier,
        net: amount(pos.net),
        escrow: amount(escrow(pos.carrier)),
        reserved: amount(account(pos.carrier).reserved),
        escrowAfter: amount(escrow(pos.carrier) + pos.net),
        netReference: ref === undefined || ref === null ? null : formatMicros(ref),
      };
    }),
    bilateralTransfers: p.bilateralTransfers.length,
    nettedTransfers: p.nettedTransfers.map((t) => ({
      from: carrierName(t.from),
      to: carrierName(t.to),
      amount: amount(t.amount),
    })),
    netted: amount(p.netted),
    transfersSaved: p.transfersSaved,
    topUps: p.topUps.map((t) => ({
      carrier: carrierName(t.carrier),
      carrierId: t.carrier,
      needed: amount(t.needed),
      available: amount(t.available),
      shortfall: amount(t.shortfall),
    })),
    warnings: [...new Set(warnings)],
  };
}

export type PlanView = ReturnType<typeof planView>;

/** The plan as text: periods, gross, net positions with escrow, transfers, top-ups. */
export function renderPlan(view: PlanView, title: string): string {
  const ref = view.referenceCurrency;
  const refCell = (value: string | null | undefined) =>
    value === null || value === undefined ? "n/a" : value;
  const lines = [
    `${title} in ${view.token} (${view.tokenAddress}), ${view.periods.length} period${view.periods.length === 1 ? "" : "s"}:`,
    "",
    table(
      ["agreement", "period", "payer", "payee", `amount ${view.token}`, ...(ref ? [ref] : [])],
      view.periods.map((row) => [
        row.agreement,
        row.period,
        row.payer,
        row.payee,
        row.amount,
        ...(ref ? [refCell(row.reference?.amount)] : []),
      ]),
    ),
    `Gross obligations: ${view.gross} ${view.token}${ref ? ` (${refCell(view.grossReference)} ${ref})` : ""}`,
    "",
    "Net positions (negative pays, positive receives):",
    table(
      ["carrier", `net ${view.token}`, "escrow", "reserved", "escrow after", ...(ref ? [`net ${ref}`] : [])],
      view.positions.map((row) => [
        row.carrier,
        row.net,
        row.escrow,
        row.reserved,
        row.escrowAfter,
        ...(ref ? [refCell(row.netReference)] : []),
      ]),
    ),
    `Transfers: bilateral ${view.bilateralTransfers}, netted ${view.nettedTransfers.length}; ` +
      `transfers saved: ${view.transfersSaved}`,
    ...view.nettedTransfers.map((t) => `  ${t.from} → ${t.to}  ${t.amount} ${view.token}`),
  ];
  if (view.topUps.length > 0) {
    lines.push(
      "Escrow top-ups needed before this can settle:",
      ...view.topUps.map(
        (t) =>
          `  ${t.carrier}: deposit ${t.shortfall} ${view.token} (needs ${t.needed}, can spend ${t.available})`,
      ),
    );
  } else {
    lines.push("Escrow: every payer's reservations and available escrow cover its net debit.");
  }
  for (const warning of view.warnings) lines.push(`Warning: ${warning} (reference column shows n/a)`);
  return lines.join("\n") + "\n";
}
