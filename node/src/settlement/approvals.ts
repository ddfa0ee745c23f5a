/**
 * Officers' approvals. An approval is an EIP-712 signature over exactly the figures and roots the
 * ledger holds for a period (`approvalFigures`), the round and a deadline. The node checks every
 * signature before it keeps it (right figures, a current officer of this carrier, not expired),
 * gathers its carrier's signatures and, once a threshold of current officers signed the same
 * approval, submits them in one `approveWithSignatures` transaction. When this carrier pays, that
 * transaction reserves what it owes from its escrow and reverts when the available escrow is short, so
 * the node refuses to send it then (the signatures are kept for when the escrow is funded).
 *
 * All officers of a carrier must sign the same struct, deadline included: the first signature fixes
 * the deadline, later ones reuse it while it has at least `MIN_REMAINING_SECONDS` left.
 */
import { id, type Wallet } from "ethers";
import type { ChainClient } from "../chain/client";
import { officerSigner } from "../chain/officer-signer";
import type { PeriodStateName } from "../protocol";
import type { Database, Queryable } from "../db/database";
import { textArray } from "../db/pg-array";
import { ConflictError, InputError } from "../errors";
import { APPROVAL_TYPES, approvalDigest, type ApprovalData } from "../protocol";
import { carrierName, formatAmount, isoTime, type PeriodContext } from "./period-context";
import { requireFundedApproval } from "./reservations";
import { preReveal } from "./pre-reveal";
import { requireState } from "./require-state";

export const FINAL_STATES: readonly PeriodStateName[] = ["Matched", "Reconciled", "Uncontested", "Resolved"];
export const PARTIAL_STATES: readonly PeriodStateName[] = ["Disputed", "Escalated"];
/** Default validity of a new approval: a week of chain time. */
export const DEFAULT_VALID_SECONDS = 7 * 86_400;
/** A stored approval is reused by the next officer only while it has at least this long left. */
export const MIN_REMAINING_SECONDS = 3_600;

export interface Figures {
  amountAB: bigint;
  amountBA: bigint;
  rootA: string;
  rootB: string;
  round: number;
}

/**
 * The figures officers must approve now: as the ledger says (final, or the undisputed part); or, with
 * `db`, while the period is Revealing and this node holds both openings that reconcile, the figures the
 * ledger will evaluate from them, with the one deadline both carriers sign (pre-reveal.ts).
 * @throws ConflictError when the state allows no approval of this kind, naming why.
 */
export async function figuresToApprove(
  chain: ChainClient,
  ctx: PeriodContext,
  partial: boolean,
  db?: Database,
): Promise<Figures & { deadline?: bigint }> {
  if (!partial && ctx.state === "Revealing" && db !== undefined) {
    const pre = await preReveal(db, chain, ctx);
    if (pre === null) {
      throw new ConflictError(
        `${ctx.label} is Revealing and this node does not hold both openings yet: officers approve ` +
          "once the partner's node has sent its opening, or after the reveal",
      );
    }
    if (pre.outcome === "Mismatched") {
      throw new ConflictError(
        `${ctx.label} will be Mismatched when revealed (the openings differ beyond tolerance): nothing to approve; ` +
          "the node reveals it and it goes through the dispute workflow",
      );
    }
    return { ...pre.figures, deadline: pre.deadline };
  }
  requireState(ctx.name, ctx.period, ctx.state, partial ? "a partial approval" : "approve", [
    ...(partial ? PARTIAL_STATES : FINAL_STATES),
  ]);
  const f = await chain.ledger.approvalFigures(ctx.agreementId, ctx.period, partial);
  return {
    amountAB: f.amountAB,
    amountBA: f.amountBA,
    rootA: f.rootA.toLowerCase(),
    rootB: f.rootB.toLowerCase(),
    round: Number(f.round),
  };
}

interface Row {
  officer: string;
  amount_ab: string;
  amount_ba: string;
  root_a: string;
  root_b: string;
  deadline: string | number | bigint;
  signature: string;
  submitted_tx: string | null;
}

export interface StoredApproval {
  officer: string;
  approval: ApprovalData;
  signature: string;
  submittedTx: string | null;
}

/**
 * Signatures this node holds for the period's round (one per officer, the latest): its own carrier's,
 * or with `carrierId` the partner's officers' its node sent before the reveal (approval-exchange.ts).
 */
