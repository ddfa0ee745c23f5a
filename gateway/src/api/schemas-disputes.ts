/** The zod schemas of the drill-down, evidence and dispute-signing routes (routes-disputes.ts). */
import { z } from "zod/v4";
import { MAX_RATIONALE_CHARS } from "../../../node/src/settlement/disputes";
import { Address, Integer } from "./schemas";
import { Cid } from "./schemas-ledger";

const Finding = z
  .enum(["missing_on_their_side", "duration_difference", "rate_difference"])
  .nullable()
  .meta({ description: "what the discrepancy report found about this call; null: both sides agree" });

export const LeafCallsResponse = z.object({
  agreement: z.string(),
  period: z.number().int(),
  leaf: z.object({
    direction: z.enum(["AB", "BA"]),
    service: z.string(),
    destination: z.string(),
    day: z.string().meta({ description: "YYYY-MM-DD (UTC)" }),
  }),
  round: z.number().int().nullable().meta({ description: "the report's round; null without a report" }),
  calls: z.array(
    z.object({
      callKey: z.string(),
      cdrId: z.string(),
      aNumber: z.string(),
      bNumber: z.string(),
      start: z.string(),
      billedSeconds: Integer,
      amount: Integer.meta({ description: "micro-units" }),
      finding: Finding,
      theirs: Integer.nullable().meta({
        description: "the partner's billed seconds or amount, where they differ",
      }),
    }),
  ),
  truncated: z.boolean(),
  missingOnOurSide: z
    .array(z.string())
    .meta({ description: "call keys the partner has and this node lacks (no CDR here to show)" }),
});

export const EvidenceStored = z.object({
  cid: z.string(),
  name: z.string(),
  bytes: z.number().int(),
  sha256: z.string(),
});

const StepName = z.enum(["open", "propose", "counter", "accept", "escalate", "withdraw", "rule"]);

export const PlanBody = z.strictObject({
  step: StepName,
  amountAB: Integer.optional().meta({ description: "base units of the settlement token" }),
  amountBA: Integer.optional(),
  reason: z
    .string()
    .max(32)
    .optional()
    .meta({ description: "open: missing_cdrs, duration_difference, rate_difference, … or a code" }),
  evidenceCid: Cid.optional(),
  rationale: z.string().max(MAX_RATIONALE_CHARS).optional().meta({
    description:
      "rule: the ruling's reasons as text; the node stores them as public evidence and the ruling carries their CID",
  }),
});

const UnsignedTx = z.object({
  from: Address,
  to: Address,
  data: z.string(),
  chainId: Integer,
  nonce: z.number().int(),
  gasLimit: Integer,
  maxFeePerGas: Integer,
  maxPriorityFeePerGas: Integer,
  type: z.literal(2),
});

export const DisputePlanResponse = z.object({
  step: StepName,
  fn: z.string(),
  description: z.string().meta({ description: "what will be signed and sent, in words" }),
  evidenceCid: z.string().nullable(),
  transaction: UnsignedTx,
});

export const RelayBody = z.strictObject({
  raw: z
    .string()
    .regex(/^0x[0-9a-fA-F]{2,65536}$/, "must be a signed transaction as 0x-hex")
    .meta({ description: "the signed transaction (EIP-1559), as eth_sendRawTransaction takes it" }),
});

export const RelayResponse = z.object({
  txHash: z.string(),
  status: z.enum(["confirmed", "reverted", "pending"]),
  blockNumber: z.number().int().nullable(),
  gasUsed: Integer.nullable(),
  state: z.string().nullable().meta({ description: "the period's ledger state afterwards" }),
});
