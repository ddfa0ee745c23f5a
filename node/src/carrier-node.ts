/**
 * A running carrier node, composed once for `icl run`, the demo and the tests: the node's parts, its
 * runner (peer protocol, ledger follower, fast path, deadline watch) and its gateway on a local port.
 */
import type { Signer } from "ethers";
import { createGateway, listen, type GatewayParts, type RunningGateway } from "../../gateway/src/gateway";
import { chainRoleResolver, type AuthDeps } from "../../gateway/src/auth";
import { ROUTES } from "../../gateway/src/api/route-table";
import type { ChainClient } from "./chain/client";
import { carrierName } from "./chain/display";
import type { ResolvedConfig } from "./config/config";
import type { CarrierNode } from "./node";
import { NodeRunner, type RunnerParts } from "./reconciliation/runner";

/** What the runner takes from the node's config (`peer.*`, `watch.*`, `settlement.*`). */
export type RunnerSettings = Pick<RunnerParts, "maxSkewMs" | "peerTimeoutMs" | "watch" | "fastPath">;

export interface CarrierNodeParts {
  node: CarrierNode;
  /** The ledger, signing with `signer` (the node key). */
  chain: ChainClient;
  signer: Signer;
  /** Where the gateway listens (port 0: a free one). */
  listen: { host: string; port: number };
  /** Settings over the config's, field by field (the demo does not settle on its own, say). */
  runner?: RunnerSettings;
  /**
   * The gateway's parts over the defaults: the peer protocol, the node's API with sign-in from
   * `gateway.*` of the config; given the started runner when a function. A test may serve the peer
   * protocol alone with `{ node: null, chain: null, auth: null }`.
   */
  gateway?: Partial<GatewayParts> | ((runner: NodeRunner) => Partial<GatewayParts>);
}

export interface RunningCarrierNode {
  node: CarrierNode;
  chain: ChainClient;
  runner: NodeRunner;
  gateway: RunningGateway;
  /** The carrier (bytes32) the node key is registered for. */
  carrierId: string;
  /** Stops the gateway, the chain client and the node's database, in that order. */
  close(): Promise<void>;
}

/** The runner's settings as the node's config has them. */
export function runnerSettings(config: ResolvedConfig): RunnerSettings {
  const { peer, watch, settlement } = config.config;
  return {
    maxSkewMs: peer.maxSkewMs,
    peerTimeoutMs: peer.timeoutMs,
    watch,
    fastPath: {
      enabled: settlement.fastPath,
      fallbackMs: settlement.fastPathFallbackMs,
      approveBeforeReveal: settlement.approveBeforeReveal,
      revealFallbackMs: settlement.revealFallbackMs,
    },
  };
}

/** Sign-in, sessions and API tokens of the node's gateway, from `gateway.*` of the config. */
export function gatewayAuth(node: CarrierNode, chain: ChainClient, carrierId: string): AuthDeps {
  const settings = node.config.config.gateway;
  return {
    db: node.db,
    roles: chainRoleResolver({
      registry: chain.registry,
      carrierId,
      admins: settings.admins,
      operators: settings.operators,
    }),
    logger: node.logger,
    carrier: carrierName(carrierId),
    chainId: chain.chainId,
    sessionHours: settings.sessionHours,
    cookieSecure: settings.cookieSecure,
    scopes: [...new Set(ROUTES.flatMap((route) => (route.scope ? [route.scope] : [])))],
  };
}

/**
 * Starts the node's runner (settling what a previous run left pending) and serves its gateway.
 * The caller still owns `chain` and the node's database until it calls `close()`; when starting
 * fails nothing of them is closed.
 * @throws InputError when the node key is not registered for a carrier; UnavailableError when the
 * chain cannot be reached; the listening socket's error when the address is taken.
 */
export async function startCarrierNode(parts: CarrierNodeParts): Promise<RunningCarrierNode> {
  const { node, chain, signer } = parts;
  const runner = await NodeRunner.start({
    db: node.db,
    chain,
    signer,
    evidence: node.evidence,
    logger: node.logger,
    ...runnerSettings(node.config),
    ...parts.runner,
  });
  const gateway = await listen(
    createGateway({
      logger: node.logger,
      peer: runner.peerServer,
      partnerEvidence: runner.partnerEvidence,
      node,
      chain,
      auth: gatewayAuth(node, chain, runner.carrierId),
      trustProxy: node.config.config.gateway.trustProxy,
      ...(typeof parts.gateway === "function" ? parts.gateway(runner) : parts.gateway),
    }),
    parts.listen.host,
    parts.listen.port,
  );
  return {
    node,
    chain,
    runner,
    gateway,
    carrierId: runner.carrierId,
    async close() {
      await gateway.close();
      chain.close();
      await node.close();
    },
  };
}
