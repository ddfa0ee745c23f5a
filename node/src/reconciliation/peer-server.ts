/**
 * The serving side of the peer protocol: answers the counterparty's questions about this node's
 * summary of an agreement-period — subtree hashes, the leaves of a range, and the keys of the calls
 * behind a leaf — so the two nodes can find where they differ. Transport-free (the gateway hands it
 * the method, path, signature header and raw body), so the same code is tested with and without HTTP.
 *
 * A request is answered only when
 * - its signature verifies and comes from a node of the *other* party of the agreement (peer-auth.ts),
 *   fresh and not replayed;
 * - this node is party to the agreement and has the summary; and
 * - both parties have revealed the current round on the ledger, and the summary served is the one
 *   this node revealed. Before that a counterparty could copy our figures instead of measuring its
 *   own; after it, the root binds every answer (the client checks each against it).
 *
 * The fast path's `settlement` resource is the exception, answered before anything is committed: it
 * carries officers' signatures, never figures, and is answered by the runner's fast path
 * (fast-path.ts), which checks them against this node's own summary. So is `commitment`: a node's
 * signed commitment, which hides the figures, answered by commit-exchange.ts. And `opening`, answered
 * (opening-exchange.ts) only while both commitments of the round are on the ledger and unopened: from
 * then on neither side can change what it committed, so an opening can no longer be copied. Then
 * `approval`: officers' signatures on the figures both openings give, answered by approval-exchange.ts
 * while this node holds the reveal for them. And `evidence`: a sealed bundle the ledger names for the
 * period (evidence-exchange.ts), answered whatever the period's state, because the chain has already
 * made its CID public and the bundle is sealed with the key both parties hold.
 */
import { hexlify, type Signer, type TypedDataDomain } from "ethers";
import type { ChainClient } from "../chain/client";
import type { Database } from "../db/database";
import { requireAgreement, type LocalAgreement } from "../db/agreements";
import { loadSummary } from "../db/summaries";
import { BaseError } from "../errors";
import { ZodError } from "zod/v4";
import type { Logger } from "../logger";
import { storedSummaryTree } from "../summaries/build-summary";
import { periodSalt } from "../summaries/encoding";
import { fromHex, toHex } from "../summaries/hashing";
import type { MerkleTree, NodeView } from "../summaries/merkle-tree";
import { callFiguresBehindLeaves } from "./leaf-calls";
import { PeerAuthError, bodyHash, signPeerMessage, type PeerVerifier } from "./peer-auth";
import { roundView } from "./reveal";
import {
  COMMITMENT_REFUSALS,
  OPENING_REFUSALS,
  APPROVAL_REFUSALS,
  EVIDENCE_REFUSALS,
  PEER_LIMITS,
  SETTLEMENT_REFUSALS,
  callsRequest,
  commitmentRequest,
  openingMessage,
  approvalRequest,
  decodeSignatureHeader,
  evidenceRequest,
  encodeSignatureHeader,
  leavesRequest,
  parsePeerPath,
  settlementRequest,
  treeRequest,
  type CallsResponse,
  type CommitmentRequest,
  type CommitmentResponse,
  type LeavesResponse,
  type OpeningMessage,
  type ApprovalRequest,
  type ApprovalResponse,
  type EvidenceRequest,
  type EvidenceResponse,
  type PeerErrorBody,
  type SettlementRequest,
  type SettlementResponse,
  type TreeResponse,
} from "./peer-wire";

/** Answers the partner's fast-path `settlement` request for an agreement-period (the runner's fast path). */
export type SettlementAnswerer = (
  agreementId: string,
  period: number,
  request: SettlementRequest,
) => Promise<SettlementResponse>;

/** Answers the partner's `commitment` request for an agreement-period (commit-exchange.ts). */
export type CommitmentAnswerer = (
  agreementId: string,
  period: number,
  request: CommitmentRequest,
) => Promise<CommitmentResponse>;

/** Answers the partner's `opening` request for an agreement-period (opening-exchange.ts). */
export type OpeningAnswerer = (
  agreementId: string,
  period: number,
  request: OpeningMessage,
) => Promise<OpeningMessage>;

/** Answers the partner's `approval` request for an agreement-period (approval-exchange.ts). */
export type ApprovalAnswerer = (
  agreementId: string,
  period: number,
  request: ApprovalRequest,
) => Promise<ApprovalResponse>;

/** Answers the partner's `evidence` request for an agreement-period (evidence-exchange.ts). */
export type EvidenceAnswerer = (
  agreementId: string,
  period: number,
  request: EvidenceRequest,
) => Promise<EvidenceResponse>;

export interface PeerHttpRequest {
  method: string;
  /** The path as requested, without query. */
  path: string;
  /** The `ICL-Peer-Signature` header. */
  signature: string | undefined;
  body: Uint8Array;
}

export interface PeerHttpResponse {
  status: number;
  body: string;
  /** The signature header of the answer (absent when the request itself could not be authenticated). */
  signature?: string;
}

