/**
 * Settlement as the node's treasury reads it: the netting plan of every Approved period per token
 * (`icl settle --netting --dry-run`) and this carrier's escrow with its net position
 * (`icl escrow balance`). Nothing is sent.
 */
import type { ChainClient } from "../chain/client";
import type { LoadedDeployment } from "../chain/deployment";
import type { ResolvedConfig } from "../config/config";
import type { Database } from "../db/database";
import { escrowPositions, type EscrowPosition } from "../settlement/escrow";
import { listedTokens, resolveToken, tokenOf, type ListedToken } from "../settlement/escrow-tokens";
import { loadFxTable } from "../settlement/fx";
import { planView } from "../settlement/netting-report";
import { escrowBalances, planAgainst } from "../settlement/settle-plan";
import { findSettleable } from "../settlement/settleable";

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
  };
}
