/**
 * The zod schemas of the REST API: path and query parameters as the routes accept them, and every
 * response body as it goes out. Requests are checked against them, responses are parsed through them
 * (unknown keys are dropped, so a field added to a node type never leaks by accident), and the
 * OpenAPI document is generated from them.
 *
 * Every text a client sends is matched against a narrow pattern before it reaches the node: names
 * and ids by allow-list, numbers as digits, enums as enums. Anything else is a 400 naming the field.
 */
import { z } from "zod/v4";
import { OFFICER_SIGNATURE_HEX, PERIOD_STATES } from "../../../node/src/protocol";
import { ALERT_LEVELS } from "../../../node/src/services/records";
import { REJECT_REASONS, type RejectReason as RejectReasonType } from "../../../node/src/mediation/types";

// ─── building blocks ─────────────────────────────────────────────────────────

/** A non-negative integer as a decimal string (bigints: micro-units, token base units, seconds). */
export const Integer = z
  .string()
  .regex(/^\d{1,78}$/, "must be a non-negative integer in decimal digits")
  .meta({ description: "a non-negative integer as a decimal string (exact, never a float)" });
export const Bytes32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x followed by 64 hex digits")
  .meta({ description: "32 bytes as 0x-hex" });
export const Address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be an Ethereum address (0x and 40 hex digits)");
export const Timestamp = z.string().meta({ description: "ISO 8601 UTC", format: "date-time" });

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** The local name of an agreement (the same rule as node/src/db/agreements.ts) or its 0x id. */
export const AgreementRef = z
  .string()
  .max(66)
  .refine((text) => NAME_PATTERN.test(text) || /^0x[0-9a-fA-F]{64}$/.test(text), {
    message: "must be an agreement name (letters, digits, '_', '.', '-') or its 0x id",
  })
  .meta({ description: "the agreement's local name (ACME-GLOBEX) or its 0x id", example: "ACME-GLOBEX" });

/** `2026-10` or `202610` → 202610. */
export const PeriodParam = z
  .string()
  .regex(/^\d{4}-?(0[1-9]|1[0-2])$/, "must be a month like 2026-10")
  .transform((text) => Number(text.replace("-", "")))
  .meta({ description: "the month, YYYY-MM", example: "2026-10" });

/** A label (deck name, file name): a base name by construction, no separators, no leading dot. */
export const Label = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/,
    "must be 1–128 letters, digits, '_', '.' or '-', not starting with '.', '_' or '-'",
  )
  .refine((text) => !text.includes(".."), { message: "must not contain '..'" });

export const PeriodState = z.enum(PERIOD_STATES);
export const RejectReason = z.enum(REJECT_REASONS as readonly [RejectReasonType, ...RejectReasonType[]]);
export const AlertLevel = z.enum(ALERT_LEVELS as readonly ["warning", "action", "error"]);

/** A small positive integer given as query text. */
export function queryInt(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,9}$/, "must be a whole number")
    .transform(Number)
    .refine((n) => n >= min && n <= max, { message: `must be between ${min} and ${max}` });
}

export const AgreementPeriodParams = z.strictObject({ agreement: AgreementRef, period: PeriodParam });

export const ErrorBody = z.object({
  error: z.object({
    code: z.string().meta({ description: "stable machine-readable code, e.g. INVALID_INPUT, NOT_FOUND" }),
    message: z.string(),
    field: z.string().optional().meta({ description: "the request field at fault, e.g. query.limit" }),
  }),
});

// ─── responses ───────────────────────────────────────────────────────────────

export const PartnersResponse = z.object({
  partners: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      matchRules: z.array(
        z.object({ direction: z.enum(["in", "out"]), field: z.string(), pattern: z.string() }),
      ),
    }),
  ),
});

/** Agreements without their secret: the schema has no field for it, so it cannot go out. */
export const AgreementsResponse = z.object({
  agreements: z.array(
    z.object({
      agreementId: Bytes32,
      name: z.string(),
      partnerId: z.string(),
      side: z.enum(["A", "B"]),
      peerUrl: z.string().nullable(),
      createdAt: Timestamp,
    }),
  ),
});

