/**
 * The node's agreement-periods as the gateway and the CLI ask for them: the list, one period's view
 * (with the fast path's signing while the node leaves the period to it), the discrepancy report, and
 * closing a period. The ledger is passed to each call that reads it: a gateway may run without one.
 */
import type { ChainClient } from "../chain/client";
import { listAgreements, requireAgreement, type LocalAgreement } from "../db/agreements";
import type { Database } from "../db/database";
import { loadReport, type StoredReport } from "../db/reports";
import type { ResolvedConfig } from "../config/config";
import type { PeriodStateName } from "../protocol";
import { closePeriod, type ClosedPeriod, type CloseMode } from "../reconciliation/close-period";
import { fastPathSigningIfOpen, type FastPathSigning } from "../settlement/cosign-status";
import { loadFxTable, type FxTable } from "../settlement/fx";
import type { PeriodContext } from "../settlement/period-context";
import { knownPeriods, loadPeriodView, type PeriodView } from "../settlement/period-view";
import {
  ledgerPeriods,
  requirePeriodOnLedger,
  resolveAgreement,
  type AgreementScope,
  type NamedAgreement,
} from "./ledger-periods";

export interface PeriodsService {
  /**
   * The agreement-periods this node knows of: its summaries and every period the ledger has a
   * commitment for. @throws BaseError when the chain or the database cannot be read.
   */
  known(chain: ChainClient): Promise<{ agreementId: string; period: number }[]>;
  /**
   * Every period this node built a summary for or the ledger holds a commitment for, each as
   * {@link PeriodsService.view} gives it; only those in `state` when given. With `outsiders`, also every
   * period of the other carriers' agreements the ledger has a record of ({@link ledgerPeriods}), read
   * from the chain alone.
   * @throws BaseError when the chain or the database cannot be read.
   */
  list(chain: ChainClient, options?: { state?: PeriodStateName } & AgreementScope): Promise<PeriodView[]>;
  /**
   * One period: figures, tolerance test, dispute, deadlines, approvals. With `outsiders`, also a period of
   * an agreement this node is not party to, by its 0x id, read from the ledger alone (see
   * {@link resolveAgreement}).
   * @throws NotFoundError for an agreement this node does not know (with `outsiders`: nor the ledger), and
   * for a month the agreement has no period for ({@link requirePeriodOnLedger}); BaseError when the chain
   * or the database cannot be read.
   */
  view(chain: ChainClient, agreement: string, period: number, scope?: AgreementScope): Promise<PeriodView>;
  /**
   * The Settlement its officers sign and their progress, while this node leaves the period to the
   * co-signed fast path (`settlement.fastPath` of the config); else null.
   * @throws BaseError when the chain or the database cannot be read.
   */
  fastPathSigning(chain: ChainClient, ctx: PeriodContext): Promise<FastPathSigning | null>;
  /** The config's FX table (`settlement.fx`), for reference amounts; null without one. @throws InputError for a bad table. */
  fxTable(): FxTable | null;
  /**
   * The agreement and the discrepancy report of a round (default: the latest); `report` null when none.
   * @throws NotFoundError for an agreement this node does not know.
   */
  report(
    agreement: string,
    period: number,
    round?: number,
  ): Promise<{ agreement: LocalAgreement; report: StoredReport | null }>;
  /**
   * Closes the period (see {@link closePeriod}); `chain` may open the ledger on first use.
   * @throws NotFoundError for an unknown agreement, and what {@link closePeriod} throws.
   */
  close(
    agreement: string,
    period: number,
    mode: CloseMode,
    chain: ChainClient | (() => Promise<ChainClient>) | null,
  ): Promise<ClosedPeriod & { agreement: LocalAgreement }>;
}

/** The periods service of a node on `db` with `config`. Throws nothing. */
export function periodsService(db: Database, config: ResolvedConfig): PeriodsService {
  return {
    known: async (chain) => knownPeriods(db, chain, await listAgreements(db)),
    async list(chain, options = {}) {
      const agreements = await listAgreements(db);
      const byId = new Map<string, NamedAgreement>(agreements.map((a) => [a.agreementId, a]));
      const periods = await knownPeriods(db, chain, agreements);
      if (options.outsiders) {
        const own = new Set(periods.map((p) => `${p.agreementId}:${p.period}`));
        for (const p of await ledgerPeriods(chain)) {
          if (own.has(`${p.agreementId}:${p.period}`)) continue;
          if (!byId.has(p.agreementId))
            byId.set(p.agreementId, await resolveAgreement(db, chain, p.agreementId, options));
          periods.push(p);
        }
        periods.sort((x, y) => y.period - x.period || x.agreementId.localeCompare(y.agreementId));
      }
      const views: PeriodView[] = [];
      for (const { agreementId, period } of periods) {
        const agreement = byId.get(agreementId);
        if (!agreement) continue;
        const view = await loadPeriodView(db, chain, agreement, period);
        if (options.state !== undefined && view.ctx.state !== options.state) continue;
        views.push(view);
      }
      return views;
    },
    async view(chain, ref, period, scope = {}) {
      const agreement = await resolveAgreement(db, chain, ref, scope);
      await requirePeriodOnLedger(chain, agreement, period);
      return loadPeriodView(db, chain, agreement, period);
    },
    fastPathSigning: (chain, ctx) => fastPathSigningIfOpen(db, chain, ctx, config.config.settlement.fastPath),
    fxTable: () => loadFxTable(config),
    async report(ref, period, round) {
      const agreement = await requireAgreement(db, ref);
      return { agreement, report: await loadReport(db, agreement.agreementId, period, round) };
    },
    async close(ref, period, mode, chain) {
      const agreement = await requireAgreement(db, ref);
      const closing = { db, chain, fastPath: config.config.settlement.fastPath };
      return { agreement, ...(await closePeriod(closing, agreement, period, mode)) };
    },
  };
}