export async function listStoredApprovals(
  db: Queryable,
  ctx: Pick<PeriodContext, "agreementId" | "period" | "ourCarrier">,
  round: number,
  partial: boolean,
  carrierId: string | null = ctx.ourCarrier,
): Promise<StoredApproval[]> {
  const { rows } = await db.query<Row>(
    `SELECT officer, amount_ab, amount_ba, root_a, root_b, deadline, signature, submitted_tx
       FROM officer_approvals
      WHERE agreement_id = $1 AND period = $2 AND round = $3 AND partial = $4 AND carrier_id = $5
      ORDER BY signed_at, officer`,
    [ctx.agreementId, ctx.period, round, partial, (carrierId ?? "").toLowerCase()],
  );
  return rows.map((row) => ({
    officer: row.officer,
    signature: row.signature,
    submittedTx: row.submitted_tx,
    approval: {
      agreementId: ctx.agreementId,
      period: ctx.period,
      carrierId: (carrierId ?? "").toLowerCase(),
      round,
      partialSettlement: partial,
      amountAB: BigInt(row.amount_ab),
      amountBA: BigInt(row.amount_ba),
      rootA: row.root_a,
      rootB: row.root_b,
      deadline: BigInt(row.deadline),
    },
  }));
}

const sameFigures = (a: ApprovalData, f: Figures) =>
  a.amountAB === f.amountAB &&
  a.amountBA === f.amountBA &&
  a.rootA.toLowerCase() === f.rootA &&
  a.rootB.toLowerCase() === f.rootB &&
  a.round === f.round;

/**
 * The approval this carrier's officers should sign now: the ledger's figures, and the deadline of the
 * signatures already gathered for them (when enough time is left), else `chainNow + validSeconds`.
 * @throws ConflictError when the state allows no approval of this kind; InputError when this node is not party.
 */
export async function prepareApproval(
  db: Database,
  chain: ChainClient,
  ctx: PeriodContext,
  partial: boolean,
  validSeconds = DEFAULT_VALID_SECONDS,
): Promise<{ approval: ApprovalData; figures: Figures; reusedDeadline: boolean }> {
  if (ctx.ourCarrier === null) throw new InputError(`this node is not party to ${ctx.name}`);
  const figures = await figuresToApprove(chain, ctx, partial, db);
  const stored = await listStoredApprovals(db, ctx, figures.round, partial);
  const usable = stored
    .map((s) => s.approval)
    .filter((a) => sameFigures(a, figures) && a.deadline >= ctx.chainNow + BigInt(MIN_REMAINING_SECONDS));
  const counts = new Map<bigint, number>();
  for (const a of usable) counts.set(a.deadline, (counts.get(a.deadline) ?? 0) + 1);
  const reuse = [...counts.entries()].sort((x, y) => y[1] - x[1] || Number(y[0] - x[0]))[0]?.[0];
  return {
    figures,
    reusedDeadline: figures.deadline === undefined && reuse !== undefined,
    approval: {
      agreementId: ctx.agreementId,
      period: ctx.period,
      carrierId: ctx.ourCarrier,
      round: figures.round,
      partialSettlement: partial,
      amountAB: figures.amountAB,
      amountBA: figures.amountBA,
      rootA: figures.rootA,
      rootB: figures.rootB,
      deadline: figures.deadline ?? reuse ?? ctx.chainNow + BigInt(validSeconds),
    },
  };
}

/** Signs `approval` with an officer's key (EIP-712, the ledger's domain). */
export async function signApproval(
  chain: ChainClient,
  wallet: Wallet,
  approval: ApprovalData,
): Promise<string> {
  return wallet.signTypedData(chain.ledgerDomain, APPROVAL_TYPES, approval);
}

/**
 * Checks an officer's signature and keeps it: it must be a current officer's of this node's carrier (an
 * ECDSA key, or a contract officer whose wallet validates it by ERC-1271, chain/officer-signer.ts) and
 * cover exactly the figures, roots and round the period holds now, before its deadline. The same check
 * serves signatures made elsewhere (a hardware wallet, the web console, a Safe).
 * @returns the officer's address.
 * @throws ConflictError naming what differs, or the contract officer that does not validate the signature;
 * InputError for a malformed signature; UnavailableError when the chain cannot be read.
 */