export const TariffsResponse = z.object({
  decks: z.array(
    z.object({
      id: z.number().int(),
      partner: z.string(),
      direction: z.enum(["in", "out"]),
      name: z.string(),
      currency: z.string(),
      contentHash: z.string(),
      active: z.boolean(),
      importedAt: Timestamp,
      rows: z.number().int(),
    }),
  ),
});

export const CdrStatsResponse = z.object({
  files: z.number().int(),
  records: Integer,
  rated: Integer,
  unbilled: Integer,
  rejected: Integer,
  rejectedByReason: z.record(z.string(), Integer),
  byPartner: z.array(
    z.object({
      partner: z.string(),
      direction: z.string(),
      destination: z.string(),
      records: Integer,
      billedSeconds: Integer,
      amount: Integer.meta({ description: "micro-units of the deck's currency" }),
    }),
  ),
});

export const RejectsResponse = z.object({
  rejects: z.array(
    z.object({
      fileId: z.number().int(),
      fileName: z.string(),
      line: Integer,
      reason: RejectReason,
      field: z.string().nullable(),
      message: z.string(),
      raw: z.string().meta({ description: "the CDR line as read from the switch file" }),
      rule: z.string().nullable().meta({ description: "for IMPLAUSIBLE: the plausibility rule" }),
    }),
  ),
});

export const AlertsResponse = z.object({
  alerts: z.array(
    z.object({
      id: z.number().int(),
      agreementId: Bytes32,
      agreementName: z.string().nullable(),
      period: z.number().int(),
      round: z.number().int(),
      level: AlertLevel,
      kind: z.string(),
      deadline: z.number().int().nullable(),
      message: z.string(),
      txHash: z.string().nullable(),
      createdAt: Timestamp,
    }),
  ),
});

const Pair = z.object({ amountAB: Integer, amountBA: Integer });
const SideFigures = z.object({
  carrier: Bytes32,
  name: z.string(),
  status: z.enum(["revealed", "claimed", "committed", "none"]),
  root: Bytes32.nullable(),
  amountAB: Integer.nullable(),
  amountBA: Integer.nullable(),
});
const CarrierApprovals = z.object({
  carrier: Bytes32,
  name: z.string(),
  count: z.number().int(),
  threshold: z.number().int(),
  approved: z.boolean(),
  officers: z.array(z.string()),
});

const SettlementMove = z.object({
  amountAB: Integer,
  amountBA: Integer,
  netAB: z.string().regex(/^-?\d+$/),
  batch: z.number().int(),
  fastPath: z.boolean(),
  tx: z.string(),
});

/** `icl period show --json`: the PeriodView with bigints as decimal strings. */
const PreRevealSigners = z.object({
  carrier: Bytes32,
  name: z.string(),
  signers: z.array(z.string()),
  threshold: z.number().int(),
});

