/**
 * Who is who, as the ledger says: which carrier a node address serves and who the two parties of an
 * agreement are. Both server and client of the peer protocol check every signature against it.
 * Answers are cached for `ttlMs` so a burst of requests costs one RPC call, while a node address
 * the registry disables stops being accepted within that time.
 */
import { ZeroHash } from "ethers";
import type { ChainClient } from "../chain/client";
import { toChainError } from "../chain/errors";
import { PeerVerifier, peerDomain, type PeerVerifierOptions } from "./peer-auth";

export interface PeerDirectory {
  carrierOfNode(address: string): Promise<string | null>;
  partiesOf(agreementId: string): Promise<{ carrierA: string; carrierB: string } | null>;
}

export function chainPeerDirectory(chain: ChainClient, ttlMs = 60_000): PeerDirectory {
  const nodes = new Map<string, { at: number; value: string | null }>();
  const parties = new Map<string, { at: number; value: { carrierA: string; carrierB: string } | null }>();
  const fresh = (at: number) => Date.now() - at < ttlMs;
  return {
    async carrierOfNode(address) {
      const key = address.toLowerCase();
      const cached = nodes.get(key);
      if (cached && fresh(cached.at)) return cached.value;
      let carrier: string;
      try {
        carrier = await chain.registry.carrierOfNode(address);
      } catch (error) {
        throw toChainError(error, "carrierOfNode");
      }
      const value = carrier === ZeroHash ? null : carrier;
      nodes.set(key, { at: Date.now(), value });
      return value;
    },
    async partiesOf(agreementId) {
      const key = agreementId.toLowerCase();
      const cached = parties.get(key);
      if (cached && fresh(cached.at)) return cached.value;
      // The parties of an agreement never change across versions; version 0 exists once it is active.
      const count = await chain.book.versionCount(agreementId).catch((error: unknown) => {
        throw toChainError(error, "versionCount");
      });
      let value: { carrierA: string; carrierB: string } | null = null;
      if (count > 0n) {
        const [terms] = await chain.book.versionOf(agreementId, 0);
        value = { carrierA: terms.carrierA, carrierB: terms.carrierB };
      }
      parties.set(key, { at: Date.now(), value });
      return value;
    },
  };
}

/** A verifier of peer messages for this node's carrier on `chain`'s ledger deployment. */
export function chainPeerVerifier(
  chain: ChainClient,
  ourCarrier: string,
  options: Pick<PeerVerifierOptions, "maxSkewMs" | "now"> & { directory?: PeerDirectory } = {},
): PeerVerifier {
  const directory = options.directory ?? chainPeerDirectory(chain);
  return new PeerVerifier({
    domain: peerDomain(chain.chainId, chain.deployment.ledger),
    ourCarrier,
    carrierOfNode: (address) => directory.carrierOfNode(address),
    partiesOf: (agreementId) => directory.partiesOf(agreementId),
    maxSkewMs: options.maxSkewMs,
    now: options.now,
  });
}
