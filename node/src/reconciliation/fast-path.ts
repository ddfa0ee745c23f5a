/**
 * Path selection: the co-signed fast path, tried before this node commits a closed period, with
 * commit–reveal as the fallback (docs/PROTOCOL.md, "Choosing the path").
 *
 * With `settlement.fastPath` on, `icl period close` freezes the summary and leaves the commitment to
 * the running node. Each pass, for such a period, the node
 *
 * 1. exchanges `Settlement` signatures with the partner's node over the peer protocol (resource
 *    `settlement`): its officers' over its own summary, for the partner's officers' over the
 *    partner's. Each side checks what it receives against its own summary, so equal roots and totals
 *    are recognised without either side sending a figure (the privacy rule of the peer protocol);
 * 2. once it holds both carriers' thresholds, submits `settleFastPath` through the transaction manager
 *    (party A's node; party B's only when the fallback time has come and A's has not);
 * 3. commits instead, and goes on by commit–reveal, as soon as the fast path is out: the partner's
 *    node reports other figures or takes no fast path, the partner committed, the transaction would
 *    revert, or the commit window closes within `settlement.fastPathFallbackMs` without a settlement.
 *
 * Once this node has committed it never takes the fast path for that period again (it reveals as
 * usual); the ledger would still accept the partner's submission until someone reveals.
 */
import { id as keccakText } from "ethers";
import type { ChainClient } from "../chain/client";
import { ContractRevertError } from "../chain/errors";
import { requireAgreement, type LocalAgreement } from "../db/agreements";
import type { Database } from "../db/database";
import {
  declineFastPath,
  loadFastPathAttempt,
  recordFastPathSubmission,
  saveSettlementSignature,
} from "../db/fast-path";
import { loadSummary } from "../db/summaries";
import { BaseError, ConflictError, InputError } from "../errors";
import type { Logger } from "../logger";
import {
  fastPathOpen,
  settledByFastPath,
  stateIndex,
  type PeriodStateName,
  type SettlementData,
} from "../protocol";
import {
  acceptSettlementSignature,
  gatheredSignatures,
  ourSettlement,
  settlementSigner,
} from "../settlement/cosign";
import { commitSummary, type CommitResult } from "./commit";
import { partnerCarrier } from "../settlement/period-context";
import { PeerRefusedError, type PeerClient } from "./peer-client";
import type { SettlementAnswerer } from "./peer-server";
import type { SettlementRefusal } from "./peer-wire";
import { periodState } from "./reveal";

/** `settlement.*` of the config. */
export interface FastPathOptions {
  /** Whether this node takes the fast path (`settlement.fastPath`). */
  enabled: boolean;
  /** How long before the commit window closes the node stops waiting and commits (`settlement.fastPathFallbackMs`). */
  fallbackMs: number;
  /**
   * Whether the node holds a reconciling period unrevealed for both carriers' approvals and ends
   * commit–reveal with one revealAndSettle (`settlement.approveBeforeReveal`, approval-exchange.ts).
   */
  approveBeforeReveal: boolean;
  /** How long before the reveal deadline the node stops holding and reveals (`settlement.revealFallbackMs`). */
  revealFallbackMs: number;
}

export const DEFAULT_FAST_PATH: FastPathOptions = {
  enabled: true,
  fallbackMs: 86_400_000,
  approveBeforeReveal: true,
  revealFallbackMs: 86_400_000,
};

/**
 * When the node stops waiting for the fast path and commits: `fallbackMs` before the commit window
 * closes (`commitDeadline`, unix seconds), rounded to the earlier second.
 */
export function fastPathFallbackAt(
  commitDeadline: bigint,
  options: Pick<FastPathOptions, "fallbackMs">,
): bigint {
  return commitDeadline - BigInt(Math.ceil(options.fallbackMs / 1000));
}

/** What the fast path did for one period in one pass. */
export interface FastPathReport {
  agreement: string;
  period: number;
  /** The period's state after the step. */
  state: PeriodStateName;
  /**
   * `waiting`: for officers or the partner; `submitted`: this node sent settleFastPath; `settled`: the
   * period was settled by the fast path (by either node); `committed`: this node gave the fast path up
   * and committed (`detail` says why); `missed`: the commit window closed without this node's commitment.
   */
  step: "waiting" | "submitted" | "settled" | "committed" | "missed";
  detail: string;
  txHash: string | null;
}

