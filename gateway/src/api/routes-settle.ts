/**
 * Settling one period from the console: what `icl settle AGREEMENT PERIOD --dry-run` shows (who pays
 * whom, each payer's escrow, the top-ups needed first) and the settlement itself, sent with the node
 * key as `icl settle` sends it (node/src/services/settlement.ts). Settling moves money the officers
 * approved: officers of this carrier ask for it, the node signs the transaction; the ledger lets
 * anyone settle an Approved period, so this grants nothing the chain does not.
 */
import { z } from "zod/v4";
import type { Role } from "../auth/types";
import { jsonify } from "./json";
import { defineRoute, type ApiDeps, type ApiRoute } from "./route";
import { requireChain, requireNode } from "./route-access";
import { AgreementPeriodParams } from "./schemas";
import { PlanJson } from "./schemas-ledger";

/** Finance officers settle; admins run the node but do not move money. */
const SETTLING: readonly Role[] = ["officer"];

const SettlementPlan = PlanJson.omit({ transaction: true, escrowAfter: true, skipped: true });

const SettlementPreviewResponse = z.object({
  agreement: z.string(),
  agreementId: z.string(),
  period: z.number().int(),
  kind: z.enum(["settle", "settlePartial"]).meta({
    description: "settle: the final figures; settlePartial: the undisputed part of a disputed period",
  }),
  state: z.string(),
  plan: SettlementPlan,
});

const SettlementSentResponse = SettlementPreviewResponse.extend({
  transaction: z.object({ txHash: z.string(), blockNumber: z.string(), gasUsed: z.string() }),
  escrowAfter: z.record(z.string(), z.string()).meta({ description: "each carrier's escrow afterwards" }),
});

/** The period's key as the settlement service takes it: this node's agreement, by name or id. */
async function settlementKey(deps: ApiDeps, params: z.output<typeof AgreementPeriodParams>) {
  const agreement = await requireNode(deps).agreements.require(params.agreement);
  return { agreementId: agreement.agreementId, name: agreement.name, period: params.period };
}

export const SETTLE_ROUTES: readonly ApiRoute[] = [
  defineRoute({
    method: "get",
    path: "/api/v1/periods/:agreement/:period/settlement",
    summary: "What settling the period now sends (as `icl settle AGREEMENT PERIOD --dry-run --json`)",
    description:
      "The final settlement once Approved (or Uncontested/Resolved past the approval deadline), or the " +
      "undisputed part when both carriers approved it during a dispute: who pays whom, the payer's escrow and " +
      "the top-ups needed first. 409 naming the state when the period cannot be settled now.",
    tag: "settlement",
    allow: SETTLING,
    scope: "settlement:read",
    params: AgreementPeriodParams,
    response: SettlementPreviewResponse,
    errors: [404, 409, 503],
    handler: async ({ deps, params }) => {
      const key = await settlementKey(deps, params);
      const preview = await requireNode(deps).settlement.preview(requireChain(deps), key);
      return jsonify({ agreement: key.name, agreementId: key.agreementId, period: key.period, ...preview });
    },
  }),
  defineRoute({
    method: "post",
    path: "/api/v1/periods/:agreement/:period/settle",
    summary: "Settle the period now, sent with the node key (as `icl settle AGREEMENT PERIOD --yes`)",
    description:
      "Sent once per period and kind (the node's idempotency key: asking again answers the same " +
      "transaction). 409 when the period cannot be settled now or a payer's escrow is short (nothing is " +
      "sent then); 503 for a node without a key.",
    tag: "settlement",
    allow: SETTLING,
    scope: "settlement:write",
    params: AgreementPeriodParams,
    response: SettlementSentResponse,
    errors: [404, 409, 503],
    handler: async ({ deps, params }) => {
      const key = await settlementKey(deps, params);
      const sent = await requireNode(deps).settlement.settle(requireChain(deps), key);
      return jsonify({ agreement: key.name, agreementId: key.agreementId, period: key.period, ...sent });
    },
  }),
];
