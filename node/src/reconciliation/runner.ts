/**
 * The running node (`icl run`): follows the ledger and does, for every period this node committed,
 * what the protocol expects of it next —
 *
 * - on start, settles every transaction a previous run left pending (never sending twice);
 * - indexes the ledger's events into the database (the console and audits read them);
 * - for a period closed but not yet committed, chooses the path (fast-path.ts): the co-signed fast
 *   path when the partner's node holds the same summary and both carriers' officers signed it, else
 *   it commits and goes on by commit–reveal — both commitments in one `commitBoth` when the partner's
 *   node signed its commitment for this node (commit-exchange.ts), else its own;
 * - reveals once the ledger allows it (both committed, or the commit window closed) — both carriers'
 *   openings in one `revealBoth` once both commitments are on the ledger and the partner's node sent
 *   its opening (opening-exchange.ts), else its own; when both openings reconcile, it first holds the
 *   reveal for both carriers' officers' approvals and then reveals, approves and settles in one
 *   `revealAndSettle` (approval-exchange.ts, `settlement.approveBeforeReveal`);
 * - once both parties revealed and the roots differ (Reconciled within tolerance or Mismatched),
 *   compares with the counterparty's node and stores the discrepancy report with its evidence;
 * - hands the partner's node the sealed evidence bundles the ledger names for a period, and fetches the
 *   ones the partner cited when this node's evidence lookup asks (evidence-exchange.ts);
 * - logs every change of a period's state;
 * - watches every period's deadlines: warns officers, settles Approved periods (settlement/deadline-watch.ts).
 *
 * One `pass()` does all of this once; `run()` repeats it until stopped. Every step is idempotent and
 * is retried on the next pass when it fails (an unreachable peer or RPC node delays, never loses).
 */
import { ZeroHash, type Signer } from "ethers";
import type { ChainClient } from "../chain/client";
import { sleep } from "../chain/retry";
import { requireAgreement, type LocalAgreement } from "../db/agreements";
import type { Database } from "../db/database";
import { hasReport } from "../db/reports";
import { listCommittedSummaries } from "../db/summaries";
import type { EvidenceStore } from "../evidence/store";
import { BaseError, InputError, UnavailableError } from "../errors";
import { timelineService } from "../services/timeline";
import type { Logger } from "../logger";
import { ApprovalExchange, type PreRevealReport } from "./approval-exchange";
import { CommitmentExchange } from "./commit-exchange";
import { compareWithPeer, type ComparisonResult } from "./compare";
import { evidenceAnswerer, fetchPartnerEvidence, type PartnerEvidence } from "./evidence-exchange";
import { OpeningExchange } from "./opening-exchange";
import { peerDomain, type PeerVerifier } from "./peer-auth";
import { PeerClient } from "./peer-client";
import { chainPeerVerifier } from "./peer-directory";
import { PeerServer } from "./peer-server";
import type { PeriodStateName } from "../protocol";
import { DeadlineWatch, type WatchOptions, type WatchReport } from "../settlement/deadline-watch";
import { DEFAULT_FAST_PATH, FastPath, type FastPathOptions, type FastPathReport } from "./fast-path";
import { formatPeriod, periodState, roundView } from "./reveal";

export interface RunnerParts {
  db: Database;
  chain: ChainClient;
  /** The node key (the chain client's transaction manager signs with the same key). */
  signer: Signer;
  evidence: EvidenceStore | null;
  logger: Logger;
  /** Allowed clock difference between nodes (default 5 minutes). */
  maxSkewMs?: number;
  /** Per-request timeout towards peers (default 30 s). */
  peerTimeoutMs?: number;
  /** The deadline watch's `watch.*` settings (defaults: warn a day ahead, settle on its own). */
  watch?: Partial<WatchOptions>;
  /** The fast path's `settlement.*` settings (default: on, commit a day before the window closes). */
  fastPath?: Partial<FastPathOptions>;
}

export interface PassReport {
  /** Every committed period looked at, with the state it is in now. */
  periods: { agreement: string; period: number; state: PeriodStateName }[];
  revealed: { agreement: string; period: number; txHash: string }[];
  /** Approving before the reveal (approval-exchange.ts): periods held for officers, or revealed and settled. */
  preReveal: PreRevealReport[];
  /** The fast path's steps for periods closed but not committed by this node. */
  fastPath: FastPathReport[];
  compared: ComparisonResult[];
  /** The deadline watch: alerts recorded for the first time this pass, settlements and releases it sent. */
  alerts: WatchReport["alerts"];
  settled: WatchReport["settled"];
  released: WatchReport["released"];
  /** Steps that failed this pass and will be tried again. */
  deferred: { agreement: string; period: number; step: string; error: string }[];
}

const FINAL_STATES: ReadonlySet<PeriodStateName> = new Set(["Settled", "Void"]);

