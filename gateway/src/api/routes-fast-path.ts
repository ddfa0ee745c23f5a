/**
 * An officer's approval of a period this node leaves to the co-signed fast path, from the browser:
 * the period's EIP-712 `Settlement` (this node's frozen summary's root and totals, valid until round
 * 0's commit deadline) to sign, and the hand-in of the signature, which the node checks and keeps as
 * `icl officer approve` does (node/src/settlement/cosign.ts). The running node exchanges the kept
 * signatures with the partner's node and settles once both carriers' thresholds signed the same
 * figures (node/src/reconciliation/fast-path.ts); nothing here sends a transaction.
 *
 * Who: officers of this carrier only, like the approval routes (route-table.ts): signing is an
 * officer's personal act with their own key, and the node keeps only a current officer's signature.
 */
import { getAddress } from "ethers";
import type { z } from "zod/v4";
import { SETTLEMENT_TYPES, settlementDigest, type SettlementData } from "../../../node/src/protocol";
import type { Role } from "../auth/types";
import { HttpError } from "../http-error";
import { jsonify } from "./json";
import { defineRoute, type ApiRoute } from "./route";
import { requireChain, requireNode } from "./route-access";
import {
  AgreementPeriodParams,
  SettlementSignatureBody,
  SettlementSignatureResponse,
  SettlementTypedDataResponse,
} from "./schemas";
import { ledgerTypedData, signerOf } from "./typed-data";

/** Signing is an officer's personal act with their own key. */
const SIGNING: readonly Role[] = ["officer"];

/** The settlement struct with its integers as bigints. */
function settlementData(json: z.output<typeof SettlementSignatureBody>["settlement"]): SettlementData {
  return {
    ...json,
    agreementId: json.agreementId.toLowerCase(),
    root: json.root.toLowerCase(),
    amountAB: BigInt(json.amountAB),
    amountBA: BigInt(json.amountBA),
    deadline: BigInt(json.deadline),
  };
}

export const FAST_PATH_ROUTES: readonly ApiRoute[] = [
  defineRoute({
    method: "get",
    path: "/api/v1/periods/:agreement/:period/fast-path/settlement",
    summary:
      "The EIP-712 Settlement an officer signs to approve a period on the co-signed fast path (eth_signTypedData_v4)",
    description:
      "This node's frozen summary of the period: its root and totals, valid until round 0's commit deadline " +
      "(node/src/settlement/cosign.ts ourSettlement), and how many of each carrier's officers signed it so " +
      "far. The partner's officers sign their own node's summary: the period settles in one transaction only " +
      "when both are the same. 409 naming why when the node does not leave the period to the fast path " +
      "(fast path off, period not closed, committed, given up, or the ledger past it): then officers approve " +
      "the figures the ledger holds (GET …/approval).",
    tag: "approvals",
    allow: SIGNING,
    scope: "approvals:write",
    params: AgreementPeriodParams,
    response: SettlementTypedDataResponse,
    errors: [404, 409, 503],
    handler: async ({ deps, params }) => {
      const node = requireNode(deps);
      await node.agreements.require(params.agreement);
      const chain = requireChain(deps);
      const { settlement, progress } = await node.approvals.fastPathSettlement(
        chain,
        params.agreement,
        params.period,
      );
      return jsonify({
        ...ledgerTypedData(chain, SETTLEMENT_TYPES, "Settlement" as const, settlement),
        progress,
      });
    },
  }),
  defineRoute({
    method: "post",
    path: "/api/v1/periods/:agreement/:period/fast-path/signatures",
    summary: "Hand in an officer's EIP-712 Settlement signature of a period on the co-signed fast path",
    description:
      "The signature must be by the signed-in officer, a current officer of this carrier, over exactly this " +
      "node's Settlement of the period (root, totals, deadline; GET …/fast-path/settlement), before the " +
      "deadline (node/src/settlement/cosign.ts acceptSettlementSignature). The node keeps it and answers how " +
      "many of each carrier's officers signed; the running node exchanges the signatures with the partner's " +
      "node and settles once both carriers' thresholds signed. 409 when the period is not on the fast path " +
      "or the signature is refused.",
    tag: "approvals",
    allow: SIGNING,
    scope: "approvals:write",
    params: AgreementPeriodParams,
    body: SettlementSignatureBody,
    response: SettlementSignatureResponse,
    errors: [404, 409, 503],
    handler: async ({ deps, params, body, principal }) => {
      const node = requireNode(deps);
      await node.agreements.require(params.agreement);
      const chain = requireChain(deps);
      const signed = settlementData(body.settlement);
      const signer = await signerOf(chain, settlementDigest(chain.ledgerDomain, signed), body.signature);
      // A signed-in officer hands in their own signature; someone else's stays theirs to hand in.
      if (principal === null || getAddress(signer) !== getAddress(principal.address)) {
        throw new HttpError(403, "SIGNER_MISMATCH", "the signature is not by the signed-in officer");
      }
      const { officer, progress } = await node.approvals.acceptFastPathSignature(
        chain,
        params.agreement,
        params.period,
        body.signature,
      );
      return jsonify({ officer: getAddress(officer), progress });
    },
  }),
];
