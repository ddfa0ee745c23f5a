/**
 * The last closed month at a glance: for each partner and direction, the calls, billed seconds and
 * amount of the summary this node froze when it closed the period. These are the figures the node
 * committed (or left to the fast path), not a recount of the CDRs, so the dashboard and the ledger
 * never disagree about what was closed.
 */
import type { ChainClient } from "../chain/client";
import { tokenInfo } from "../chain/display";
import { listAgreements } from "../db/agreements";
import type { Database } from "../db/database";
import { lastClosedTotals } from "../db/summaries";
import { listDecks } from "../db/tariffs";
import { agreementTerms } from "../settlement/period-context";

/** One partner and direction of the last closed month (amount in micro-units of `currency`). */
export interface PartnerMonthTotals {
  agreement: string;
  agreementId: string;
  partner: string;
  /** `out`: this carrier hands the calls to the partner (and owes); `in`: the partner hands them to us. */
  direction: "in" | "out";
  calls: bigint;
  billedSeconds: bigint;
  amount: bigint;
  /** The agreement's settlement token when the chain is known, else the tariff deck's currency. */
  currency: string | null;
}

export interface MonthTotalsService {
  /**
   * The latest period any agreement of this node was closed for, and its totals per partner and
   * direction; `period` null before the first close.
   * @throws BaseError when the database (or, given one, the chain) cannot be read.
   */
  lastClosed(chain: ChainClient | null): Promise<{ period: number | null; totals: PartnerMonthTotals[] }>;
}

/** The month totals of a node on `db`. Throws nothing. */
export function monthTotalsService(db: Database): MonthTotalsService {
  return {
    async lastClosed(chain) {
      const { period, totals } = await lastClosedTotals(db);
      if (period === null) return { period, totals: [] };
      const names = new Map((await listAgreements(db)).map((a) => [a.agreementId, a.name]));
      const decks = (await listDecks(db)).filter((deck) => deck.active);
      const tokens = new Map<string, string>();
      const currencyOf = async (agreementId: string, partner: string, direction: "in" | "out") => {
        if (chain === null) {
          return decks.find((d) => d.partner === partner && d.direction === direction)?.currency ?? null;
        }
        let symbol = tokens.get(agreementId);
        if (symbol === undefined) {
          const terms = await agreementTerms(chain, agreementId, period);
          symbol = (await tokenInfo(chain, terms.token)).symbol;
          tokens.set(agreementId, symbol);
        }
        return symbol;
      };
      const rows: PartnerMonthTotals[] = [];
      for (const t of totals) {
        // A→B traffic is A's calls terminated by B: side A hands it out, side B takes it in.
        const direction = (t.direction === "AB") === (t.side === "A") ? "out" : "in";
        rows.push({
          agreement: names.get(t.agreementId) ?? t.agreementId,
          agreementId: t.agreementId,
          partner: t.partnerId,
          direction,
          calls: t.records,
          billedSeconds: t.billedSeconds,
          amount: t.amount,
          currency: await currencyOf(t.agreementId, t.partnerId, direction),
        });
      }
      // Per partner, what we hand out before what we take in, whichever side of the agreement we are.
      rows.sort(
        (x, y) =>
          x.partner.localeCompare(y.partner) ||
          x.agreement.localeCompare(y.agreement) ||
          (x.direction === "out" ? 0 : 1) - (y.direction === "out" ? 0 : 1),
      );
      return { period, totals: rows };
    },
  };
}
