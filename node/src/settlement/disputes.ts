/**
 * The dispute workflow from an officer's (or the arbiter's) side: each step is first planned — the
 * ledger's state, the caller's role, the windows and the figures are checked, and what will be sent is
 * described in words — and only then sent, exactly once, through the transaction manager of the
 * person's own key. The ledger checks all of it again; the plan makes the refusal readable and early.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ZeroHash } from "ethers";
import type { ChainClient } from "../chain/client";
import {
  MAX_PROPOSALS,
  bareClaim,
  computeCommitment,
  type ContestClaim,
  type PeriodStateName,
} from "../protocol";
import { deriveEvidenceKey, putEvidence } from "../evidence/bundle";
import { parseBlockCid } from "../evidence/cid";
import type { EvidenceStore } from "../evidence/store";
import { ConflictError, InputError } from "../errors";
import { periodState } from "../reconciliation/reveal";
import { carrierName, formatAmount, isoTime, type PeriodContext } from "./period-context";
import { requireState } from "./require-state";

/** Reason codes carried by DisputeOpened / DefaultContested (uint16). */
export const DISPUTE_REASONS = {
  missing_cdrs: 1,
  duration_difference: 2,
  rate_difference: 3,
  day_boundary_shift: 4,
  default_contested: 5,
  other: 99,
} as const;
export type DisputeReason = keyof typeof DISPUTE_REASONS;

/** `missing_cdrs` or `1` → the code. @throws InputError */
export function parseReason(text: string): number {
  if (/^\d{1,5}$/.test(text) && Number(text) <= 0xffff) return Number(text);
  const code = DISPUTE_REASONS[text as DisputeReason];
  if (code === undefined) {
    throw new InputError(
      `unknown reason '${text}': use a code or one of ${Object.keys(DISPUTE_REASONS).join(", ")}`,
      {
        field: "reason",
      },
    );
  }
  return code;
}

export function reasonName(code: number): string {
  return Object.entries(DISPUTE_REASONS).find(([, c]) => c === code)?.[0] ?? String(code);
}

/** The reasons in words, as a person reads them before signing (the console's format.js has the same). */
const REASON_WORDS: Record<DisputeReason, string> = {
  missing_cdrs: "missing CDRs",
  duration_difference: "duration difference",
  rate_difference: "rate difference",
  day_boundary_shift: "day-boundary shift",
  default_contested: "default contested",
  other: "other",
};

/** "missing CDRs (code 1)": the reason in words and the code the ledger records. */
export function reasonWords(code: number): string {
  const name = reasonName(code) as DisputeReason;
  return `${REASON_WORDS[name] ?? "a reason of its own"} (code ${code})`;
}

/** 0 → "first round", 2 → "correction round 2". */
function roundWords(round: bigint | number): string {
  return BigInt(round) === 0n ? "first round" : `correction round ${round}`;
}

export type DisputeStep = "open" | "propose" | "counter" | "accept" | "escalate" | "withdraw" | "rule";

export interface StepInput {
  amountAB?: bigint;
  amountBA?: bigint;
  /**
   * Contesting a default after our node committed: the opening of that commitment (committedOpening()),
   * which the ledger requires instead of free figures (M-2).
   */
  opening?: ContestClaim;
  reasonCode?: number;
  evidenceCid?: string;
}

export interface StepPlan {
  step: DisputeStep;
  /** The ledger function that will be called. */
  fn:
    | "openDispute"
    | "contestDefault"
    | "proposeFigures"
    | "acceptFigures"
    | "escalate"
    | "withdrawDispute"
    | "rule";
  data: string;
  idempotencyKey: string;
  /** What will be signed and sent, in words. */
  description: string;
  evidenceCid: string | null;
}

/**
 * The claim of a default contest. A carrier whose node committed in the round must open that commitment
 * (the ledger refuses anything else, M-2): its claim is the committed figures. One that did not commit
 * states its figures (--ab and --ba).
 * @throws ConflictError when our node committed but the opening is missing, does not open the commitment,
 * or differs from the figures given; InputError when figures are missing.
 */
