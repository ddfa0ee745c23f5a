/**
 * The wire format of the node-to-node protocol (`/peer/v1/`, docs/PROTOCOL.md "Peer protocol"),
 * shared by the server and the client. Every resource is a POST of a JSON body to
 *
 *   /peer/v1/agreements/<agreement id>/periods/<YYYYMM>/<resource>
 *
 * with the sender's EIP-712 signature (peer-auth.ts) in the `ICL-Peer-Signature` header as
 * base64url JSON. Bytes travel as `0x` hex, integers as decimal strings.
 */
import { z } from "zod/v4";
import { MAX_EVIDENCE_BYTES } from "../evidence/store";
import { OFFICER_SIGNATURE_HEX } from "../protocol";
import type { SignedPeerMessage } from "./peer-auth";

export const PEER_SIGNATURE_HEADER = "icl-peer-signature";
export const PEER_PREFIX = "/peer/v1";

/** Bounds on one request and one answer; a peer asking for more is refused. */
export const PEER_LIMITS = {
  /** Tree positions per `tree` request (one level of the diff walk, split when larger). */
  paths: 4096,
  /** Leaves per `leaves` answer. */
  leaves: 10_000,
  /** Leaves whose calls one `calls` request may ask for. */
  callLeaves: 256,
  /** Request body bytes. */
  requestBytes: 1024 * 1024,
  /** Officers' signatures in one `settlement` request or answer. */
  signatures: 64,
  /** Bytes of one officer signature (a contract officer's, a Safe's owners' signatures, is longer than 65). */
  signatureBytes: 8192,
} as const;

export type PeerResource =
  "tree" | "leaves" | "calls" | "settlement" | "commitment" | "opening" | "approval" | "evidence";
const RESOURCES: readonly PeerResource[] = [
  "tree",
  "leaves",
  "calls",
  "settlement",
  "commitment",
  "opening",
  "approval",
  "evidence",
];

/** The path of a resource of an agreement-period. */
export function peerPath(agreementId: string, period: number, resource: PeerResource): string {
  return `${PEER_PREFIX}/agreements/${agreementId.toLowerCase()}/periods/${period}/${resource}`;
}

/** The agreement, period and resource a path names, or null when it names none. */
export function parsePeerPath(
  path: string,
): { agreementId: string; period: number; resource: PeerResource } | null {
  const match = /^\/peer\/v1\/agreements\/(0x[0-9a-f]{64})\/periods\/(\d{6})\/([a-z]+)$/.exec(path);
  if (!match || !RESOURCES.includes(match[3] as PeerResource)) return null;
  return { agreementId: match[1]!, period: Number(match[2]), resource: match[3] as PeerResource };
}

export function encodeSignatureHeader(message: SignedPeerMessage): string {
  return Buffer.from(JSON.stringify(message), "utf8").toString("base64url");
}

/** The signed message in a header, or null when it is missing or not base64url JSON. */
export function decodeSignatureHeader(header: string | undefined): SignedPeerMessage | null {
  if (header === undefined || header.length === 0 || header.length > 4096) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
    return typeof parsed === "object" && parsed !== null ? (parsed as SignedPeerMessage) : null;
  } catch {
    return null;
  }
}

const hex = z.string().regex(/^0x(?:[0-9a-f]{2})*$/, "0x followed by lower-case hex bytes");
const hash = z.string().regex(/^0x[0-9a-f]{64}$/, "0x followed by 64 lower-case hex digits");
const uint = z.string().regex(/^(0|[1-9]\d{0,37})$/, "a non-negative integer as a decimal string");
const treePath = z.string().regex(/^[01]{0,256}$/, "up to 256 bits of 0 and 1");

export const treeRequest = z.object({ paths: z.array(treePath).min(1).max(PEER_LIMITS.paths) }).strict();
export const wireView = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("empty") }).strict(),
  z.object({ kind: z.literal("leaf"), key: hex, value: hex }).strict(),
  z.object({ kind: z.literal("branch"), left: hash, right: hash }).strict(),
]);
export const treeResponse = z.object({ views: z.array(wireView) }).strict();