export class NodeRunner {
  /** Answers the counterparty's peer requests; mount it in the gateway. */
  readonly peerServer: PeerServer;
  /** Fetches a bundle the ledger names for a period from the partner's node (the evidence lookup's fallback). */
  readonly partnerEvidence: PartnerEvidence;
  private readonly verifier: PeerVerifier;
  private readonly clients = new Map<string, PeerClient>();
  private readonly lastStates = new Map<string, PeriodStateName>();
  /**
   * Periods Settled or Void with nothing left to do (compared, where the roots differ): never asked
   * about again. A Settled period whose comparison failed stays out of it until it succeeds.
   */
  private readonly finished = new Set<string>();
  private readonly watch: DeadlineWatch;
  private readonly fastPath: FastPath;
  private readonly openings: OpeningExchange;
  private readonly approvals: ApprovalExchange;

  private constructor(
    private readonly parts: RunnerParts,
    readonly carrierId: string,
  ) {
    const { chain } = parts;
    this.verifier = chainPeerVerifier(chain, carrierId, { maxSkewMs: parts.maxSkewMs });
    const commitments = new CommitmentExchange({
      db: parts.db,
      chain,
      signer: parts.signer,
      logger: parts.logger,
      carrierId,
    });
    this.fastPath = new FastPath({
      db: parts.db,
      chain,
      logger: parts.logger,
      carrierId,
      options: { ...DEFAULT_FAST_PATH, ...parts.fastPath },
      commit: (agreement, period, peer) => commitments.commit(agreement, period, peer),
    });
    this.openings = new OpeningExchange({ db: parts.db, chain, logger: parts.logger, carrierId });
    this.approvals = new ApprovalExchange({
      db: parts.db,
      chain,
      logger: parts.logger,
      carrierId,
      options: { ...DEFAULT_FAST_PATH, ...parts.fastPath },
    });
    this.peerServer = new PeerServer({
      db: parts.db,
      chain,
      signer: parts.signer,
      verifier: this.verifier,
      domain: this.domain(),
      logger: parts.logger,
      settlement: this.fastPath.answer,
      commitment: commitments.answer,
      opening: this.openings.answer,
      approval: this.approvals.answer,
      evidence: evidenceAnswerer({
        db: parts.db,
        chain,
        evidence: parts.evidence,
        timeline: timelineService(parts.db),
        logger: parts.logger,
      }),
    });
    this.partnerEvidence = async (agreementId, period, cid) => {
      const agreement = await requireAgreement(parts.db, agreementId);
      const peer = this.peerFor(agreement);
      if (peer === null || parts.evidence === null) {
        throw new UnavailableError(
          `the partner's node of ${agreement.name} cannot be asked for evidence: no peer URL is set ` +
            `(icl agreements set-peer ${agreement.name} --url URL)`,
        );
      }
      await fetchPartnerEvidence(peer, parts.evidence, agreement.agreementId, period, cid);
    };
    this.watch = new DeadlineWatch({ ...parts, carrierId, options: parts.watch, fastPath: parts.fastPath });
  }

  /**
   * Checks the node key is a registered node of a carrier and settles transactions a previous run
   * left pending.
   * @throws InputError when the node key is not registered on the ledger.
   */
  static async start(parts: RunnerParts): Promise<NodeRunner> {
    const address = await parts.signer.getAddress();
    const carrierId = await parts.chain.registry.carrierOfNode(address);
    if (carrierId === ZeroHash) {
      throw new InputError(
        `the node key ${address} is not registered as a node of any carrier on the ledger`,
      );
    }
    const runner = new NodeRunner(parts, carrierId);
    const settled = (await parts.chain.transactions?.reconcile()) ?? [];
    if (settled.length > 0) {
      parts.logger.info("settled transactions left pending by a previous run", { count: settled.length });
    }
    return runner;
  }