function contestClaim(
  chain: ChainClient,
  ctx: PeriodContext,
  ours: string,
  ourHash: string,
  record: { round: bigint },
  input: StepInput,
): ContestClaim {
  if (ourHash === ZeroHash) {
    if (input.amountAB === undefined || input.amountBA === undefined)
      throw new InputError(
        "contesting a default states your figures: --ab and --ba (or close the period first)",
      );
    return bareClaim(input.amountAB, input.amountBA);
  }
  const round = Number(record.round);
  const o = input.opening;
  if (o === undefined)
    throw new ConflictError(
      `our node committed ${ctx.label} in round ${round}: contesting the default opens that commitment, ` +
        "and this node holds no committed summary for it; nothing was signed",
    );
  const computed = computeCommitment({
    chainId: chain.chainId,
    ledger: chain.deployment.ledger,
    agreementId: ctx.agreementId,
    period: ctx.period,
    round,
    party: ours,
    root: o.root,
    amountAB: o.amountAB,
    amountBA: o.amountBA,
    salt: o.salt,
  });
  if (computed.toLowerCase() !== ourHash.toLowerCase())
    throw new ConflictError(
      `our stored summary of ${ctx.label} does not open the commitment our node sent (${ourHash}); ` +
        "nothing was signed",
    );
  if (
    (input.amountAB !== undefined && input.amountAB !== o.amountAB) ||
    (input.amountBA !== undefined && input.amountBA !== o.amountBA)
  )
    throw new ConflictError(
      `our node committed ${ctx.label} with other figures: a committed party contests with its committed ` +
        "figures (leave out --ab and --ba); nothing was signed",
    );
  return o;
}

const side = (ctx: PeriodContext, carrier: string | null) =>
  carrier === ctx.terms.carrierA ? 1n : carrier === ctx.terms.carrierB ? 2n : 0n;

/**
 * Checks that `step` is allowed now for `signer` and builds the call.
 * @throws ConflictError naming the state, role or window that refuses it; InputError for missing figures.
 */