export const PeriodViewJson = z.object({
  agreement: z.string(),
  agreementId: Bytes32,
  period: z.number().int(),
  state: PeriodState,
  side: z.enum(["A", "B"]).nullable(),
  token: z.object({ address: z.string(), symbol: z.string(), decimals: z.number().int() }),
  terms: z.object({
    carrierA: Bytes32,
    carrierB: Bytes32,
    token: z.string(),
    toleranceBps: z.number().int(),
    toleranceAbs: Integer,
    rule: z.enum(["Terminating", "Originating", "Mean"]),
    arbiter: z.string(),
    version: z.number().int(),
  }),
  chainTime: Integer.meta({ description: "the latest block's timestamp, seconds" }),
  round: z.number().int(),
  sides: z.object({ A: SideFigures, B: SideFigures }),
  local: z.object({ root: Bytes32, amountAB: Integer, amountBA: Integer, committed: z.boolean() }).nullable(),
  tolerance: z
    .array(
      z.object({
        direction: z.enum(["AB", "BA"]),
        ofA: Integer,
        ofB: Integer,
        difference: Integer,
        allowed: Integer,
        within: z.boolean(),
      }),
    )
    .nullable(),
  final: Pair.nullable(),
  partial: Pair.nullable(),
  dispute: z
    .object({
      opener: z.string().nullable(),
      proposer: z.string().nullable(),
      proposed: Pair.nullable(),
      escalatedAt: Integer.nullable(),
      resolution: z.enum(["None", "Accepted", "Ruled", "Withdrawn"]),
      resolved: Pair.nullable(),
      lastActionAt: Integer,
    })
    .nullable(),
  deadlines: z.record(z.string(), Integer),
  approvals: z.object({ final: z.array(CarrierApprovals), partial: z.array(CarrierApprovals) }),
  preReveal: z
    .object({
      outcome: z.enum(["Matched", "Reconciled"]),
      amountAB: Integer,
      amountBA: Integer,
      deadline: Integer.meta({ description: "the one deadline both carriers' officers sign, seconds" }),
      ours: PreRevealSigners,
      theirs: PreRevealSigners,
    })
    .nullable()
    .meta({
      description:
        "set while the node holds the period unrevealed because both openings reconcile: the figures both " +
        "carriers' officers approve before the reveal (POST …/approvals), and how far each carrier is",
    }),
  pendingSignatures: z.array(z.object({ officer: z.string(), partial: z.boolean(), deadline: Integer })),
  report: z
    .object({
      round: z.number().int(),
      leafCount: z.number().int(),
      counts: z.record(z.string(), z.number().int()),
      evidenceCid: z.string().nullable(),
    })
    .nullable(),
  names: z
    .record(z.string(), z.string())
    .meta({ description: "both carriers' officers and the arbiter by name: lower-case address → name" }),
  officerCounts: z
    .record(z.string(), z.number().int())
    .meta({ description: "officers per carrier (lower-case id) now: the N of the M-of-N approval rule" }),
  settlement: z
    .object({ partial: SettlementMove.nullable(), final: SettlementMove.nullable() })
    .nullable()
    .meta({
      description:
        "what was paid: the undisputed part settled first, then the final settlement; `netAB` is what moved " +
        "A→B (negative B→A) — after a partial settlement only the remainder — and `batch` the periods settled " +
        "in the same (netted) transaction",
    }),
});

/** The EIP-712 `Settlement` struct of the co-signed fast path (node/src/protocol SETTLEMENT_TYPES) as JSON. */
export const SettlementJson = z.strictObject({
  agreementId: Bytes32,
  period: z.number().int().min(100_001).max(999_912),
  root: Bytes32.meta({ description: "the root of this node's frozen summary" }),
  amountAB: Integer,
  amountBA: Integer,
  deadline: Integer.meta({ description: "unix seconds (chain time): round 0's commit deadline" }),
});

const CarrierSignatures = z.object({
  carrier: Bytes32,
  name: z.string(),
  signers: z.array(z.string()).meta({ description: "current officers whose signature this node holds" }),
  threshold: z.number().int(),
});

/** How far both carriers' officers are with a fast-path period's `Settlement`, as this node holds it. */
export const FastPathProgress = z.object({ ours: CarrierSignatures, theirs: CarrierSignatures });

export const PeriodShowResponse = PeriodViewJson.extend({
  /** A period this node leaves to the co-signed fast path: what its officers sign, and who did. */
  fastPath: z
    .object({ settlement: SettlementJson, progress: FastPathProgress })
    .nullable()
    .meta({
      description:
        "set while this node leaves the period to the co-signed fast path: its officers sign the `Settlement` " +
        "(GET …/fast-path/settlement) instead of an approval",
    }),
  /** With an FX table: the final (else this node's) figures in the reference currency. */
  reference: z
    .object({
      currency: z.string(),
      of: z.string(),
      amountAB: Integer,
      amountBA: Integer,
      rate: z
        .object({
          date: z.string(),
          currency: z.string(),
          rate: Integer,
          source: z.string(),
          line: z.number(),
        })
        .nullable(),
    })
    .nullable(),
});

export const PeriodsResponse = z.object({ periods: z.array(PeriodViewJson) });