export async function acceptSignature(
  db: Database,
  chain: ChainClient,
  ctx: PeriodContext,
  approval: ApprovalData,
  signature: string,
): Promise<string> {
  const officer = await officerSigner(chain, approvalDigest(chain.ledgerDomain, approval), signature);
  if (ctx.ourCarrier === null || approval.carrierId.toLowerCase() !== ctx.ourCarrier) {
    throw new ConflictError(
      `the approval is for carrier ${carrierName(approval.carrierId)}; this node collects ${ctx.ourCarrier ? carrierName(ctx.ourCarrier) : "no carrier"}'s approvals`,
    );
  }
  if (approval.agreementId.toLowerCase() !== ctx.agreementId || approval.period !== ctx.period) {
    throw new ConflictError(`the approval is for another agreement-period than ${ctx.label}`);
  }
  const figures = await figuresToApprove(chain, ctx, approval.partialSettlement, db);
  if (!sameFigures(approval, figures)) {
    throw new ConflictError(
      `refused: the signature of ${officer} covers other figures than ${ctx.label} holds`,
      `signed: A→B ${formatAmount(approval.amountAB, ctx.token)}, B→A ${formatAmount(approval.amountBA, ctx.token)}, ` +
        `round ${approval.round}, roots ${approval.rootA} / ${approval.rootB}\n` +
        `period: A→B ${formatAmount(figures.amountAB, ctx.token)}, B→A ${formatAmount(figures.amountBA, ctx.token)}, ` +
        `round ${figures.round}, roots ${figures.rootA} / ${figures.rootB}`,
    );
  }
  if (figures.deadline !== undefined && approval.deadline !== figures.deadline) {
    throw new ConflictError(
      `refused: before the reveal both carriers sign one deadline, ${isoTime(figures.deadline)}; ` +
        `the signature of ${officer} is for ${isoTime(approval.deadline)}`,
    );
  }
  if (!(await chain.registry.isOfficer(ctx.ourCarrier, officer))) {
    throw new ConflictError(
      `refused: ${officer} is not a current officer of ${carrierName(ctx.ourCarrier)} (never was, or was removed)`,
    );
  }
  if (approval.deadline < ctx.chainNow) {
    throw new ConflictError(`refused: the approval expired at ${isoTime(approval.deadline)}`);
  }
  await keepSignature(db, approval, officer, signature);
  return officer;
}

/**
 * Keeps an officer's checked signature on `approval` (replacing that officer's earlier one for the round).
 * @throws BaseError when the database cannot be written.
 */
export async function keepSignature(
  db: Queryable,
  approval: ApprovalData,
  officer: string,
  signature: string,
): Promise<void> {
  await db.query(
    `INSERT INTO officer_approvals (agreement_id, period, round, partial, carrier_id, officer, amount_ab,
       amount_ba, root_a, root_b, deadline, signature)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (agreement_id, period, round, partial, officer) DO UPDATE SET
       amount_ab = EXCLUDED.amount_ab, amount_ba = EXCLUDED.amount_ba, root_a = EXCLUDED.root_a,
       root_b = EXCLUDED.root_b, deadline = EXCLUDED.deadline, signature = EXCLUDED.signature,
       signed_at = now(), submitted_tx = NULL`,
    [
      approval.agreementId.toLowerCase(),
      approval.period,
      approval.round,
      approval.partialSettlement,
      approval.carrierId.toLowerCase(),
      officer,
      approval.amountAB.toString(),
      approval.amountBA.toString(),
      approval.rootA.toLowerCase(),
      approval.rootB.toLowerCase(),
      approval.deadline.toString(),
      signature.toLowerCase(),
    ],
  );
}

