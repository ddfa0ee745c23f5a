import { getAddress } from "ethers";
import { requireAgreement } from "../../db/agreements";
import { loadReport, type ReportJson } from "../../db/reports";
import { loadSummary } from "../../db/summaries";
import { committedOpening } from "../../reconciliation/reveal";
import type { CarrierNode } from "../../node";
import {
  DISPUTE_REASONS,
  checkCid,
  executeStep,
  parseReason,
  planDisputeStep,
  storeEvidenceFiles,
  storePublicFile,
  type DisputeStep,
  type StepInput,
} from "../../settlement/disputes";
import { loadPeriodContext, parseAmount, type PeriodContext } from "../../settlement/period-context";
import {
  DATA_DIR_OPTION,
  JSON_OPTION,
  listOption,
  stringOption,
  type Command,
  type OptionSpec,
  type ParsedCommandArgs,
} from "../command";
import { SIGNER_OPTIONS, confirmStep, loadSignerKey, openChainAs } from "../chain-context";
import { toJson } from "../format";
import { withNode } from "../node-context";
import {
  AGREEMENT_PERIOD_ARGS,
  AGREEMENT_PERIOD_POSITIONALS,
  agreementOrId,
  agreementPeriodArgs,
} from "../period-args";

const FIGURE_OPTIONS: Record<string, OptionSpec> = {
  ab: { type: "string", valueName: "AMOUNT", description: "what A owes B, in token units (e.g. 1234.56)" },
  ba: { type: "string", valueName: "AMOUNT", description: "what B owes A, in token units" },
};
const EVIDENCE_OPTIONS: Record<string, OptionSpec> = {
  evidence: {
    type: "string",
    multiple: true,
    valueName: "FILE",
    description: "attach files, sealed for the two parties (256 MiB at most), stored on IPFS (or locally)",
  },
  "evidence-cid": {
    type: "string",
    valueName: "CID",
    description: "attach evidence already stored (bafkrei… or bafybei…)",
  },
};

interface StepSpec {
  step: DisputeStep;
  summary: string;
  description: string;
  options: Record<string, OptionSpec>;
}

const STEPS: StepSpec[] = [
  {
    step: "open",
    summary: "Open a dispute on a Mismatched period, or contest a default your carrier did not reveal.",
    description:
      "Mismatched: opens the dispute with a reason code and the evidence CID of this node's discrepancy report\n" +
      "(or --evidence / --evidence-cid). Defaulted, when your carrier is the silent party: contests the default\n" +
      `stating your figures (--ab/--ba, default this node's summary). Reasons: ${Object.keys(DISPUTE_REASONS).join(", ")}\n` +
      "(default: the report's most frequent kind).",
    options: {
      reason: { type: "string", valueName: "NAME|CODE", description: "why (see above)" },
      ...FIGURE_OPTIONS,
      ...EVIDENCE_OPTIONS,
    },
  },
  {
    step: "propose",
    summary: "Propose figures in an open dispute (restarts the partner's response window).",
    description: "Both figures are required, in token units.",
    options: { ...FIGURE_OPTIONS, ...EVIDENCE_OPTIONS },
  },
  {
    step: "counter",
    summary: "Answer the partner's proposal with other figures.",
    description: "Like propose, but only when the latest proposal is the partner's.",
    options: { ...FIGURE_OPTIONS, ...EVIDENCE_OPTIONS },
  },
  {
    step: "accept",
    summary: "Accept the partner's latest proposal within the response window: the period becomes Resolved.",
    description: "Shows the proposal's figures before signing.",
    options: {},
  },
  {
    step: "escalate",
    summary: "Hand the dispute to the agreement's arbiter once the response window has closed.",
    description:
      "The arbiter rules within the arbitration window between the two claims; if not, the period resolves\n" +
      "at the mean of the claims.",
    options: {},
  },
  {
    step: "withdraw",
    summary: "Withdraw a dispute your carrier opened, conceding the partner's figures.",
    description: "Only before escalation.",
    options: {},
  },
];

function amounts(args: ParsedCommandArgs, ctx: PeriodContext): Pick<StepInput, "amountAB" | "amountBA"> {
  const ab = stringOption(args, "ab");
  const ba = stringOption(args, "ba");
  return {
    amountAB: ab === undefined ? undefined : parseAmount(ab, ctx.token, "ab"),
    amountBA: ba === undefined ? undefined : parseAmount(ba, ctx.token, "ba"),
  };
}

/** The most frequent classification of the period's report, as a reason code. */
function reasonFromReport(report: ReportJson | null): number {
  const counts = Object.entries(report?.counts ?? {}).sort((x, y) => y[1] - x[1]);
  const top = counts[0]?.[0] as keyof typeof DISPUTE_REASONS | undefined;
  return (top && DISPUTE_REASONS[top]) ?? DISPUTE_REASONS.other;
}

async function evidenceFor(
  node: CarrierNode,
  args: ParsedCommandArgs,
  ctx: PeriodContext,
  secret: Uint8Array,
): Promise<string | undefined> {
  const given = stringOption(args, "evidence-cid");
  const files = listOption(args, "evidence");
  if (given !== undefined) return checkCid(given, "evidence-cid");
  if (files.length > 0) return storeEvidenceFiles(node.evidence, secret, ctx, files);
  return undefined;
}

