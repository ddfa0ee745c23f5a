/**
 * Authentication of the node-to-node protocol (`/peer/v1/`). Every request and every response is an
 * EIP-712 signature by the sending node's key over the agreement, the method and path, the hash of
 * the body, a timestamp and a random nonce; a response also names the nonce of the request it
 * answers. The receiver accepts a message only when
 *
 * - the signature recovers to a node address that the ledger registers for a carrier,
 * - that carrier is the *other* party of the agreement (not a stranger, not ourselves),
 * - method, path, body hash (and for a response, the request nonce) are what was actually sent,
 * - the timestamp is within the allowed clock skew, and
 * - the nonce has not been seen within that window (a replay is refused).
 *
 * The domain binds signatures to one chain and one ledger deployment, so nothing signed for a test
 * network can be replayed against production.
 */
import { randomBytes, hexlify, verifyTypedData, type TypedDataDomain, type Signer } from "ethers";
import { keccak256 as keccakHex } from "js-sha3";
import { BaseError } from "../errors";

export const PEER_MESSAGE_TYPES = {
  PeerMessage: [
    { name: "agreementId", type: "bytes32" },
    { name: "kind", type: "string" },
    { name: "method", type: "string" },
    { name: "path", type: "string" },
    { name: "bodyHash", type: "bytes32" },
    { name: "timestamp", type: "uint64" },
    { name: "nonce", type: "bytes32" },
    { name: "inReplyTo", type: "bytes32" },
  ],
};

/** The EIP-712 domain of peer messages for one ledger deployment. */
export function peerDomain(chainId: bigint | number, ledger: string): TypedDataDomain {
  return { name: "InterconnectLedgerPeer", version: "1", chainId, verifyingContract: ledger };
}

export interface PeerMessage {
  agreementId: string;
  kind: "request" | "response";
  method: string;
  path: string;
  bodyHash: string;
  /** Milliseconds since the epoch. */
  timestamp: number;
  nonce: string;
  /** The request's nonce in a response; zero in a request. */
  inReplyTo: string;
}

export interface SignedPeerMessage extends PeerMessage {
  signature: string;
}

const ZERO_HASH = "0x" + "00".repeat(32);

/**
 * keccak256 of a body (the exact bytes sent). js-sha3 rather than ethers' keccak: bodies of call lists
 * run to megabytes, and it hashes them four times as fast (the same digest; see peer-auth.test.ts).
 */
export function bodyHash(body: Uint8Array | string): string {
  return "0x" + keccakHex(typeof body === "string" ? new TextEncoder().encode(body) : body);
}

/** Signs a peer message with the node key; fills timestamp and nonce. */
export async function signPeerMessage(
  signer: Signer,
  domain: TypedDataDomain,
  message: Omit<PeerMessage, "timestamp" | "nonce" | "inReplyTo"> & { inReplyTo?: string },
  now: () => number = Date.now,
): Promise<SignedPeerMessage> {
  const full: PeerMessage = {
    ...message,
    inReplyTo: message.inReplyTo ?? ZERO_HASH,
    timestamp: now(),
    nonce: hexlify(randomBytes(32)),
  };
  const signature = await signer.signTypedData(domain, PEER_MESSAGE_TYPES, full);
  return { ...full, signature };
}

/** Why a peer message was refused; `reason` is stable for logs and metrics. */
export class PeerAuthError extends BaseError {
  override name = "PeerAuthError";
  constructor(
    readonly reason:
      "MALFORMED" | "BAD_SIGNATURE" | "UNKNOWN_NODE" | "NOT_COUNTERPARTY" | "MISMATCH" | "STALE" | "REPLAY",
    details: string,
  ) {
    super(`peer message refused: ${reason.toLowerCase().replaceAll("_", " ")}`, {
      code: "PEER_REFUSED",
      details,
    });
  }
}

