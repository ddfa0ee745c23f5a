/** The zod schemas of the disputes, settlement and audit routes (routes-ledger.ts). */
import { z } from "zod/v4";
import { parseBlockCid } from "../../../node/src/evidence/cid";
import { EVIDENCE_PURPOSES } from "../../../node/src/services/evidence-lookup";
import { Address, AgreementRef, Bytes32, Integer, PeriodParam } from "./schemas";

/** A listed token's symbol or address; anything else is refused before the node is asked. */
export const TokenQuery = z.strictObject({
  token: z
    .string()
    .regex(/^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,31}|0x[0-9a-fA-F]{40})$/, "must be a token symbol or address")
    .optional()
    .meta({ description: "only this listed token (symbol, e.g. ICUSD, or address)" }),
});
/** A signed integer as a decimal string (net positions and deltas). */
export const SignedInteger = z.string().regex(/^-?\d{1,78}$/, "must be an integer in decimal digits");
/** An amount in a token's units, exact (`12.500000`, `-3.000000`). */
export const Decimal = z
  .string()
  .regex(/^-?\d{1,78}(\.\d{1,36})?$/, "must be a decimal")
  .meta({ description: "an exact decimal in the token's units" });
export const Cid = z
  .string()
  .max(100)
  .transform((text, issue) => {
    try {
      return parseBlockCid(text);
    } catch {
      issue.addIssue({
        code: "custom",
        message: "must be an evidence CID: CIDv1 raw or dag-pb, sha2-256 (bafkrei… or bafybei…)",
      });
      return z.NEVER;
    }
  })
  .meta({
    description: "the evidence bundle's CID (CIDv1: raw bafkrei… up to 1 MiB, dag-pb bafybei… above)",
  });

/** An agreement-period and one of its evidence CIDs. */
export const EvidenceParams = z.strictObject({ agreement: AgreementRef, period: PeriodParam, cid: Cid });

export const OpenedEvidence = z.object({
  agreement: z.string(),
  period: z.number().int(),
  cid: z.string(),
  purpose: z.enum(EVIDENCE_PURPOSES),
  fileName: z.string().meta({ description: "a file name to save it under, made by the server" }),
  content: z.unknown().meta({ description: "the bundle's decrypted JSON payload" }),
  source: z
    .enum(["local", "partner"])
    .meta({ description: "this node's store, or fetched from the partner's node just now" }),
});

export const ArbiterCopyResponse = z.object({
  agreement: z.string(),
  period: z.number().int(),
  cid: z.string().meta({ description: "the bundle named on chain" }),
  arbiterCid: z.string().meta({ description: "the arbiter's copy, kept in this node's evidence store" }),
  purpose: z.enum(EVIDENCE_PURPOSES),
  fileName: z.string(),
  sealed: z.base64().meta({
    description:
      "the copy (magic ICLA, version, ephemeral key, AES-256-GCM), base64: opens with the arbiter's key only",
  }),
});

export const RationaleResponse = z.object({
  agreement: z.string(),
  period: z.number().int(),
  cid: z.string(),
  text: z.string().meta({ description: "the arbiter's reasons, as typed" }),
});

export const TimelineResponse = z.object({
  agreement: z.string(),
  agreementId: Bytes32,
  period: z.number().int(),
  events: z.array(
    z.object({
      block: Integer,
      time: z.string().meta({ description: "the block's time, ISO 8601 UTC", format: "date-time" }),
      tx: z.string(),
      logIndex: z.number().int(),
      event: z.string().meta({ description: "the ledger event, e.g. DisputeOpened, FiguresProposed" }),
      carrier: z.string().nullable().meta({ description: "the carrier acting, by name" }),
      carrierId: Bytes32.nullable(),
      address: Address.nullable().meta({ description: "the officer (signer) or arbiter, when named" }),
      round: z.number().int().nullable(),
      outcome: z.string().nullable().meta({ description: "Evaluated: Matched, Reconciled or Mismatched" }),
      reason: z.string().nullable().meta({ description: "a dispute's reason, e.g. missing_cdrs" }),
      partialSettlement: z.boolean().nullable(),
      amountAB: Integer.nullable(),
      amountBA: Integer.nullable(),
      netAB: SignedInteger.nullable(),
      cid: z.string().nullable().meta({ description: "evidence or ruling rationale CID named on chain" }),
    }),
  ),
});