function printResult(
  io: Parameters<Command["run"]>[1],
  args: ParsedCommandArgs,
  out: { ctx: PeriodContext; step: string; fn: string; evidenceCid: string | null; signer: string } & Awaited<
    ReturnType<typeof executeStep>
  >,
): void {
  if (args.values.json) {
    io.stdout.write(
      toJson({
        agreement: out.ctx.name,
        agreementId: out.ctx.agreementId,
        period: out.ctx.period,
        step: out.step,
        call: out.fn,
        signer: out.signer,
        evidenceCid: out.evidenceCid,
        txHash: out.txHash,
        blockNumber: out.blockNumber,
        state: out.state,
      }),
    );
    return;
  }
  io.stdout.write(
    `${out.fn} sent in transaction ${out.txHash} (block ${out.blockNumber})` +
      (out.evidenceCid ? `, evidence ${out.evidenceCid}` : "") +
      `\n${out.ctx.label} is now ${out.state}\n`,
  );
}

function disputeCommand(spec: StepSpec): Command {
  return {
    words: ["dispute", spec.step],
    args: AGREEMENT_PERIOD_ARGS,
    summary: spec.summary,
    description:
      spec.description +
      "\nShows what will be signed and asks for confirmation (--yes for scripts); signed with your officer key.",
    options: { ...DATA_DIR_OPTION, ...SIGNER_OPTIONS, ...spec.options, ...JSON_OPTION },
    positionals: AGREEMENT_PERIOD_POSITIONALS,
    async run(args, io) {
      const out = await withNode(args, io, async (node) => {
        const { agreement: name, period } = agreementPeriodArgs(args);
        const agreement = await requireAgreement(node.db, name);
        const wallet = await loadSignerKey(args, io);
        const chain = await openChainAs(node, wallet);
        try {
          const ctx = await loadPeriodContext(chain, agreement, period);
          const input: StepInput = { ...amounts(args, ctx) };
          if (spec.step === "open") {
            const report = await loadReport(node.db, ctx.agreementId, period);
            const reason = stringOption(args, "reason");
            input.reasonCode =
              reason !== undefined
                ? parseReason(reason)
                : reasonFromReport(report?.report as ReportJson | null);
            if (ctx.state === "Defaulted") {
              // A committed summary is opened (the ledger requires it, M-2); else the stored figures.
              const round = Number((await chain.ledger.periodRecord(ctx.agreementId, period)).round);
              input.opening = (await committedOpening(node.db, agreement, period, round)) ?? undefined;
              if (
                input.opening === undefined &&
                input.amountAB === undefined &&
                input.amountBA === undefined
              ) {
                const summary = await loadSummary(node.db, ctx.agreementId, period, { leaves: false });
                if (summary) Object.assign(input, { amountAB: summary.amountAB, amountBA: summary.amountBA });
              }
            }
            input.evidenceCid =
              (await evidenceFor(node, args, ctx, agreement.secret)) ?? report?.evidenceCid ?? undefined;
          } else if (spec.options.evidence) {
            input.evidenceCid = await evidenceFor(node, args, ctx, agreement.secret);
          }
          const signer = getAddress(wallet.address);
          const plan = await planDisputeStep(chain, ctx, spec.step, signer, input);
          await confirmStep(args, io, plan.description);
          const result = await executeStep(chain, ctx, plan);
          return { ctx, step: spec.step, fn: plan.fn, evidenceCid: plan.evidenceCid, signer, ...result };
        } finally {
          chain.close();
        }
      });
      printResult(io, args, out);
      return 0;
    },
  };
}

export const disputeCommands: Record<DisputeStep, Command> = Object.fromEntries(
  STEPS.map((spec) => [spec.step, disputeCommand(spec)]),
) as Record<DisputeStep, Command>;

export const arbiterRuleCommand: Command = {
  words: ["arbiter", "rule"],
  args: AGREEMENT_PERIOD_ARGS,
  summary: "Rule on an escalated dispute as the agreement's arbiter: figures between the two claims.",
  description:
    "AGREEMENT is a local name or the 0x agreement id (the arbiter need not be party). Each figure must lie\n" +
    "between the two parties' claims for its direction. The rationale is public: --rationale FILE is stored\n" +
    "as it is on IPFS (or the local store) and its CID goes on chain. Signed with the arbiter's key.",
  options: {
    ...DATA_DIR_OPTION,
    ...SIGNER_OPTIONS,
    ...FIGURE_OPTIONS,
    rationale: { type: "string", valueName: "FILE", description: "the ruling's reasons (public)" },
    "rationale-cid": { type: "string", valueName: "CID", description: "a rationale already stored" },
    ...JSON_OPTION,
  },
  positionals: AGREEMENT_PERIOD_POSITIONALS,
  async run(args, io) {
    const out = await withNode(args, io, async (node) => {
      const { agreement: name, period } = agreementPeriodArgs(args);
      const agreement = await agreementOrId(node.db, name);
      const wallet = await loadSignerKey(args, io);
      const chain = await openChainAs(node, wallet);
      try {
        const ctx = await loadPeriodContext(chain, agreement, period);
        const given = stringOption(args, "rationale-cid");
        const file = stringOption(args, "rationale");
        const evidenceCid =
          given !== undefined
            ? checkCid(given, "rationale-cid")
            : file !== undefined
              ? await storePublicFile(node.evidence, file)
              : undefined;
        const signer = getAddress(wallet.address);
        const plan = await planDisputeStep(chain, ctx, "rule", signer, {
          ...amounts(args, ctx),
          evidenceCid,
        });
        await confirmStep(args, io, plan.description);
        const result = await executeStep(chain, ctx, plan);
        return { ctx, step: "rule", fn: plan.fn, evidenceCid: plan.evidenceCid, signer, ...result };
      } finally {
        chain.close();
      }
    });
    printResult(io, args, out);
    return 0;
  },
};
