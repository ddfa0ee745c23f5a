/**
 * The settlement transactions as the node key sends them: one period (final or its undisputed part)
 * and a netted batch. One idempotency key per settlement, whoever sends it (`icl settle`, the deadline
 * watch, the demo), so the same settlement is never sent twice by one node.
 */
import { keccak256, toUtf8Bytes } from "ethers";
import type { ChainClient } from "../chain/client";
import type { TxRequest } from "../chain/tx-manager";

/** `settle` (Approved) or `settlePartial` (the agreed undisputed part) of one period. */
export function settleRequest(
  chain: ChainClient,
  partial: boolean,
  agreementId: string,
  period: number,
): TxRequest {
  const kind = partial ? "settle-partial" : "settle";
  const iface = chain.ledger.interface;
  return {
    kind,
    idempotencyKey: `${kind}:${agreementId}:${period}`,
    to: chain.deployment.ledger,
    data: partial
      ? iface.encodeFunctionData("settlePartial", [agreementId, period])
      : iface.encodeFunctionData("settle", [agreementId, period]),
  };
}

/** `settleBatch` of `keys` in `token`, keyed by the token and the sorted periods. */
export function settleBatchRequest(
  chain: ChainClient,
  token: string,
  keys: readonly { agreementId: string; period: number }[],
): TxRequest {
  const sorted = [...keys].sort((x, y) =>
    x.agreementId === y.agreementId ? x.period - y.period : x.agreementId < y.agreementId ? -1 : 1,
  );
  const digest = keccak256(toUtf8Bytes(sorted.map((k) => `${k.agreementId}:${k.period}`).join(",")));
  return {
    kind: "settle-batch",
    idempotencyKey: `settle-batch:${token.toLowerCase()}:${digest}`,
    to: chain.deployment.ledger,
    data: chain.ledger.interface.encodeFunctionData("settleBatch", [token, sorted]),
  };
}
