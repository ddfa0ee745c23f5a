/**
 * The officers' and the arbiter's steps the demo takes on a period, as the console or `icl` takes them:
 * approvals signed by two officers of each party and gathered to the threshold by each party's node,
 * and a dispute step planned by the actor's node and sent from the actor's own key. The demo month and
 * the periods `--serve` leaves waiting share them.
 */
import type { JsonRpcProvider, Wallet } from "ethers";
import { formatPeriod } from "../../node/src/reconciliation/reveal";
import {
  acceptSignature,
  prepareApproval,
  signApproval,
  submitIfReady,
} from "../../node/src/settlement/approvals";
import { planDisputeStep, type DisputeStep, type StepInput } from "../../node/src/settlement/disputes";
import { loadPeriodContext } from "../../node/src/settlement/period-context";
import type { Consortium, ConsortiumAgreement } from "../../test/helpers/consortium";
import { nodeOf, type DemoNode } from "./demo-carriers";

/** Prints one timeline line: what happened, who did it, the gas it took. */
export type Note = (what: string, who: string, gas?: bigint | null) => void;

/** Two officers of each party sign the approval; each node submits its carrier's once two signed. */
export async function approveAll(
  nodes: readonly DemoNode[],
  agreement: ConsortiumAgreement,
  period: number,
  partial: boolean,
  note: Note,
): Promise<void> {
  for (const carrier of [agreement.a, agreement.b]) {
    const n = nodeOf(nodes, carrier);
    const local = await n.node.agreements.require(agreement.name);
    for (const officer of carrier.officers.slice(0, 2)) {
      const ctx = await loadPeriodContext(n.chain, local, period);
      const { approval } = await prepareApproval(n.db, n.chain, ctx, partial);
      const signature = await signApproval(n.chain, officer, approval);
      await acceptSignature(n.db, n.chain, ctx, approval, signature);
      const progress = await submitIfReady(n.db, n.chain, ctx, approval);
      if (progress.status === "submitted") {
        note(
          `${carrier.name}'s officers approved ${partial ? "the undisputed part of " : ""}${agreement.name} ${formatPeriod(period)} (2 of 3 signatures, submitted by the node)`,
          `${carrier.name} officers`,
        );
      }
    }
  }
}

/**
 * One dispute step on `agreement`'s `period`: `actor`'s node `n` plans it (checked as the ledger checks
 * it) and `actor` (an officer of n's carrier, or the arbiter) sends it from its own key.
 */
export async function disputeStep(
  c: Consortium,
  n: DemoNode,
  agreement: ConsortiumAgreement,
  period: number,
  actor: Wallet,
  name: DisputeStep,
  input: StepInput,
  who: string,
  note: Note,
): Promise<void> {
  const local = await n.node.agreements.require(agreement.name);
  const ctx = await loadPeriodContext(n.chain, local, period);
  const plan = await planDisputeStep(n.chain, ctx, name, actor.address, input);
  const signer = actor.connect(c.provider);
  const receipt = await (await signer.sendTransaction({ to: c.addresses.ledger, data: plan.data })).wait();
  note(plan.description, who, receipt?.gasUsed ?? null);
}

/**
 * The latest block's timestamp as the RPC node has it now. Not `getBlock("latest")`: ethers answers that
 * for a moment from the same request made just before, which is the block before the clock moved.
 */
export async function latestTimestamp(provider: JsonRpcProvider): Promise<number> {
  const block = (await provider.send("eth_getBlockByNumber", ["latest", false])) as { timestamp: string };
  return Number(block.timestamp);
}

/**
 * Waits (up to 10 s each) until every provider's `getBlock("latest")` is at `timestamp` or later: a node
 * must see the moved clock before it plans a step the clock allows (under load, and through the fault
 * run's relay, its own connection can still answer with the block before).
 */
export async function untilSeen(providers: readonly JsonRpcProvider[], timestamp: number): Promise<void> {
  for (const provider of providers) {
    for (let i = 0; i < 100 && (await provider.getBlock("latest"))!.timestamp < timestamp; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