/** The refusals after which the partner will not take the fast path for the period. */
const FINAL_REFUSALS: ReadonlySet<string> = new Set<SettlementRefusal>([
  "FIGURES_DIFFER",
  "FAST_PATH_OFF",
  "FAST_PATH_CLOSED",
]);

export interface FastPathParts {
  db: Database;
  chain: ChainClient;
  logger: Logger;
  /** This node's carrier. */
  carrierId: string;
  options: FastPathOptions;
  /**
   * How the node commits when it falls back (default: commit.ts `commitSummary`, alone); the runner
   * passes commit-exchange.ts's, which offers the commitment to the partner first.
   */
  commit?: (
    agreement: LocalAgreement & { secret: Uint8Array },
    period: number,
    peer: PeerClient | null,
  ) => Promise<CommitResult>;
}

/** A closed period of this node as the fast path sees it on the ledger. */
interface Facts {
  agreement: LocalAgreement & { secret: Uint8Array };
  period: number;
  state: PeriodStateName;
  record: Awaited<ReturnType<ChainClient["ledger"]["periodRecord"]>>;
  ours: string;
  theirs: string;
  weCommitted: boolean;
  theyCommitted: boolean;
  now: bigint;
  /** The partner's node (null when unknown, or when answering it). */
  peer: PeerClient | null;
}

export class FastPath {
  /** Periods this node committed (`agreementId:period`): commit–reveal's for good, not looked at again. */
  private readonly committed = new Set<string>();

  constructor(private readonly parts: FastPathParts) {}

  /**
   * One pass of the fast path for a period this node closed: null when the period is not the fast
   * path's (this node committed it, or the ledger is past it), else what was done.
   * @throws BaseError when the chain or the database cannot be read, or a transaction cannot be sent.
   */
  async step(
    agreement: LocalAgreement & { secret: Uint8Array },
    period: number,
    peer: PeerClient | null,
  ): Promise<FastPathReport | null> {
    const key = `${agreement.agreementId}:${period}`;
    if (this.committed.has(key)) return null;
    const f = await this.facts(agreement, period, peer);
    const report = (step: FastPathReport["step"], detail: string, txHash: string | null = null) => ({
      agreement: agreement.name,
      period,
      state: f.state,
      step,
      detail,
      txHash,
    });
    if (f.weCommitted) {
      this.committed.add(key);
      return null;
    }
    // A correction round follows an outcome: commit–reveal's, as before (the fast path is round 0's).
    if (Number(f.record.round) !== 0) return null;
    if (f.state === "Settled") {
      return settledByFastPath(f.record) ? report("settled", "settled by the co-signed fast path") : null;
    }
    if (f.state === "Pending") return report("waiting", "the period has not ended");
    if (f.state !== "Committing" && f.state !== "Revealing") return null;
    if (!this.parts.options.enabled) return this.fallBack(f, report, "this node takes no fast path");
    const attempt = await loadFastPathAttempt(this.parts.db, agreement.agreementId, period);
    if (attempt.declined !== null) return this.fallBack(f, report, attempt.declined);
    if (!fastPathOpen(stateIndex(f.state), f.record)) return this.fallBack(f, report, "the ledger closed it");
    if (f.theyCommitted && f.state === "Committing") {
      return this.decline(f, report, "the partner's node committed: commit–reveal");
    }

    const settlement = await ourSettlement(this.parts.db, this.parts.chain, agreement, period);
    const theirCarrier = await this.theirCarrier(agreement.agreementId, period);
    if (peer !== null) {
      const refused = await this.exchange(f, peer, settlement, theirCarrier);
      if (refused !== null) return this.decline(f, report, refused);
    }
    const ours = await gatheredSignatures(this.parts.db, this.parts.chain, settlement, this.parts.carrierId);
    const theirs = await gatheredSignatures(this.parts.db, this.parts.chain, settlement, theirCarrier);
    const due = f.now >= fastPathFallbackAt(settlement.deadline, this.parts.options);
    const progress =
      `officers' signatures: this carrier ${ours.officers.length}/${ours.threshold}, ` +
      `the partner ${theirs.officers.length}/${theirs.threshold}`;
    if (ours.officers.length >= ours.threshold && theirs.officers.length >= theirs.threshold) {
      if (agreement.side === "A" || due) {
        const [a, b] = agreement.side === "A" ? [ours, theirs] : [theirs, ours];
        return this.submit(
          f,
          report,
          settlement,
          a.signatures.slice(0, a.threshold),
          b.signatures.slice(0, b.threshold),
        );
      }
      return report("waiting", `${progress}; party A's node submits`);
    }
    if (due)
      return this.fallBack(
        f,
        report,
        `no co-signed settlement ${this.parts.options.fallbackMs / 1000} s before the commit window closes (${progress})`,
      );
    return report("waiting", peer === null ? `${progress}; no peer URL for the agreement` : progress);
  }