export interface PeerServerOptions {
  db: Database;
  chain: ChainClient;
  /** This node's key: signs every answer. */
  signer: Signer;
  /** Verifies requests (see peer-directory.ts `chainPeerVerifier`). */
  verifier: PeerVerifier;
  domain: TypedDataDomain;
  logger: Logger;
  /** Answers `settlement` requests; without it they are refused with `FAST_PATH_OFF`. */
  settlement?: SettlementAnswerer;
  /** Answers `commitment` requests; without it they are answered `waiting` (this node commits alone). */
  commitment?: CommitmentAnswerer;
  /** Answers `opening` requests; without it they are refused with `NOT_COMMITTED`. */
  opening?: OpeningAnswerer;
  /** Answers `approval` requests; without it they are refused with `NOT_HELD` (officers approve after the reveal). */
  approval?: ApprovalAnswerer;
  /** Answers `evidence` requests; without it they are refused with `NOT_FOUND` (this node serves none). */
  evidence?: EvidenceAnswerer;
}

/** Which side of the agreement this node is, and what the ledger holds for the round. */
interface Revealed {
  agreement: LocalAgreement & { secret: Uint8Array };
  round: number;
  ourRoot: string;
}

const TREE_CACHE_SIZE = 8;

export class PeerServer {
  private readonly trees = new Map<string, MerkleTree>();

  constructor(private readonly options: PeerServerOptions) {}

  /** Answers one request; never throws (failures become JSON errors with a status). */
  async handle(request: PeerHttpRequest): Promise<PeerHttpResponse> {
    const target = parsePeerPath(request.path);
    if (request.method !== "POST") return plain(405, "METHOD_NOT_ALLOWED", "the peer protocol takes POST");
    if (!target) return plain(404, "NOT_FOUND", `no peer resource at ${request.path.slice(0, 200)}`);
    const message = decodeSignatureHeader(request.signature);
    if (!message)
      return plain(401, "PEER_REFUSED", "the request carries no readable ICL-Peer-Signature header");
    try {
      await this.options.verifier.verify(message, {
        kind: "request",
        method: request.method,
        path: request.path,
        body: request.body,
      });
      if (message.agreementId.toLowerCase() !== target.agreementId) {
        throw new PeerAuthError("MISMATCH", "the signed agreement is not the one in the path");
      }
    } catch (error) {
      if (error instanceof PeerAuthError) {
        this.options.logger.warn("peer request refused", {
          reason: error.reason,
          path: request.path,
          details: error.details,
        });
        return plain(error.reason === "NOT_COUNTERPARTY" ? 403 : 401, "PEER_REFUSED", error.message);
      }
      this.options.logger.error("peer request could not be verified", { error: String(error) });
      return plain(503, "UNAVAILABLE", "the ledger could not be read to verify the request");
    }

    let status = 200;
    let payload: unknown;
    try {
      const body = parseJson(request.body);
      if (target.resource === "settlement") {
        payload = await this.answerSettlement(
          target.agreementId,
          target.period,
          settlementRequest.parse(body),
        );
      } else if (target.resource === "commitment") {
        const parsed = commitmentRequest.parse(body);
        payload =
          this.options.commitment === undefined
            ? ({ status: "waiting" } satisfies CommitmentResponse)
            : await this.options.commitment(target.agreementId, target.period, parsed);
      } else if (target.resource === "opening") {
        const parsed = openingMessage.parse(body);
        if (this.options.opening === undefined) {
          throw new BaseError("this node exchanges no openings; it reveals alone", { code: "NOT_COMMITTED" });
        }
        payload = await this.options.opening(target.agreementId, target.period, parsed);
      } else if (target.resource === "approval") {
        const parsed = approvalRequest.parse(body);
        if (this.options.approval === undefined) {
          throw new BaseError("this node's officers approve after the reveal", { code: "NOT_HELD" });
        }
        payload = await this.options.approval(target.agreementId, target.period, parsed);
      } else if (target.resource === "evidence") {
        const parsed = evidenceRequest.parse(body);
        if (this.options.evidence === undefined) {
          throw new BaseError("this node serves no evidence", { code: "NOT_FOUND" });
        }
        payload = await this.options.evidence(target.agreementId, target.period, parsed);
      } else {
        payload = await this.answerSummary(target, body);
      }
    } catch (error) {
      [status, payload] = errorPayload(error);
      if (status >= 500) this.options.logger.error("peer request failed", { error: String(error) });
    }
    const text = JSON.stringify(payload);
    const signed = await signPeerMessage(this.options.signer, this.options.domain, {
      agreementId: target.agreementId,
      kind: "response",
      method: request.method,
      path: request.path,
      bodyHash: bodyHash(text),
      inReplyTo: message.nonce,
    });
    return { status, body: text, signature: encodeSignatureHeader(signed) };
  }

  private async answerSettlement(
    agreementId: string,
    period: number,
    body: SettlementRequest,
  ): Promise<SettlementResponse> {
    if (this.options.settlement === undefined) {
      throw new BaseError("this node takes no fast path; it settles through commit–reveal", {
        code: "FAST_PATH_OFF",
      });
    }
    return this.options.settlement(agreementId, period, body);
  }

