/**
 * The asking side of the peer protocol: signs each request with the node key, checks that the
 * answer is signed by the counterparty's node for exactly this request, and validates its shape.
 * `remoteTree` gives the Merkle diff a view of the other node's tree that sends the positions of
 * one level of the walk in one request, so localising k differences among n leaves costs about
 * log2(n) round trips.
 */
import type { Signer, TypedDataDomain } from "ethers";
import type { z } from "zod/v4";
import { BaseError, UnavailableError } from "../errors";
import { fromHex, toHex } from "../summaries/hashing";
import type { RemoteTree } from "../summaries/diff";
import type { NodeView, TreePath } from "../summaries/merkle-tree";
import type { CallFigures } from "./discrepancy";
import { bodyHash, signPeerMessage, type PeerVerifier } from "./peer-auth";
import {
  PEER_LIMITS,
  PEER_SIGNATURE_HEADER,
  callsResponse,
  commitmentResponse,
  decodeSignatureHeader,
  encodeSignatureHeader,
  evidenceResponse,
  leavesResponse,
  openingMessage,
  approvalResponse,
  peerPath,
  settlementResponse,
  treeResponse,
  type CommitmentRequest,
  type CommitmentResponse,
  type OpeningMessage,
  type ApprovalRequest,
  type ApprovalResponse,
  type PeerResource,
  type SettlementRequest,
  type SettlementResponse,
} from "./peer-wire";

/** The peer answered with an error: its HTTP status and its own code (e.g. `NOT_REVEALED`). */
export class PeerRefusedError extends BaseError {
  override name = "PeerRefusedError";
  constructor(
    resource: PeerResource,
    readonly status: number,
    readonly peerCode: string,
    message: string,
  ) {
    super(`the peer node refused ${resource} with HTTP ${status}`, {
      code: "PEER_ERROR",
      details: `${peerCode}: ${message}`,
      retryable: status >= 500,
    });
  }
}

export interface PeerClientOptions {
  /** The counterparty node's base URL, e.g. `http://127.0.0.1:7700`. */
  baseUrl: string;
  signer: Signer;
  domain: TypedDataDomain;
  /** Checks answers (see peer-directory.ts `chainPeerVerifier`). */
  verifier: PeerVerifier;
  /** Per request (default 30 s). */
  timeoutMs?: number;
}

/** Traffic of one exchange, for the benchmark and the report. */
export interface PeerTraffic {
  requests: number;
  bytesSent: number;
  bytesReceived: number;
}

export class PeerClient {
  readonly traffic: PeerTraffic = { requests: 0, bytesSent: 0, bytesReceived: 0 };
  private readonly baseUrl: string;

  constructor(private readonly options: PeerClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
  }