export const leavesRequest = z
  .object({ path: treePath, limit: z.number().int().min(1).max(PEER_LIMITS.leaves).optional() })
  .strict();
export const leavesResponse = z
  .object({ leaves: z.array(z.object({ key: hex, value: hex }).strict()), truncated: z.boolean() })
  .strict();

export const callsRequest = z.object({ keys: z.array(hex).min(1).max(PEER_LIMITS.callLeaves) }).strict();
export const wireCall = z.object({ callKey: hash, billed: uint, amount: uint }).strict();
export const callsResponse = z
  .object({ leaves: z.array(z.object({ key: hex, calls: z.array(wireCall) }).strict()) })
  .strict();

const signature = z
  .string()
  .max(2 + 2 * PEER_LIMITS.signatureBytes)
  .regex(OFFICER_SIGNATURE_HEX, "an ECDSA or contract officer's signature as 0x and lower-case hex");

/**
 * The fast path (`settlement`): the sender's officers' EIP-712 `Settlement` signatures over its own
 * summary's root and totals with `deadline`; never the figures themselves. The receiver checks them
 * against its own summary and answers with its officers' signatures: `signed` once they reach its
 * carrier's threshold, `waiting` before.
 */
export const settlementRequest = z
  .object({ deadline: uint, signatures: z.array(signature).max(PEER_LIMITS.signatures) })
  .strict();
export const settlementResponse = z
  .object({
    status: z.enum(["signed", "waiting"]),
    signatures: z.array(signature).max(PEER_LIMITS.signatures),
  })
  .strict();

const nodeSignature = z
  .string()
  .regex(/^0x[0-9a-f]{130}$/, "a 65-byte ECDSA signature as 0x and lower-case hex");
const round = z.number().int().min(0).max(255);

/**
 * The cooperative commit (`commitment`): the sender's commitment of `round` (the round a commit sent
 * now lands in) and its node's EIP-712 `Commitment` signature over it. The receiver keeps it once the
 * signature recovers to a current node of the sender's carrier, and answers with its own signed
 * commitment of that round (`signed`) when it has closed the period and the round is open for it, else
 * `waiting`. A commitment hides the figures (salted), so it may travel before anything is on the ledger.
 */
export const commitmentRequest = z.object({ round, commitment: hash, signature: nodeSignature }).strict();
export const commitmentResponse = z.discriminatedUnion("status", [
  z.object({ status: z.literal("signed"), round, commitment: hash, signature: nodeSignature }).strict(),
  z.object({ status: z.literal("waiting") }).strict(),
]);

/**
 * Why a node refuses a `commitment` request (HTTP 409): the signature does not recover to a current node
 * of the sender's carrier over that commitment and round.
 */
export const COMMITMENT_REFUSALS = ["COMMITMENT_REFUSED"] as const;

/**
 * The cooperative reveal (`opening`): the sender's opening of its commitment of `round` (root, totals,
 * salt). Sent, and answered with the receiver's own opening, only while both commitments of the round
 * are on the ledger and neither is opened: before, an opening would let the other side commit to
 * figures copied from it. Each side checks the other's against its commitment on the ledger.
 */
export const openingMessage = z
  .object({ round, root: hash, amountAB: uint, amountBA: uint, salt: hash })
  .strict();

/**
 * Why a node refuses an `opening` request (HTTP 409): both commitments of the round are not on the
 * ledger unopened (`NOT_COMMITTED`: too early, or already revealed), or the opening does not hash to the
 * sender's commitment (`OPENING_REFUSED`).
 */
export const OPENING_REFUSALS = ["NOT_COMMITTED", "OPENING_REFUSED"] as const;