  /**
   * Answers the partner's `settlement` request: keeps the partner's officers' signatures that verify
   * over this node's own summary and returns this carrier's; refuses (HTTP 409) when they do not
   * verify (`FIGURES_DIFFER`, and this node gives the fast path up too), when this node takes no fast
   * path or is past it, or has not closed the period.
   */
  readonly answer: SettlementAnswerer = async (agreementId, period, request) => {
    const { db, chain } = this.parts;
    const refuse = (code: SettlementRefusal, message: string) => new BaseError(message, { code });
    if (!this.parts.options.enabled) throw refuse("FAST_PATH_OFF", "this node settles through commit–reveal");
    const agreement = await requireAgreement(db, agreementId);
    const summary = await loadSummary(db, agreement.agreementId, period, { leaves: false });
    if (summary === null || summary.committedAt === null) {
      throw refuse("NOT_CLOSED", `this node has not closed ${period} yet`);
    }
    const f = await this.facts(agreement, period);
    const attempt = await loadFastPathAttempt(db, agreement.agreementId, period);
    if (f.weCommitted || attempt.declined !== null || !fastPathOpen(stateIndex(f.state), f.record)) {
      throw refuse(
        "FAST_PATH_CLOSED",
        `the fast path is over for ${period} on this node (the period is ${f.state})`,
      );
    }
    const settlement = await ourSettlement(db, chain, agreement, period);
    const theirCarrier = await this.theirCarrier(agreement.agreementId, period);
    const differ = async (why: string) => {
      await declineFastPath(
        db,
        agreement.agreementId,
        period,
        `the partner's officers signed other figures (${why})`,
      );
      return refuse("FIGURES_DIFFER", `the signatures do not verify against this node's summary (${why})`);
    };
    if (BigInt(request.deadline) !== settlement.deadline) throw await differ("another deadline");
    for (const signature of request.signatures) {
      let officer: string;
      try {
        officer = await settlementSigner(chain, settlement, signature);
      } catch (error) {
        // A contract officer that does not validate our Settlement signed other figures (or none).
        if (error instanceof ConflictError)
          throw await differ("a contract officer of the partner does not validate it");
        if (error instanceof InputError) throw await differ("a signature is malformed");
        throw error;
      }
      if (!(await chain.registry.isOfficer(theirCarrier, officer))) {
        throw await differ("a signature recovers to no officer of the partner");
      }
      await saveSettlementSignature(db, { carrierId: theirCarrier, officer, settlement, signature });
    }
    const ours = await gatheredSignatures(db, chain, settlement, this.parts.carrierId);
    return {
      status: ours.officers.length >= ours.threshold ? "signed" : "waiting",
      signatures: ours.signatures,
    };
  };

  private async facts(
    agreement: LocalAgreement & { secret: Uint8Array },
    period: number,
    peer: PeerClient | null = null,
  ): Promise<Facts> {
    const { chain } = this.parts;
    const [state, record, block] = await Promise.all([
      periodState(chain, agreement.agreementId, period),
      chain.ledger.periodRecord(agreement.agreementId, period),
      chain.provider.getBlock("latest"),
    ]);
    const [ours, theirs] =
      agreement.side === "A" ? [record.hashA, record.hashB] : [record.hashB, record.hashA];
    const zero = /^0x0{64}$/i;
    return {
      agreement,
      period,
      state,
      record,
      ours,
      theirs,
      weCommitted: !zero.test(ours),
      theyCommitted: !zero.test(theirs),
      now: BigInt(block?.timestamp ?? 0),
      peer,
    };
  }

  private async theirCarrier(agreementId: string, period: number): Promise<string> {
    return partnerCarrier(this.parts.chain, agreementId, period, this.parts.carrierId);
  }

