/**
 * Settlement as the node's treasury sees it: the netting plan of every Approved period per token
 * (`icl settle --netting --dry-run`), this carrier's escrow with its net position (`icl escrow
 * balance`), and one period's settlement, planned (`icl settle AGREEMENT PERIOD --dry-run`) and sent
 * with the node key (`icl settle AGREEMENT PERIOD`, the console's Settle).
 */
import type { ChainClient } from "../chain/client";
import type { LoadedDeployment } from "../chain/deployment";
import type { ResolvedConfig } from "../config/config";
import type { Database } from "../db/database";
import { escrowPositions, type EscrowPosition } from "../settlement/escrow";
import { listedTokens, resolveToken, tokenOf, type ListedToken } from "../settlement/escrow-tokens";
import { loadFxTable } from "../settlement/fx";
import { planView } from "../settlement/netting-report";
import { ConflictError, UnavailableError } from "../errors";
import { PERIOD_STATES, type PeriodStateName } from "../protocol";
import { settleRequest } from "../settlement/settle-requests";
import {
  escrowAfter,
  escrowBalances,
  planAgainst,
  requireSent,
  topUpRefusal,
} from "../settlement/settle-plan";
import { findSettleable, settleStep, type SettleStep } from "../settlement/settleable";
import { chainCall } from "../settlement/escrow-tokens";

/** An agreement-period to settle: any agreement's (settlement is callable by anyone), by id. */
export interface SettlementKey {
  agreementId: string;
  /** How the agreement is shown: its local name, else a shortened id. */
  name: string;
  period: number;
}

/** One period's settlement as it would be sent now. */
export interface SettlementPreview {
  /** `settle` (the final figures) or `settlePartial` (the undisputed part). */
  kind: SettleStep["kind"];
  state: PeriodStateName;
  /** Who pays whom, each payer's escrow and the top-ups needed first (`topUps` empty: it can be sent). */
  plan: ReturnType<typeof planView>;
}

/** One period's settlement, sent and confirmed. */
export interface SettlementSent extends SettlementPreview {
  transaction: { txHash: string; blockNumber: bigint; gasUsed: bigint };
  /** Each carrier's escrow in the token afterwards, formatted, by carrier name. */
  escrowAfter: Record<string, string>;
}

export interface SettlementService {
  /**
   * The tokens the ledger lists (the deployment's own first, when the chain client was opened from a
   * deployment file), the event index brought up to date first.
   * @throws UnavailableError when the chain cannot be read.
   */
  tokens(chain: ChainClient): Promise<ListedToken[]>;
  /**
   * The netting plan per token of every Approved period (`token`: only that one, by symbol or address),
   * as `icl settle --netting --dry-run --json` shows each plan.
   * @throws NotFoundError for a token the ledger does not list; UnavailableError when the chain cannot be read.
   */
  plan(chain: ChainClient, token?: string): Promise<ReturnType<typeof planView>[]>;
  /**
   * `carrierId`'s escrow per listed token (`token`: only that one) and its net position in Approved
   * periods not yet settled.
   * @throws NotFoundError for a token the ledger does not list; UnavailableError when the chain cannot be read.
   */
  escrow(chain: ChainClient, carrierId: string, token?: string): Promise<EscrowPosition[]>;
  /**
   * The settlement the period allows now and its plan; nothing is sent.
   * @throws ConflictError naming the state when the period cannot be settled now; UnavailableError when
   * the chain cannot be read.
   */
  preview(chain: ChainClient, key: SettlementKey): Promise<SettlementPreview>;
  /**
   * Sends the period's settlement with the node key, once per idempotency key (a second call finds the
   * first's transaction), and waits for it.
   * @throws ConflictError when the period cannot be settled now or a payer's escrow is short (nothing is
   * sent); UnavailableError (code `NO_NODE_KEY`) for a node without a key, or when the chain cannot be
   * read; BaseError (code `TX_REVERTED`) when the transaction reverted.
   */
  settle(chain: ChainClient, key: SettlementKey): Promise<SettlementSent>;
}

/** The deployment's own token when the chain client was opened from a deployment file (`icl run`). */
function deploymentToken(chain: ChainClient): Pick<LoadedDeployment, "token"> | undefined {
  const deployment = chain.deployment as Partial<LoadedDeployment>;
  return deployment.token ? { token: deployment.token } : undefined;
}

/** The settlement service of a node on `db` with `config`. Throws nothing. */
export function settlementService(db: Database, config: ResolvedConfig): SettlementService {
  const tokens = async (chain: ChainClient) => {
    await chain.indexer.sync();
    return listedTokens(chain, db, deploymentToken(chain));
  };
  return {
    tokens,
    async plan(chain, token) {
      const listed = await tokens(chain);
      const only = token === undefined ? undefined : resolveToken(listed, token).address;
      const periods = await findSettleable(chain, db, { token: only });
      const balances = await escrowBalances(chain, periods);
      const fx = loadFxTable(config);
      return planAgainst(periods, balances).map((p) => planView(p, tokenOf(listed, p.token), balances, fx));
    },
    async escrow(chain, carrierId, token) {
      const listed = await tokens(chain);
      const chosen = token === undefined ? listed : [resolveToken(listed, token)];
      return escrowPositions(chain, db, carrierId, chosen);
    },
    preview,
    async settle(chain, key) {
      const planned = await preview(chain, key);
      if (planned.plan.topUps.length > 0) throw topUpRefusal([planned.plan]);
      if (chain.transactions === null) {
        throw new UnavailableError("this node has no key to send the settlement with", {
          code: "NO_NODE_KEY",
        });
      }
      const sent = await chain.transactions.send(
        settleRequest(chain, planned.kind === "settlePartial", key.agreementId, key.period),
      );
      requireSent(sent, planned.kind);
      const index = await chainCall("state", () => chain.ledger.state(key.agreementId, key.period));
      return {
        ...planned,
        state: PERIOD_STATES[Number(index)] ?? planned.state,
        transaction: { txHash: sent.txHash, blockNumber: sent.blockNumber, gasUsed: sent.gasUsed },
        escrowAfter: await escrowAfter(chain, planned.plan),
      };
    },
  };

  async function preview(chain: ChainClient, key: SettlementKey): Promise<SettlementPreview> {
    const step = await settleStep(chain, db, key);
    const listed = await tokens(chain);
    const balances = await escrowBalances(chain, [step.period]);
    const [planned] = planAgainst([step.period], balances);
    if (planned === undefined) {
      throw new ConflictError(`nothing to settle in ${key.name}: the plan holds no period`);
    }
    const fx = loadFxTable(config);
    return {
      kind: step.kind,
      state: step.state,
      plan: planView(planned, tokenOf(listed, step.period.token), balances, fx),
    };
  }
}