/**
 * Approving before the reveal (`approval`): the sender's officers' EIP-712 `Approval` signatures on the
 * figures the ledger will evaluate from both openings of `round` (which both nodes hold: `opening`),
 * with the one `deadline` both carriers sign (settlement/pre-reveal.ts); never the figures themselves.
 * The receiver checks them against the figures it computes from the same openings and answers with its
 * officers' signatures: `signed` once they reach its carrier's threshold, `waiting` before.
 */
export const approvalRequest = z
  .object({ round, deadline: uint, signatures: z.array(signature).max(PEER_LIMITS.signatures) })
  .strict();
export const approvalResponse = settlementResponse;

/**
 * Why a node refuses an `approval` request (HTTP 409): it does not hold the round before its reveal with
 * both openings checked, or approves only after the reveal (`NOT_HELD`), or a signature does not verify
 * over the figures it computes from the openings (`FIGURES_DIFFER`).
 */
export const APPROVAL_REFUSALS = ["NOT_HELD", "FIGURES_DIFFER"] as const;

/**
 * Why a node refuses a `settlement` request (HTTP 409): the signatures do not verify against its
 * summary (the figures differ), it takes no fast path (`settlement.fastPath` false), the fast path is
 * over for the period (it committed, or the ledger no longer allows it), or it has not closed the
 * period yet (ask again later).
 */
export const SETTLEMENT_REFUSALS = [
  "FIGURES_DIFFER",
  "FAST_PATH_OFF",
  "FAST_PATH_CLOSED",
  "NOT_CLOSED",
] as const;
export type SettlementRefusal = (typeof SETTLEMENT_REFUSALS)[number];

/** A CID as the evidence store names blocks (cid.ts checks it fully before any store access). */
const cid = z.string().regex(/^b[a-z2-7]{58}$/, "a CIDv1 in base32 (bafkrei… or bafybei…)");

/**
 * A sealed evidence bundle the ledger names for the period (`evidence`): the counterparty asks for one
 * CID that a dispute step (DisputeOpened, DefaultContested, FiguresProposed) or the ruling (DisputeRuled's
 * rationale) carries on chain for this agreement-period, and gets the bundle's bytes as this node stores
 * them, in base64 (bundles run to 256 MiB: hex would double them). The asker checks the bytes against the
 * CID before it keeps them; the bundle stays sealed with the agreement's key on the wire.
 */
export const evidenceRequest = z.object({ cid }).strict();
export const evidenceResponse = z
  .object({ cid, bundle: z.base64().max(Math.ceil((MAX_EVIDENCE_BYTES * 4) / 3) + 4) })
  .strict();

/**
 * Why a node refuses an `evidence` request (HTTP 409): the CID is not named on the ledger for the
 * agreement-period (`NOT_NAMED`); a named CID this node does not hold is a 404 `NOT_FOUND`.
 */
export const EVIDENCE_REFUSALS = ["NOT_NAMED"] as const;

export type TreeRequest = z.infer<typeof treeRequest>;
export type TreeResponse = z.infer<typeof treeResponse>;
export type LeavesRequest = z.infer<typeof leavesRequest>;
export type LeavesResponse = z.infer<typeof leavesResponse>;
export type CallsRequest = z.infer<typeof callsRequest>;
export type CallsResponse = z.infer<typeof callsResponse>;
export type SettlementRequest = z.infer<typeof settlementRequest>;
export type SettlementResponse = z.infer<typeof settlementResponse>;
export type CommitmentRequest = z.infer<typeof commitmentRequest>;
export type CommitmentResponse = z.infer<typeof commitmentResponse>;
export type OpeningMessage = z.infer<typeof openingMessage>;
export type ApprovalRequest = z.infer<typeof approvalRequest>;
export type ApprovalResponse = z.infer<typeof approvalResponse>;
export type EvidenceRequest = z.infer<typeof evidenceRequest>;
export type EvidenceResponse = z.infer<typeof evidenceResponse>;

/** The JSON error body of every refused or failed request. */
export interface PeerErrorBody {
  error: { code: string; message: string };
}