  /** One round of following the ledger; never throws for one period's failure (see `deferred`). */
  async pass(): Promise<PassReport> {
    const { db, chain, logger } = this.parts;
    const report: PassReport = {
      periods: [],
      revealed: [],
      preReveal: [],
      fastPath: [],
      compared: [],
      alerts: [],
      settled: [],
      released: [],
      deferred: [],
    };
    try {
      const sync = await chain.indexer.sync();
      // Blocks left the chain (a reorganisation, a chain restored from an older state): a period seen
      // Settled may not be any more.
      if (sync.reorgs.length > 0) {
        this.finished.clear();
        this.lastStates.clear();
      }
    } catch (error) {
      logger.warn("the event index could not be brought up to date; trying again next pass", {
        error: describe(error),
      });
    }
    try {
      // Transactions recorded as mined that the chain dropped since go out again (the same bytes).
      await chain.transactions?.recheckRecent();
    } catch (error) {
      logger.warn("this node's recent transactions could not be checked; trying again next pass", {
        error: describe(error),
      });
    }
    for (const summary of await listCommittedSummaries(db)) {
      const key = `${summary.agreementId}:${summary.period}`;
      // Settled and Void periods never change again: once compared, stop asking the chain about them.
      if (this.finished.has(key)) continue;
      const where = { agreement: summary.agreementId, period: summary.period };
      let step = "read the period";
      try {
        const agreement = await requireAgreement(db, summary.agreementId);
        where.agreement = agreement.name;
        step = "take the fast path";
        const fast = await this.fastPath.step(agreement, summary.period, this.peerFor(agreement));
        if (fast !== null) {
          report.fastPath.push(fast);
          this.noteState(agreement, summary.period, fast.state);
          report.periods.push({ ...where, state: fast.state });
          if (FINAL_STATES.has(fast.state)) this.finished.add(key);
          continue;
        }
        step = "read the period";
        let state = await periodState(chain, agreement.agreementId, summary.period);
        const view = () => roundView(chain, agreement.agreementId, summary.period, agreement.side);
        let round = await view();
        if (state === "Revealing" && !round.weRevealed) {
          const peer = this.peerFor(agreement);
          step = "exchange openings";
          await this.openings.exchange(agreement, summary.period, peer);
          step = "approve before the reveal";
          const pre = await this.approvals.step(agreement, summary.period, peer);
          if (pre !== null) report.preReveal.push(pre);
          if (pre?.step === "held") {
            this.noteState(agreement, summary.period, pre.state);
            report.periods.push({ ...where, state: pre.state });
            continue;
          }
          if (pre === null) {
            step = "reveal";
            const revealed = await this.openings.reveal(agreement, summary.period);
            report.revealed.push({ ...where, txHash: revealed.txHash });
            state = revealed.state;
          } else {
            state = pre.state;
          }
          round = await view();
        } else {
          step = "send the approvals signed before the reveal";
          const held = await this.approvals.submitHeld(agreement, summary.period, state);
          if (held !== null) {
            report.preReveal.push(held);
            state = held.state;
          }
        }
        this.noteState(agreement, summary.period, state);
        report.periods.push({ ...where, state });
        if (round.bothRevealed && round.ourRoot !== round.theirRoot) {
          if (!(await hasReport(db, agreement.agreementId, summary.period, round.round))) {
            step = "compare with the counterparty";
            const peer = this.peerFor(agreement);
            if (peer === null) {
              throw new InputError(
                `no peer URL for ${agreement.name}; set it with icl agreements set-peer ${agreement.name} --url URL`,
              );
            }
            report.compared.push(
              await compareWithPeer(
                { db, chain, peer, evidence: this.parts.evidence, logger },
                agreement,
                summary.period,
              ),
            );
          }
        }
        if (FINAL_STATES.has(state)) this.finished.add(key);
      } catch (error) {
        report.deferred.push({ ...where, step, error: describe(error) });
        logger.warn(`could not ${step}; trying again next pass`, { ...where, error: describe(error) });
      }
    }
    try {
      const watched = await this.watch.check();
      report.alerts.push(...watched.alerts);
      report.settled.push(...watched.settled);
      report.released.push(...watched.released);
      report.deferred.push(...watched.deferred);
    } catch (error) {
      report.deferred.push({ agreement: "*", period: 0, step: "watch deadlines", error: describe(error) });
      logger.warn("could not watch deadlines; trying again next pass", { error: describe(error) });
    }
    return report;
  }

  /** Passes every `pollMs` until `signal` aborts. */
  async run(signal: AbortSignal, pollMs: number): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.pass();
      } catch (error) {
        // The database itself failing: say so, and keep trying.
        this.parts.logger.error("pass failed", { error: describe(error) });
      }
      await sleep(pollMs, signal).catch(() => undefined);
    }
  }

  private domain() {
    return peerDomain(this.parts.chain.chainId, this.parts.chain.deployment.ledger);
  }

  private peerFor(agreement: LocalAgreement): PeerClient | null {
    if (agreement.peerUrl === null) return null;
    let client = this.clients.get(agreement.peerUrl);
    if (!client) {
      client = new PeerClient({
        baseUrl: agreement.peerUrl,
        signer: this.parts.signer,
        domain: this.domain(),
        verifier: this.verifier,
        timeoutMs: this.parts.peerTimeoutMs,
      });
      this.clients.set(agreement.peerUrl, client);
    }
    return client;
  }

  private noteState(agreement: LocalAgreement, period: number, state: PeriodStateName): void {
    const key = `${agreement.agreementId}:${period}`;
    const before = this.lastStates.get(key);
    if (before === state) return;
    this.lastStates.set(key, state);
    this.parts.logger.info(`period ${agreement.name} ${formatPeriod(period)} is ${state}`, {
      agreement: agreement.agreementId,
      period,
      state,
      ...(before === undefined ? {} : { was: before }),
    });
  }
}

function describe(error: unknown): string {
  if (error instanceof BaseError)
    return error.details ? `${error.shortMessage} (${error.details})` : error.shortMessage;
  return error instanceof Error ? error.message : String(error);
}