export interface PeerVerifierOptions {
  domain: TypedDataDomain;
  /** This node's carrier id. */
  ourCarrier: string;
  /** The carrier a node address belongs to on the ledger, or null. */
  carrierOfNode(address: string): Promise<string | null>;
  /** The two parties of an agreement, or null for an unknown agreement. */
  partiesOf(agreementId: string): Promise<{ carrierA: string; carrierB: string } | null>;
  /** Allowed clock difference between nodes, ms (default 5 minutes). */
  maxSkewMs?: number;
  now?: () => number;
}

/**
 * Verifies signed peer messages and remembers their nonces for twice the allowed skew, after which
 * the timestamp check alone refuses a replay.
 */
export class PeerVerifier {
  private readonly seen = new Map<string, number>();
  private readonly maxSkewMs: number;
  private readonly now: () => number;

  constructor(private readonly options: PeerVerifierOptions) {
    this.maxSkewMs = options.maxSkewMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Checks `message` against what actually arrived (`expected`) and returns the sending carrier.
   * @throws PeerAuthError naming the reason.
   */
  async verify(
    message: SignedPeerMessage,
    expected: {
      kind: PeerMessage["kind"];
      method: string;
      path: string;
      body: Uint8Array | string;
      inReplyTo?: string;
    },
  ): Promise<string> {
    if (!isWellFormed(message))
      throw new PeerAuthError("MALFORMED", "the message lacks a field or has a malformed one");
    let signer: string;
    try {
      const { signature, ...fields } = message;
      signer = verifyTypedData(this.options.domain, PEER_MESSAGE_TYPES, fields, signature);
    } catch (error) {
      throw new PeerAuthError("BAD_SIGNATURE", (error as Error).message);
    }
    if (
      message.kind !== expected.kind ||
      message.method !== expected.method ||
      message.path !== expected.path ||
      message.bodyHash !== bodyHash(expected.body) ||
      message.inReplyTo !== (expected.inReplyTo ?? ZERO_HASH)
    ) {
      throw new PeerAuthError(
        "MISMATCH",
        "the signed method, path, body or request do not match what was sent",
      );
    }
    const carrier = await this.options.carrierOfNode(signer);
    if (carrier === null) throw new PeerAuthError("UNKNOWN_NODE", `${signer} is not a registered node`);
    const parties = await this.options.partiesOf(message.agreementId);
    const counterparty =
      parties === null
        ? null
        : parties.carrierA === this.options.ourCarrier
          ? parties.carrierB
          : parties.carrierB === this.options.ourCarrier
            ? parties.carrierA
            : null;
    if (counterparty === null || carrier !== counterparty) {
      throw new PeerAuthError(
        "NOT_COUNTERPARTY",
        `carrier ${carrier} is not our counterparty in ${message.agreementId}`,
      );
    }
    const now = this.now();
    if (Math.abs(now - message.timestamp) > this.maxSkewMs) {
      throw new PeerAuthError(
        "STALE",
        `timestamp ${message.timestamp} is ${now - message.timestamp} ms from ours`,
      );
    }
    this.forgetOld(now);
    const nonceKey = `${signer}|${message.nonce}`;
    if (this.seen.has(nonceKey)) throw new PeerAuthError("REPLAY", `nonce ${message.nonce} was already used`);
    this.seen.set(nonceKey, message.timestamp);
    return carrier;
  }

  private forgetOld(now: number): void {
    for (const [key, timestamp] of this.seen) {
      if (now - timestamp <= 2 * this.maxSkewMs) break; // insertion order ≈ time order
      this.seen.delete(key);
    }
  }
}

const HASH = /^0x[0-9a-fA-F]{64}$/;

function isWellFormed(message: SignedPeerMessage): boolean {
  return (
    typeof message === "object" &&
    message !== null &&
    HASH.test(message.agreementId) &&
    (message.kind === "request" || message.kind === "response") &&
    typeof message.method === "string" &&
    typeof message.path === "string" &&
    HASH.test(message.bodyHash) &&
    Number.isSafeInteger(message.timestamp) &&
    message.timestamp >= 0 &&
    HASH.test(message.nonce) &&
    HASH.test(message.inReplyTo) &&
    typeof message.signature === "string"
  );
}