export async function planDisputeStep(
  chain: ChainClient,
  ctx: PeriodContext,
  step: DisputeStep,
  signer: string,
  input: StepInput,
): Promise<StepPlan> {
  const { agreementId, period, token } = ctx;
  const iface = chain.ledger.interface;
  const money = (value: bigint) => formatAmount(value, token);
  const a = carrierName(ctx.terms.carrierA);
  const b = carrierName(ctx.terms.carrierB);
  const figuresText = (ab: bigint, ba: bigint) =>
    `A (${a}) owes B (${b}) ${money(ab)}; B owes A ${money(ba)}`;
  const need = (allowed: PeriodStateName[], what: string) =>
    requireState(ctx.name, period, ctx.state, what, allowed);
  const [record, dispute, deadlines] = await Promise.all([
    chain.ledger.periodRecord(agreementId, period),
    chain.ledger.disputeRecord(agreementId, period),
    chain.ledger.deadlines(agreementId, period),
  ]);
  const header = (verb: string) => `${verb} on ${ctx.label} (${roundWords(record.round)}, now ${ctx.state})`;
  const cid = input.evidenceCid ?? null;

  if (step === "rule") {
    need(["Escalated"], "a ruling");
    if (signer.toLowerCase() !== ctx.terms.arbiter.toLowerCase())
      throw new ConflictError(
        `${signer} is not the arbiter of ${ctx.name} (${ctx.terms.arbiter}); nothing was signed`,
      );
    if (input.amountAB === undefined || input.amountBA === undefined)
      throw new InputError("a ruling needs both figures (--ab and --ba)");
    const ranges = [
      ["A→B", input.amountAB, record.amountABofA, record.amountABofB],
      ["B→A", input.amountBA, record.amountBAofA, record.amountBAofB],
    ] as const;
    for (const [direction, amount, x, y] of ranges) {
      const [low, high] = x <= y ? [x, y] : [y, x];
      if (amount < low || amount > high)
        throw new ConflictError(
          `the ruling ${direction} ${money(amount)} lies outside the claims [${money(low)}, ${money(high)}]; nothing was signed`,
        );
    }
    return {
      step,
      fn: "rule",
      data: iface.encodeFunctionData("rule", [
        agreementId,
        period,
        input.amountAB,
        input.amountBA,
        cid ?? "",
      ]),
      idempotencyKey: `rule:${agreementId}:${period}:${dispute.escalatedAt}`,
      description:
        `${header("Ruling")} as arbiter ${signer}:\n  ${figuresText(input.amountAB, input.amountBA)}\n` +
        `  claims: A→B between ${money(ranges[0][2])} (A) and ${money(ranges[0][3])} (B); ` +
        `B→A between ${money(ranges[1][2])} (A) and ${money(ranges[1][3])} (B)\n  rationale ${cid ?? "(none)"}`,
      evidenceCid: cid,
    };
  }

  const ours = ctx.ourCarrier;
  if (ours === null) throw new InputError(`this node is not party to ${ctx.name}`);
  if (!(await chain.registry.isOfficer(ours, signer)))
    throw new ConflictError(`${signer} is not a current officer of ${carrierName(ours)}; nothing was signed`);
  const us = side(ctx, ours);
  const them = carrierName(ctx.theirCarrier!);
  const key = (name: string) => `${name}:${agreementId}:${period}:${record.round}:${dispute.lastActionAt}`;

  switch (step) {
    case "open": {
      need(["Mismatched", "Defaulted"], "opening a dispute");
      const reason = input.reasonCode ?? DISPUTE_REASONS.other;
      if (ctx.state === "Mismatched") {
        return {
          step,
          fn: "openDispute",
          data: iface.encodeFunctionData("openDispute", [agreementId, period, ours, reason, cid ?? ""]),
          idempotencyKey: key("dispute-open"),
          description:
            `${header("Open a dispute")} as officer ${signer} of ${carrierName(ours)}:\n` +
            `  revealed: A says ${figuresText(record.amountABofA, record.amountBAofA)}\n` +
            `            B says ${figuresText(record.amountABofB, record.amountBAofB)}\n` +
            `  reason: ${reasonWords(reason)}; evidence ${cid ?? "(none)"}`,
          evidenceCid: cid,
        };
      }
      const ourStatus = us === 1n ? record.statusA : record.statusB;
      if (BigInt(ourStatus) !== 0n) {
        throw new ConflictError(
          `${them} did not reveal ${ctx.label}; only ${them} may contest. The period becomes Uncontested at ` +
            `your figures after ${isoTime(deadlines.defaultDisputeDeadline)}`,
        );
      }
      const claim = contestClaim(chain, ctx, ours, us === 1n ? record.hashA : record.hashB, record, input);
      return {
        step,
        fn: "contestDefault",
        data: iface.encodeFunctionData("contestDefault", [
          agreementId,
          period,
          ours,
          claim,
          input.reasonCode ?? DISPUTE_REASONS.default_contested,
          cid ?? "",
        ]),
        idempotencyKey: key("dispute-contest"),
        description:
          `${header("Contest the default")} as officer ${signer} of ${carrierName(ours)}:\n` +
          `  your claim: ${figuresText(claim.amountAB, claim.amountBA)}` +
          (claim.root === ZeroHash ? "\n" : ` (opening our node's commitment, root ${claim.root})\n`) +
          `  the present party's figures: ${figuresText(us === 1n ? record.amountABofB : record.amountABofA, us === 1n ? record.amountBAofB : record.amountBAofA)}\n` +
          `  evidence ${cid ?? "(none)"}; window closes ${isoTime(deadlines.defaultDisputeDeadline)}`,
        evidenceCid: cid,
      };
    }
    case "propose":
    case "counter": {
      need(["Disputed"], step === "counter" ? "a counter-proposal" : "a proposal");
      if (step === "counter" && BigInt(dispute.proposer) !== 3n - us)
        throw new ConflictError(`there is no proposal from ${them} to counter (use icl dispute propose)`);
      if (input.amountAB === undefined || input.amountBA === undefined)
        throw new InputError("a proposal needs both figures: --ab and --ba");
      if (Number(dispute.proposals) >= MAX_PROPOSALS)
        throw new ConflictError(
          `this dispute has had its ${MAX_PROPOSALS} proposals: accept the latest one or escalate once the response window closes at ${isoTime(deadlines.responseDeadline)}`,
        );
      return {
        step,
        fn: "proposeFigures",
        data: iface.encodeFunctionData("proposeFigures", [
          agreementId,
          period,
          ours,
          input.amountAB,
          input.amountBA,
          cid ?? "",
        ]),
        idempotencyKey: `${key("dispute-propose")}:${input.amountAB}:${input.amountBA}`,
        description:
          `${header(step === "counter" ? "Counter-propose" : "Propose figures")} as officer ${signer} of ${carrierName(ours)}:\n` +
          `  ${figuresText(input.amountAB, input.amountBA)}\n` +
          (BigInt(dispute.proposer) !== 0n
            ? `  latest proposal (by ${BigInt(dispute.proposer) === us ? "you" : them}): ${figuresText(dispute.proposedAB, dispute.proposedBA)}\n`
            : "") +
          `  evidence ${cid ?? "(none)"}; ${them} then has until about ${isoTime(ctx.chainNow + (deadlines.responseDeadline - dispute.lastActionAt))} to answer`,
        evidenceCid: cid,
      };
    }
    case "accept": {
      need(["Disputed"], "accepting a proposal");
      if (BigInt(dispute.proposer) !== 3n - us)
        throw new ConflictError(`there is no proposal from ${them} to accept`);
      if (ctx.chainNow > deadlines.responseDeadline)
        throw new ConflictError(
          `the response window closed at ${isoTime(deadlines.responseDeadline)}; the dispute can only be escalated now`,
        );
      return {
        step,
        fn: "acceptFigures",
        data: iface.encodeFunctionData("acceptFigures", [
          agreementId,
          period,
          ours,
          dispute.proposedAB,
          dispute.proposedBA,
        ]),
        idempotencyKey: key("dispute-accept"),
        description:
          `${header(`Accept ${them}'s proposal`)} as officer ${signer} of ${carrierName(ours)}:\n` +
          `  ${figuresText(dispute.proposedAB, dispute.proposedBA)}\n  the period becomes Resolved at these figures`,
        evidenceCid: null,
      };
    }
    case "escalate": {
      need(["Disputed"], "escalation");
      if (ctx.chainNow <= deadlines.responseDeadline)
        throw new ConflictError(
          `escalation is possible once the response window closes at ${isoTime(deadlines.responseDeadline)} (chain time now ${isoTime(ctx.chainNow)})`,
        );
      return {
        step,
        fn: "escalate",
        data: iface.encodeFunctionData("escalate", [agreementId, period, ours]),
        idempotencyKey: key("dispute-escalate"),
        description:
          `${header(`Escalate to the arbiter ${ctx.terms.arbiter}`)} as officer ${signer} of ${carrierName(ours)}:\n` +
          `  claims: A says ${figuresText(record.amountABofA, record.amountBAofA)}\n` +
          `          B says ${figuresText(record.amountABofB, record.amountBAofB)}\n` +
          "  if the arbiter does not rule in time, the period resolves at the mean of the claims",
        evidenceCid: null,
      };
    }
    case "withdraw": {
      need(["Disputed"], "withdrawing a dispute");
      if (BigInt(dispute.opener) !== us)
        throw new ConflictError(`only the carrier that opened the dispute (${them}) may withdraw it`);
      const [ab, ba] =
        us === 1n ? [record.amountABofB, record.amountBAofB] : [record.amountABofA, record.amountBAofA];
      return {
        step,
        fn: "withdrawDispute",
        data: iface.encodeFunctionData("withdrawDispute", [agreementId, period, ours]),
        idempotencyKey: key("dispute-withdraw"),
        description:
          `${header("Withdraw the dispute")} as officer ${signer} of ${carrierName(ours)}:\n` +
          `  this concedes ${them}'s figures: ${figuresText(ab, ba)}`,
        evidenceCid: null,
      };
    }
  }
  throw new InputError(`unknown dispute step '${step as string}'`);
}