  /**
   * POSTs `body` to a resource and returns the verified, validated answer.
   * @throws UnavailableError when the peer cannot be reached or times out; PeerAuthError when the
   * answer is not signed by the counterparty for this request; PeerRefusedError (code `PEER_ERROR`)
   * when the peer refuses (its code and message in the details); BaseError `PEER_ERROR` when it
   * answers malformed JSON.
   */
  async post<T>(
    agreementId: string,
    period: number,
    resource: PeerResource,
    body: unknown,
    schema: z.ZodType<T>,
  ): Promise<T> {
    const path = peerPath(agreementId, period, resource);
    const text = JSON.stringify(body);
    const signed = await signPeerMessage(this.options.signer, this.options.domain, {
      agreementId: agreementId.toLowerCase(),
      kind: "request",
      method: "POST",
      path,
      bodyHash: bodyHash(text),
    });
    let response: Response;
    let answer: Uint8Array;
    try {
      response = await fetch(this.baseUrl + path, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          [PEER_SIGNATURE_HEADER]: encodeSignatureHeader(signed),
        },
        body: text,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
      answer = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      throw new UnavailableError(`the peer node at ${this.baseUrl} did not answer`, {
        code: "PEER_UNAVAILABLE",
        details: (error as Error).message,
        cause: error,
      });
    }
    this.traffic.requests++;
    this.traffic.bytesSent += Buffer.byteLength(text);
    this.traffic.bytesReceived += answer.byteLength;
    const header = response.headers.get(PEER_SIGNATURE_HEADER) ?? undefined;
    const signature = decodeSignatureHeader(header);
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(answer).toString("utf8"));
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new PeerRefusedError(
        resource,
        response.status,
        error?.code ?? "?",
        error?.message ?? "no message",
      );
    }
    if (!signature) {
      throw new BaseError(`the peer's answer to ${resource} is not signed`, { code: "PEER_REFUSED" });
    }
    await this.options.verifier.verify(signature, {
      kind: "response",
      method: "POST",
      path,
      body: answer,
      inReplyTo: signed.nonce,
    });
    const result = schema.safeParse(parsed);
    if (!result.success) {
      throw new BaseError(`the peer's answer to ${resource} is malformed`, {
        code: "PEER_ERROR",
        details: result.error.issues[0]?.message,
      });
    }
    return result.data;
  }

  /**
   * The other node's tree for the diff. Positions asked for in the same turn of the event loop go
   * out together (split at PEER_LIMITS.paths), which is how `locateDifferences` asks for a level.
   */
  remoteTree(agreementId: string, period: number): RemoteTree {
    let pending: { path: TreePath; resolve: (view: NodeView) => void; reject: (error: unknown) => void }[] =
      [];
    const flush = async () => {
      const batch = pending;
      pending = [];
      for (let start = 0; start < batch.length; start += PEER_LIMITS.paths) {
        const chunk = batch.slice(start, start + PEER_LIMITS.paths);
        try {
          const { views } = await this.post(
            agreementId,
            period,
            "tree",
            { paths: chunk.map((item) => item.path) },
            treeResponse,
          );
          if (views.length !== chunk.length) {
            throw new BaseError("the peer answered a different number of tree positions", {
              code: "PEER_INCONSISTENT",
            });
          }
          chunk.forEach((item, i) => item.resolve(nodeViewOf(views[i]!)));
        } catch (error) {
          for (const item of chunk) item.reject(error);
        }
      }
    };
    return {
      children: (path) =>
        new Promise<NodeView>((resolve, reject) => {
          if (pending.length === 0) setImmediate(() => void flush());
          pending.push({ path, resolve, reject });
        }),
    };
  }

  /** The leaves below a position (at most `limit`), checked by the caller against the tree. */
  async leaves(agreementId: string, period: number, path: TreePath, limit?: number) {
    const answer = await this.post(agreementId, period, "leaves", { path, limit }, leavesResponse);
    return {
      leaves: answer.leaves.map((leaf) => ({ key: fromHex(leaf.key), value: fromHex(leaf.value) })),
      truncated: answer.truncated,
    };
  }

  /**
   * The fast path's exchange: sends this node's officers' `Settlement` signatures and returns the
   * partner's (see peer-wire.ts `settlementRequest`).
   * @throws PeerRefusedError with the partner's reason (`FIGURES_DIFFER`, `FAST_PATH_OFF`, …).
   */
  async settlement(
    agreementId: string,
    period: number,
    body: SettlementRequest,
  ): Promise<SettlementResponse> {
    return this.post(agreementId, period, "settlement", body, settlementResponse);
  }

  /**
   * The cooperative commit's exchange: sends this node's signed commitment and returns the partner's
   * when it has one (see peer-wire.ts `commitmentRequest`); the caller checks its signature.
   * @throws PeerRefusedError with the partner's reason (`COMMITMENT_REFUSED`).
   */
  async commitment(
    agreementId: string,
    period: number,
    body: CommitmentRequest,
  ): Promise<CommitmentResponse> {
    return this.post(agreementId, period, "commitment", body, commitmentResponse);
  }

  /**
   * The cooperative reveal's exchange: sends this node's opening and returns the partner's (see
   * peer-wire.ts `openingMessage`); the caller checks it against the partner's commitment.
   * @throws PeerRefusedError with the partner's reason (`NOT_COMMITTED`, `OPENING_REFUSED`).
   */
  async opening(agreementId: string, period: number, body: OpeningMessage): Promise<OpeningMessage> {
    return this.post(agreementId, period, "opening", body, openingMessage);
  }

  /**
   * Approving before the reveal: sends this node's officers' `Approval` signatures on the figures both
   * openings give and returns the partner's (see peer-wire.ts `approvalRequest`); the caller checks them.
   * @throws PeerRefusedError with the partner's reason (`NOT_HELD`, `FIGURES_DIFFER`).
   */
  async approval(agreementId: string, period: number, body: ApprovalRequest): Promise<ApprovalResponse> {
    return this.post(agreementId, period, "approval", body, approvalResponse);
  }

  /**
   * The sealed evidence bundle `cid` as the partner's node stores it (see peer-wire.ts `evidenceRequest`);
   * the caller checks the bytes against the CID before keeping them.
   * @throws PeerRefusedError with the partner's reason (`NOT_NAMED`, `NOT_FOUND`); BaseError
   * `PEER_INCONSISTENT` when it answers for another CID.
   */
  async evidence(agreementId: string, period: number, cid: string): Promise<Uint8Array> {
    const answer = await this.post(agreementId, period, "evidence", { cid }, evidenceResponse);
    if (answer.cid !== cid) {
      throw new BaseError("the peer answered with another evidence CID than the one asked for", {
        code: "PEER_INCONSISTENT",
      });
    }
    return new Uint8Array(Buffer.from(answer.bundle, "base64"));
  }

  /** The calls behind each leaf (canonical key bytes), by the leaf key's hex. */
  async calls(agreementId: string, period: number, keys: Uint8Array[]): Promise<Map<string, CallFigures[]>> {
    const result = new Map<string, CallFigures[]>();
    for (let start = 0; start < keys.length; start += PEER_LIMITS.callLeaves) {
      const chunk = keys.slice(start, start + PEER_LIMITS.callLeaves).map((key) => toHex(key));
      const answer = await this.post(agreementId, period, "calls", { keys: chunk }, callsResponse);
      for (const leaf of answer.leaves) {
        if (!chunk.includes(leaf.key)) continue;
        result.set(
          leaf.key,
          leaf.calls.map((call) => ({
            callKey: call.callKey,
            billed: BigInt(call.billed),
            amount: BigInt(call.amount),
          })),
        );
      }
    }
    for (const key of keys) {
      if (!result.has(toHex(key))) {
        throw new BaseError("the peer left out the calls of a leaf it was asked for", {
          code: "PEER_INCONSISTENT",
        });
      }
    }
    return result;
  }
}

function nodeViewOf(view: ReturnType<typeof treeResponse.parse>["views"][number]): NodeView {
  if (view.kind === "empty") return { kind: "empty" };
  if (view.kind === "leaf") return { kind: "leaf", key: fromHex(view.key), value: fromHex(view.value) };
  return { kind: "branch", left: fromHex(view.left, 32), right: fromHex(view.right, 32) };
}