/** The signatures this node holds on exactly `approval` (figures, round, deadline) from current officers of its carrier. */
export async function gatheredApprovals(
  db: Queryable,
  chain: ChainClient,
  ctx: Pick<PeriodContext, "agreementId" | "period" | "ourCarrier">,
  approval: ApprovalData,
): Promise<{ signers: StoredApproval[]; dropped: string[]; threshold: number }> {
  const carrier = approval.carrierId;
  const threshold = Number(await chain.registry.thresholdOf(carrier));
  const stored = (
    await listStoredApprovals(db, ctx, approval.round, approval.partialSettlement, carrier)
  ).filter(
    (s) =>
      s.approval.deadline === approval.deadline &&
      sameFigures(s.approval, {
        amountAB: approval.amountAB,
        amountBA: approval.amountBA,
        rootA: approval.rootA.toLowerCase(),
        rootB: approval.rootB.toLowerCase(),
        round: approval.round,
      }),
  );
  const signers: StoredApproval[] = [];
  const dropped: string[] = [];
  for (const s of stored) {
    if (await chain.registry.isOfficer(carrier, s.officer)) signers.push(s);
    else dropped.push(s.officer);
  }
  return { signers, dropped, threshold };
}

/** Records that `officers`' signatures of the round went on chain in `txHash` (either carrier's). */
export async function markSubmitted(
  db: Queryable,
  ctx: Pick<PeriodContext, "agreementId" | "period">,
  round: number,
  partial: boolean,
  officers: string[],
  txHash: string,
): Promise<void> {
  await db.query(
    `UPDATE officer_approvals SET submitted_tx = $1
      WHERE agreement_id = $2 AND period = $3 AND round = $4 AND partial = $5 AND officer = ANY($6::text[])`,
    [txHash, ctx.agreementId, ctx.period, round, partial, textArray(officers)],
  );
}

export interface ApprovalProgress {
  /**
   * `submitted`: this call sent the signatures; `approved`: the carrier had already reached its threshold;
   * `held`: the period is Revealing and the node holds the signatures for one `revealAndSettle` once the
   * partner's officers have signed too (approval-exchange.ts), or for after the reveal.
   */
  status: "waiting" | "submitted" | "approved" | "held";
  /** Current officers whose signatures on exactly this approval the node holds. */
  signers: string[];
  /** Signatures dropped because their officer is no longer one. */
  dropped: string[];
  threshold: number;
  txHash: string | null;
  blockNumber: bigint | null;
}

/**
 * Submits this carrier's gathered signatures on `approval` once a threshold of current officers signed
 * it, through the chain client's transaction manager (exactly once per approval).
 * @throws InputError when this carrier pays and its available escrow (escrowOf − reservedOf) does not
 * cover what the approval would reserve (naming the carrier, token, needed and available amounts;
 * nothing is sent, the signatures stay), or the client has no key; ConflictError when the transaction
 * reverted.
 */
export async function submitIfReady(
  db: Database,
  chain: ChainClient,
  ctx: PeriodContext,
  approval: ApprovalData,
): Promise<ApprovalProgress> {
  const carrier = approval.carrierId;
  const { signers, dropped, threshold } = await gatheredApprovals(db, chain, ctx, approval);
  const base = {
    signers: signers.map((s) => s.officer),
    dropped,
    threshold,
    txHash: null,
    blockNumber: null,
  };
  if (ctx.state === "Revealing") return { ...base, status: signers.length < threshold ? "waiting" : "held" };
  const progress = await chain.ledger.approvalsOf(
    ctx.agreementId,
    ctx.period,
    carrier,
    approval.partialSettlement,
  );
  if (progress.approved) return { ...base, status: "approved" };
  if (signers.length < threshold) return { ...base, status: "waiting" };
  if (!chain.transactions) throw new InputError("the chain client has no key to submit the approval with");
  await requireFundedApproval(chain, ctx, approval);
  const kind = approval.partialSettlement ? "partial" : "final";
  const result = await chain.transactions.send({
    kind: "approve",
    // One submission per set of signatures: a set that failed (expired, say) never blocks a later one.
    idempotencyKey: `approve:${ctx.agreementId}:${ctx.period}:${approval.round}:${kind}:${carrier}:${approval.deadline}:${id(base.signers.join(",")).slice(2, 18)}`,
    to: chain.deployment.ledger,
    data: chain.ledger.interface.encodeFunctionData("approveWithSignatures", [
      approval,
      signers.map((s) => s.signature),
    ]),
  });
  if (result.status !== "confirmed") {
    throw new ConflictError(`the approval transaction ${result.txHash} reverted`, result.error ?? undefined);
  }
  await markSubmitted(db, ctx, approval.round, approval.partialSettlement, base.signers, result.txHash);
  return { ...base, status: "submitted", txHash: result.txHash, blockNumber: result.blockNumber };
}