export interface StepResult {
  txHash: string;
  blockNumber: bigint;
  state: PeriodStateName;
}

/** Sends the planned call with the chain client's key, once. @throws ConflictError when it reverted. */
export async function executeStep(
  chain: ChainClient,
  ctx: PeriodContext,
  plan: StepPlan,
): Promise<StepResult> {
  if (!chain.transactions) throw new InputError("the chain client has no key to sign with");
  const result = await chain.transactions.send({
    kind: plan.fn,
    idempotencyKey: plan.idempotencyKey,
    to: chain.deployment.ledger,
    data: plan.data,
  });
  if (result.status !== "confirmed")
    throw new ConflictError(
      `the ${plan.fn} transaction ${result.txHash} reverted`,
      result.error ?? undefined,
    );
  return {
    txHash: result.txHash,
    blockNumber: result.blockNumber,
    state: await periodState(chain, ctx.agreementId, ctx.period),
  };
}

/**
 * Seals files as one evidence bundle for the agreement-period (the key only the two parties derive)
 * and stores it; returns the CID. @throws InputError for an unreadable file or a bundle over 256 MiB
 * (MAX_EVIDENCE_BYTES).
 */
export async function storeEvidenceFiles(
  store: EvidenceStore,
  secret: Uint8Array,
  ctx: Pick<PeriodContext, "agreementId" | "period">,
  files: readonly string[],
): Promise<string> {
  const entries = files.map((file) => {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (error) {
      throw new InputError("the evidence file cannot be read", { file, cause: error });
    }
    return {
      name: path.basename(file),
      sha256: crypto.createHash("sha256").update(bytes).digest("hex"),
      base64: bytes.toString("base64"),
    };
  });
  return putEvidence(store, { files: entries }, deriveEvidenceKey(secret, ctx.agreementId, ctx.period), {
    agreementId: ctx.agreementId,
    period: ctx.period,
    purpose: "dispute-evidence",
  });
}

