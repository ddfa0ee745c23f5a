/**
 * An officer's EIP-712 approval of a period from the browser: the typed data to sign (the ledger's
 * figures, roots and round, and a deadline the other officers already signed where one is usable), and
 * the hand-in of the signature, which the node checks, keeps and submits once a threshold signed
 * (node/src/services/approvals.ts). Officers of this carrier only: signing is an officer's personal act
 * with their own key. They stand in the route table where route-table.ts includes them.
 */
import { getAddress } from "ethers";
import { z } from "zod/v4";
import { APPROVAL_TYPES, approvalDigest, type ApprovalData } from "../../../node/src/protocol";
import type { Role } from "../auth/types";
import { HttpError } from "../http-error";
import { jsonify } from "./json";
import { defineRoute, type ApiRoute } from "./route";
import { requireChain, requireNode } from "./route-access";
import { AgreementPeriodParams, ApprovalBody, ApprovalResponse, TypedDataResponse } from "./schemas";
import { ledgerTypedData, signerOf } from "./typed-data";

/** Signing is an officer's personal act with their own key. */
const SIGNING: readonly Role[] = ["officer"];

/** The approval struct with its integers as bigints. */
function approvalData(json: z.output<typeof ApprovalBody>["approval"]): ApprovalData {
  return {
    ...json,
    agreementId: json.agreementId.toLowerCase(),
    carrierId: json.carrierId.toLowerCase(),
    amountAB: BigInt(json.amountAB),
    amountBA: BigInt(json.amountBA),
    rootA: json.rootA.toLowerCase(),
    rootB: json.rootB.toLowerCase(),
    deadline: BigInt(json.deadline),
  };
}

export const APPROVAL_ROUTES: readonly ApiRoute[] = [
  defineRoute({
    method: "get",
    path: "/api/v1/periods/:agreement/:period/approval",
    summary: "The EIP-712 typed data an officer signs to approve the period (eth_signTypedData_v4)",
    description:
      "The ledger's figures and roots, the round and the deadline the other officers of this carrier signed " +
      "(when enough time is left), else a week of chain time from now. `partial=true`: the undisputed part. " +
      "409 for a period this node leaves to the co-signed fast path: its officers sign the period's " +
      "`Settlement` instead (GET …/fast-path/settlement).",
    tag: "approvals",
    allow: SIGNING,
    scope: "approvals:write",
    params: AgreementPeriodParams,
    query: z.strictObject({
      partial: z
        .enum(["true", "false"])
        .default("false")
        .transform((text) => text === "true"),
    }),
    response: TypedDataResponse,
    errors: [404, 409, 503],
    handler: async ({ deps, params, query }) => {
      const node = requireNode(deps);
      const chain = requireChain(deps);
      const prepared = await node.approvals.prepare(chain, params.agreement, params.period, query.partial);
      return jsonify({
        ...ledgerTypedData(chain, APPROVAL_TYPES, "Approval" as const, prepared.approval),
        reusedDeadline: prepared.reusedDeadline,
      });
    },
  }),
  defineRoute({
    method: "post",
    path: "/api/v1/periods/:agreement/:period/approvals",
    summary: "Hand in an officer's EIP-712 approval; submitted to the ledger once a threshold signed",
    description:
      "The signature must be by the signed-in officer and cover exactly the figures, roots and round the ledger " +
      "holds, before its deadline (node/src/settlement/approvals.ts acceptSignature). The node keeps it, and " +
      "once a threshold of current officers signed the same approval it submits them with its own key.",
    tag: "approvals",
    allow: SIGNING,
    scope: "approvals:write",
    params: AgreementPeriodParams,
    body: ApprovalBody,
    response: ApprovalResponse,
    errors: [404, 409, 503],
    handler: async ({ deps, params, body, principal }) => {
      const node = requireNode(deps);
      // An unknown agreement is a 404 whoever signed.
      await node.agreements.require(params.agreement);
      const chain = requireChain(deps);
      const approval = approvalData(body.approval);
      const signer = await signerOf(chain, approvalDigest(chain.ledgerDomain, approval), body.signature);
      // A signed-in officer hands in their own signature; someone else's stays theirs to hand in.
      if (principal === null || getAddress(signer) !== getAddress(principal.address)) {
        throw new HttpError(403, "SIGNER_MISMATCH", "the signature is not by the signed-in officer");
      }
      const progress = await node.approvals.submit(
        chain,
        params.agreement,
        params.period,
        approval,
        body.signature,
      );
      return jsonify(progress);
    },
  }),
];