export const PlanJson = z.object({
  token: z.string(),
  tokenAddress: Address,
  decimals: z.number().int(),
  referenceCurrency: z.string().nullable(),
  periods: z.array(
    z.object({
      agreement: z.string(),
      agreementId: Bytes32,
      period: z.string(),
      payer: z.string(),
      payee: z.string(),
      amount: Decimal,
      reference: z
        .object({
          amount: Decimal,
          rate: z
            .object({
              date: z.string(),
              currency: z.string(),
              rate: Integer.meta({
                description: "reference-currency value of one unit, scaled by 10^-RATE_SCALE",
              }),
              source: z.string(),
              line: z.number().int(),
            })
            .nullable(),
        })
        .nullable(),
    }),
  ),
  gross: Decimal,
  grossReference: Decimal.nullable(),
  positions: z.array(
    z.object({
      carrier: z.string(),
      carrierId: Bytes32,
      net: Decimal,
      escrow: Decimal,
      reserved: Decimal.meta({ description: "reserved by the carrier's approvals as payer" }),
      escrowAfter: Decimal,
      netReference: Decimal.nullable(),
    }),
  ),
  bilateralTransfers: z.number().int(),
  nettedTransfers: z.array(z.object({ from: z.string(), to: z.string(), amount: Decimal })),
  netted: Decimal,
  transfersSaved: z.number().int(),
  topUps: z.array(
    z.object({
      carrier: z.string(),
      carrierId: Bytes32,
      needed: Decimal,
      available: Decimal,
      shortfall: Decimal,
    }),
  ),
  warnings: z.array(z.string()),
  transaction: z.null(),
  escrowAfter: z.null(),
  /** Periods a sent batch left out (SettlementSkipped); a plan that was not sent skipped none. */
  skipped: z.array(z.never()),
});

export const PlanResponse = z.object({
  dryRun: z.literal(true),
  sent: z.literal(false),
  plans: z.array(PlanJson),
});

export const EscrowResponse = z.object({
  carrier: z.string(),
  carrierId: Bytes32,
  balances: z.array(
    z.object({
      token: z.string(),
      tokenAddress: Address,
      escrow: Decimal,
      reserved: Decimal.meta({
        description:
          "reserved by the carrier's approvals as payer until those periods settle or are released",
      }),
      available: Decimal.meta({ description: "escrow − reserved: what officers may withdraw" }),
      pendingPeriods: z.number().int(),
      pendingNet: Decimal.meta({ description: "net over Approved periods not yet settled; negative pays" }),
      afterSettlement: Decimal,
      topUp: Decimal,
    }),
  ),
});

export const VerifyResponse = z.object({
  ok: z.boolean(),
  checked: z.record(z.string(), z.number().int()),
  findings: z.array(
    z.object({
      severity: z.enum(["error", "warning"]),
      kind: z.string(),
      block: z.number().int().nullable(),
      tx: z.string().nullable(),
      agreementId: z.string().nullable(),
      agreement: z.string().nullable(),
      period: z.number().int().nullable(),
      message: z.string(),
    }),
  ),
  chainId: z.string(),
  ledger: Address,
  registry: Address,
  book: Address,
  fromBlock: z.number().int(),
  toBlock: z.number().int(),
  verifiedAt: z
    .string()
    .meta({ description: "when the ledger was replayed (ISO 8601)", format: "date-time" }),
  cachedForSeconds: z.number().int().meta({ description: "the result is served again for this long" }),
});

export const ReportJson = z.object({
  chainId: z.string(),
  ledger: Address,
  fromBlock: z.number().int(),
  toBlock: z.number().int(),
  generatedAt: z.string(),
  agreements: z.array(
    z.object({
      agreementId: Bytes32,
      name: z.string(),
      carrierA: z.string(),
      carrierB: z.string(),
      token: z.object({ address: Address, symbol: z.string() }),
      periods: z.array(
        z.object({
          period: z.number().int(),
          state: z.string(),
          settledNetAB: z.string(),
          settledNetUnits: z.string(),
          events: z.array(
            z.object({
              block: z.number().int(),
              time: z.string(),
              tx: z.string(),
              logIndex: z.number().int(),
              event: z.string(),
              who: z.string(),
              amountAB: z.string().nullable(),
              amountBA: z.string().nullable(),
              netAB: z.string().nullable(),
              detail: z.string(),
            }),
          ),
        }),
      ),
    }),
  ),
  carriers: z.array(
    z.object({
      carrierId: Bytes32,
      name: z.string(),
      token: z.object({ address: Address, symbol: z.string() }),
      paid: z.string(),
      received: z.string(),
      deposited: z.string(),
      withdrawn: z.string(),
      escrow: z.string(),
    }),
  ),
  names: z
    .record(z.string(), z.string())
    .meta({ description: "the carriers' officers and the arbiters by name: lower-case address → name" }),
});