const LeafFigures = z.object({ records: z.string(), billed: z.string(), amount: z.string() });
export const ReportResponse = z.object({
  agreement: z.string(),
  agreementId: Bytes32,
  period: z.number().int(),
  round: z.number().int(),
  ourRoot: Bytes32,
  theirRoot: Bytes32,
  leafCount: z.number().int(),
  evidenceCid: z.string().nullable(),
  createdAt: Timestamp,
  report: z.object({
    leaves: z.array(
      z.object({
        leaf: z.object({
          direction: z.string(),
          service: z.string(),
          destination: z.string(),
          day: z.number().int(),
        }),
        ours: LeafFigures.nullable(),
        theirs: LeafFigures.nullable(),
        delta: LeafFigures,
        kinds: z.array(z.string()),
        missingOnTheirSide: z.array(z.string()),
        missingOnOurSide: z.array(z.string()),
        durationDifferences: z.array(z.object({ callKey: z.string(), ours: z.string(), theirs: z.string() })),
        rateDifferences: z.array(z.object({ callKey: z.string(), ours: z.string(), theirs: z.string() })),
        shift: z.object({ fromDay: z.number().int(), toDay: z.number().int() }).nullable(),
      }),
    ),
    differingTotals: z.object({
      ours: z.object({ AB: z.string(), BA: z.string() }),
      theirs: z.object({ AB: z.string(), BA: z.string() }),
    }),
    counts: z.record(z.string(), z.number().int()),
    ourCdrs: z.record(z.string(), z.string()).meta({ description: "this node's CDR id per call key" }),
    inconsistentLeaves: z.array(z.object({ leaf: z.string(), side: z.enum(["ours", "theirs"]) })),
  }),
});

/** The EIP-712 `Approval` struct (node/src/protocol APPROVAL_TYPES) as JSON. */
export const ApprovalJson = z.strictObject({
  agreementId: Bytes32,
  period: z.number().int().min(100_001).max(999_912),
  carrierId: Bytes32,
  round: z.number().int().min(0).max(255),
  partialSettlement: z.boolean(),
  amountAB: Integer,
  amountBA: Integer,
  rootA: Bytes32,
  rootB: Bytes32,
  deadline: Integer.meta({ description: "unix seconds (chain time)" }),
});

/** The ledger's EIP-712 domain and the types of a struct, as eth_signTypedData_v4 takes them. */
const TypedDataBase = z.object({
  domain: z.object({
    name: z.string(),
    version: z.string(),
    chainId: Integer,
    verifyingContract: Address,
  }),
  types: z.record(z.string(), z.array(z.object({ name: z.string(), type: z.string() }))),
});

export const TypedDataResponse = TypedDataBase.extend({
  primaryType: z.literal("Approval"),
  message: ApprovalJson,
  reusedDeadline: z.boolean().meta({ description: "another officer already signed with this deadline" }),
});

/** An officer's signature: 65-byte ECDSA, or a contract officer's abi.encode(address, bytes) (ERC-1271). */
const OfficerSignature = z
  .string()
  .regex(
    new RegExp(OFFICER_SIGNATURE_HEX.source, "i"),
    "must be a 65-byte ECDSA signature or a contract officer's abi.encode(address, bytes), as 0x-hex",
  );

export const ApprovalBody = z.strictObject({
  approval: ApprovalJson,
  signature: OfficerSignature.meta({
    description: "EIP-712 signature over `approval` with the ledger's domain",
  }),
});

export const ApprovalResponse = z.object({
  officer: Address,
  status: z.enum(["waiting", "submitted", "approved", "held"]).meta({
    description:
      "held: the period is Revealing and the node keeps the signatures for one revealAndSettle once the " +
      "partner's officers have signed too (or for after the reveal)",
  }),
  signers: z.array(z.string()),
  dropped: z.array(z.string()),
  threshold: z.number().int(),
  txHash: z.string().nullable(),
  blockNumber: Integer.nullable(),
});

export const SettlementTypedDataResponse = TypedDataBase.extend({
  primaryType: z.literal("Settlement"),
  message: SettlementJson,
  progress: FastPathProgress,
});

export const SettlementSignatureBody = z.strictObject({
  settlement: SettlementJson,
  signature: OfficerSignature.meta({
    description: "EIP-712 signature over `settlement` with the ledger's domain",
  }),
});

export const SettlementSignatureResponse = z.object({
  officer: Address,
  progress: FastPathProgress,
});

export const ReadyResponse = z.object({
  status: z.enum(["ready", "unavailable"]),
  checks: z.record(
    z.string(),
    z.object({ status: z.enum(["ok", "failed", "skipped"]), ms: z.number().optional() }),
  ),
});