/** The longest rationale typed for a ruling, in characters (a page or two of reasons, not a file). */
export const MAX_RATIONALE_CHARS = 20_000;

/**
 * Stores a ruling's rationale typed as text: public, not sealed (the ruling is on the public ledger and
 * so are its reasons, which both parties and the regulator read), as its UTF-8 bytes, so `ipfs cat` of
 * the CID shows it; returns the CID the ruling carries on chain.
 * @throws InputError for empty text or more than {@link MAX_RATIONALE_CHARS} characters.
 */
export async function storeRationaleText(store: EvidenceStore, text: string): Promise<string> {
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_RATIONALE_CHARS) {
    throw new InputError(`a rationale is 1 to ${MAX_RATIONALE_CHARS} characters of text`, {
      field: "rationale",
    });
  }
  return store.put(new TextEncoder().encode(trimmed));
}

/** Stores a file as it is (public material, e.g. an arbiter's ruling rationale); returns the CID. */
export async function storePublicFile(store: EvidenceStore, file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    throw new InputError("the file cannot be read", { file, cause: error });
  }
  return store.put(bytes);
}

/** Validates a CID given on the command line. @throws InputError */
export function checkCid(text: string, field: string): string {
  try {
    return parseBlockCid(text);
  } catch (error) {
    throw new InputError(`'${text}' is not an evidence CID (CIDv1 raw or dag-pb, bafkrei… or bafybei…)`, {
      field,
      cause: error,
    });
  }
}