  /**
   * Sends this carrier's signatures and keeps the partner's that verify over our summary; returns why
   * the fast path is out when the partner refuses for good or signed other figures, else null (an
   * unreachable partner, or one that has not closed the period, is asked again next pass).
   */
  private async exchange(
    f: Facts,
    peer: PeerClient,
    settlement: SettlementData,
    theirCarrier: string,
  ): Promise<string | null> {
    const { db, chain, logger } = this.parts;
    const ours = await gatheredSignatures(db, chain, settlement, this.parts.carrierId);
    let answer;
    try {
      answer = await peer.settlement(settlement.agreementId, settlement.period, {
        deadline: settlement.deadline.toString(),
        signatures: ours.signatures,
      });
    } catch (error) {
      if (error instanceof PeerRefusedError && FINAL_REFUSALS.has(error.peerCode)) {
        return `the partner's node refused the fast path (${error.peerCode}: ${error.details ?? ""})`;
      }
      logger.info("the partner's node gave no fast-path answer yet; asking again next pass", {
        agreement: f.agreement.name,
        period: f.period,
        error: error instanceof BaseError ? error.shortMessage : String(error),
      });
      return null;
    }
    for (const signature of answer.signatures) {
      try {
        await acceptSettlementSignature(db, chain, settlement, theirCarrier, signature, f.now);
      } catch (error) {
        if (error instanceof BaseError && !error.retryable) {
          return "the partner's officers signed other figures than this node's summary";
        }
        throw error;
      }
    }
    return null;
  }

  private async submit(
    f: Facts,
    report: (step: FastPathReport["step"], detail: string, txHash?: string | null) => FastPathReport,
    settlement: SettlementData,
    signaturesA: string[],
    signaturesB: string[],
  ): Promise<FastPathReport> {
    const { db, chain } = this.parts;
    if (!chain.transactions) throw new BaseError("the chain client has no node key to submit with");
    const data = chain.ledger.interface.encodeFunctionData("settleFastPath", [
      settlement,
      signaturesA,
      signaturesB,
    ]);
    let result;
    try {
      result = await chain.transactions.send({
        kind: "fast-path",
        // One submission per set of signatures: a set that failed never blocks another.
        idempotencyKey: `fastpath:${settlement.agreementId}:${settlement.period}:${settlement.deadline}:${keccakText([...signaturesA, ...signaturesB].join(",")).slice(2, 18)}`,
        to: chain.deployment.ledger,
        data,
      });
    } catch (error) {
      if (error instanceof ContractRevertError) {
        return this.decline(f, report, `the fast-path transaction would revert: ${error.shortMessage}`);
      }
      throw error;
    }
    if (result.status !== "confirmed") {
      return this.decline(f, report, `the fast-path transaction ${result.txHash} reverted`);
    }
    await recordFastPathSubmission(db, settlement.agreementId, settlement.period, result.txHash);
    const state = await periodState(chain, settlement.agreementId, settlement.period);
    return { ...report("submitted", "settled by the co-signed fast path", result.txHash), state };
  }

  /** Gives the fast path up for good (recorded, so a restart does not try again) and commits. */
  private async decline(
    f: Facts,
    report: (step: FastPathReport["step"], detail: string, txHash?: string | null) => FastPathReport,
    reason: string,
  ): Promise<FastPathReport> {
    await declineFastPath(this.parts.db, f.agreement.agreementId, f.period, reason);
    return this.fallBack(f, report, reason);
  }

  /** Commits the period (commit–reveal from here on) while the commit window is open. */
  private async fallBack(
    f: Facts,
    report: (step: FastPathReport["step"], detail: string, txHash?: string | null) => FastPathReport,
    reason: string,
  ): Promise<FastPathReport> {
    if (f.state !== "Committing") {
      return report("missed", `${reason}; the commit window closed before this node committed`);
    }
    this.parts.logger.info("committing: commit–reveal instead of the fast path", {
      agreement: f.agreement.name,
      period: f.period,
      reason,
    });
    const committed = this.parts.commit
      ? await this.parts.commit(f.agreement, f.period, f.peer)
      : await commitSummary(this.parts.db, this.parts.chain, f.agreement, f.period);
    const state = await periodState(this.parts.chain, f.agreement.agreementId, f.period);
    return { ...report("committed", reason, committed.txHash), state };
  }
}
