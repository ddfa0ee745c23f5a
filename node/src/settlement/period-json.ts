/**
 * One period's view as scripts and the API read it, and its figures in the FX table's reference
 * currency: shared by `icl period show --json` and `GET /api/v1/periods/:agreement/:period`.
 */
import { toReference, type FxTable } from "./fx";
import type { PeriodView } from "./period-view";

/** The view as `icl period show --json` prints it and the API answers it, before bigints become strings. */
export function periodViewJson(view: PeriodView) {
  const { ctx, ...rest } = view;
  return {
    agreement: ctx.name,
    agreementId: ctx.agreementId,
    period: ctx.period,
    state: ctx.state,
    side: ctx.side,
    token: ctx.token,
    terms: ctx.terms,
    chainTime: ctx.chainNow,
    ...rest,
  };
}

/** The final (else this node's) figures in the FX table's reference currency, as `icl period show`. */
export function periodReference(view: PeriodView, fx: FxTable | null) {
  const figures = view.final ?? view.local;
  if (fx === null || figures === null) return null;
  const convert = (amount: bigint) =>
    toReference(fx, {
      currency: view.ctx.token.symbol,
      decimals: view.ctx.token.decimals,
      amount,
      period: view.ctx.period,
    });
  const [ab, ba] = [convert(figures.amountAB), convert(figures.amountBA)];
  if (ab === null || ba === null) return null;
  return {
    currency: fx.reference,
    of: view.final ? "final figures" : "this node's figures",
    amountAB: ab.amount,
    amountBA: ba.amount,
    rate: ab.rate,
  };
}