  /** The tree, leaves and calls resources: answered only once both parties revealed. */
  private async answerSummary(
    target: { agreementId: string; period: number; resource: string },
    body: unknown,
  ): Promise<unknown> {
    const revealed = await this.revealed(target.agreementId, target.period);
    const tree = await this.tree(revealed, target.period);
    if (target.resource === "tree") return this.answerTree(tree, treeRequest.parse(body));
    if (target.resource === "leaves") return this.answerLeaves(tree, leavesRequest.parse(body));
    return this.answerCalls(revealed, target.period, callsRequest.parse(body).keys);
  }

  private async revealed(agreementId: string, period: number): Promise<Revealed> {
    const agreement = await requireAgreement(this.options.db, agreementId);
    const { bothRevealed, round, ourRoot } = await roundView(
      this.options.chain,
      agreementId,
      period,
      agreement.side,
    );
    if (!bothRevealed) {
      throw new BaseError(
        `period ${period} of ${agreementId} is not revealed by both parties; summaries are compared only after both reveals`,
        { code: "NOT_REVEALED" },
      );
    }
    return { agreement, round, ourRoot };
  }

  private async tree(revealed: Revealed, period: number): Promise<MerkleTree> {
    const { agreement, ourRoot } = revealed;
    const cacheKey = `${agreement.agreementId}:${period}:${ourRoot}`;
    const cached = this.trees.get(cacheKey);
    if (cached) return cached;
    const summary = await loadSummary(this.options.db, agreement.agreementId, period);
    if (!summary || summary.root.toLowerCase() !== ourRoot) {
      throw new BaseError(`this node holds no summary with the root it revealed for ${period}`, {
        code: "NOT_FOUND",
      });
    }
    const tree = storedSummaryTree(summary, periodSalt(agreement.secret, agreement.agreementId, period));
    if (this.trees.size >= TREE_CACHE_SIZE) this.trees.delete(this.trees.keys().next().value!);
    this.trees.set(cacheKey, tree);
    return tree;
  }

  private answerTree(tree: MerkleTree, body: { paths: string[] }): TreeResponse {
    return { views: body.paths.map((path) => wireViewOf(tree.children(path))) };
  }

  private answerLeaves(tree: MerkleTree, body: { path: string; limit?: number }): LeavesResponse {
    const limit = body.limit ?? PEER_LIMITS.leaves;
    const leaves = tree.leavesUnder(body.path);
    return {
      leaves: leaves.slice(0, limit).map((entry) => ({ key: toHex(entry.key), value: toHex(entry.value) })),
      truncated: leaves.length > limit,
    };
  }

  /** The calls behind each asked leaf, by call key; a leaf this summary lacks has none. */
  private async answerCalls(revealed: Revealed, period: number, keys: string[]): Promise<CallsResponse> {
    const { agreement } = revealed;
    const salt = hexlify(periodSalt(agreement.secret, agreement.agreementId, period));
    const calls = await callFiguresBehindLeaves(
      this.options.db,
      agreement,
      period,
      salt,
      keys.map((key) => fromHex(key)),
    );
    return {
      leaves: keys.map((key, index) => ({
        key,
        calls: calls[index]!.map((call) => ({
          callKey: call.callKey,
          billed: call.billed.toString(),
          amount: call.amount.toString(),
        })),
      })),
    };
  }
}

function wireViewOf(view: NodeView): TreeResponse["views"][number] {
  if (view.kind === "empty") return { kind: "empty" };
  if (view.kind === "leaf") return { kind: "leaf", key: toHex(view.key), value: toHex(view.value) };
  return { kind: "branch", left: toHex(view.left), right: toHex(view.right) };
}

function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(body).toString("utf8")) as unknown;
  } catch {
    throw new BaseError("the request body is not JSON", { code: "INVALID_INPUT" });
  }
}

function errorPayload(error: unknown): [number, PeerErrorBody] {
  const body = (code: string, message: string): PeerErrorBody => ({ error: { code, message } });
  if (error instanceof ZodError) {
    const first = error.issues[0];
    return [
      400,
      body("INVALID_INPUT", first ? `${first.path.join(".") || "body"}: ${first.message}` : "invalid body"),
    ];
  }
  if (error instanceof BaseError) {
    const status: Record<string, number> = {
      INVALID_INPUT: 400,
      NOT_FOUND: 404,
      NOT_REVEALED: 409,
      ...Object.fromEntries(
        [
          ...SETTLEMENT_REFUSALS,
          ...COMMITMENT_REFUSALS,
          ...OPENING_REFUSALS,
          ...APPROVAL_REFUSALS,
          ...EVIDENCE_REFUSALS,
        ].map((code) => [code, 409]),
      ),
    };
    const code = error.code;
    const mapped = status[code] ?? (error.retryable ? 503 : 500);
    return [mapped, body(code, mapped >= 500 ? "the node could not answer" : error.shortMessage)];
  }
  return [500, body("INTERNAL", "the node could not answer")];
}

function plain(status: number, code: string, message: string): PeerHttpResponse {
  return { status, body: JSON.stringify({ error: { code, message } } satisfies PeerErrorBody) };
}
