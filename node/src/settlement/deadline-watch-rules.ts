/**
 * The deadline watch's rules per ledger state (deadline-watch.ts): which window matters in each state,
 * when to warn about it and what the alert tells officers to do; the final states' records of how they
 * were reached, and the approvals still needed. Settling is left to deadline-watch-settle.ts.
 */
import { fastPathFallbackAt } from "../reconciliation/fast-path";
import { formatPeriod } from "../reconciliation/reveal";
import {
  alert,
  figures,
  ref,
  token,
  when,
  within,
  type PeriodFacts,
  type WatchScope,
} from "./deadline-watch-period";
import { releaseLapsed, settleAgreedPart, settleNow } from "./deadline-watch-settle";
import { MAX_ROUNDS } from "../protocol";
import { awaitsFastPath } from "./cosign";
import { isoTime } from "./period-context";
import { escrowAccount, partialNet, payerOf } from "./reservations";

/**
 * Decides, for the period's state, which window matters and what (if anything) to do.
 * @throws BaseError when the chain or the database cannot be read, or a settlement cannot be sent.
 */
export async function judge(w: WatchScope, f: PeriodFacts): Promise<void> {
  const dl = f.deadlines;
  const soon = (deadline: number) => f.now <= deadline && within(w.options, f.now, deadline);
  const warn = (kind: string, deadline: number | null, text: string) =>
    alert(w, f, "warning", kind, deadline, text);
  switch (f.state) {
    case "Committing":
      if (!f.ours.committed) await notCommitted(w, f);
      return;
    case "Revealing":
      if (f.ours.committed && !f.ours.revealed && soon(dl.reveal))
        await warn(
          "reveal-window",
          dl.reveal,
          `the reveal window closes ${when(dl.reveal, f.now)} and this node has not revealed; the running ` +
            `node reveals on its own, or run icl period reveal --agreement ${f.agreement.name} ` +
            `--period ${formatPeriod(f.period)} (unrevealed, the partner's figures stand)`,
        );
      return;
    case "Mismatched": {
      const correctable = f.round + 1 < MAX_ROUNDS;
      if (soon(dl.reconcile))
        await warn(
          "reconcile-window",
          dl.reconcile,
          `the figures do not match; the reconcile window closes ${when(dl.reconcile, f.now)}: ` +
            (correctable ? "correct them (a new round: both commit and reveal again) or " : "") +
            `an officer opens a dispute (icl dispute open ${ref(f)}); after it only a dispute is possible`,
        );
      else if (f.now > dl.reconcile)
        await warn(
          "reconcile-closed",
          dl.reconcile,
          `the reconcile window closed ${when(dl.reconcile, f.now)}: only a dispute is possible now ` +
            `(an officer: icl dispute open ${ref(f)})`,
        );
      return;
    }
    case "Defaulted":
      if (!f.ours.revealed)
        // We are the silent party: the whole dispute window is the time to react, so warn at once.
        await warn(
          "contest-window",
          dl.defaultDispute,
          `only the partner revealed: unless an officer contests the default ${when(dl.defaultDispute, f.now)}, ` +
            `the partner's figures stand (Uncontested): icl dispute open ${ref(f)} with our figures`,
        );
      else if (soon(dl.defaultDispute))
        await warn(
          "default-pending",
          dl.defaultDispute,
          `the partner did not reveal; unless its officers contest ${when(dl.defaultDispute, f.now)}, ` +
            "the period becomes Uncontested at our figures",
        );
      return;
    case "Disputed":
      await disputed(w, f);
      await releaseLapsed(w, f);
      await settleAgreedPart(w, f);
      return;
    case "Escalated": {
      const [ab, ba] = [(f.claims.abA + f.claims.abB) / 2n, (f.claims.baA + f.claims.baB) / 2n];
      if (soon(dl.arbitration))
        await warn(
          "arbitration-window",
          dl.arbitration,
          `the arbiter's window closes ${when(dl.arbitration, f.now)}; without a ruling the period is ` +
            `Resolved at the mean of the two claims: ${await figures(w, f, ab, ba)}`,
        );
      await releaseLapsed(w, f);
      await settleAgreedPart(w, f);
      return;
    }
    case "Approved":
      // A partial reservation the dispute's end left unused is released after its deadline too.
      await releaseLapsed(w, f);
      await settleNow(w, f);
      return;
    case "Void":
      await warn(
        "void",
        dl.reveal,
        "the period is Void (no commitment, or no reveal, in time): nothing to settle on the ledger",
      );
      return;
    case "Matched":
    case "Reconciled":
    case "Uncontested":
    case "Resolved":
      await releaseLapsed(w, f);
      await final(w, f);
      return;
    default:
      return;
  }
}

/**
 * Committing without our commitment: warn `warnBeforeMs` ahead that the commit window closes. A period
 * this node leaves to the fast path (closed, not committed, cosign.ts `awaitsFastPath`) is not late while
 * the fast path may still settle it: the running node commits it on its own once the fallback is due
 * (`settlement.fastPathFallbackMs` before the window closes), so the warning comes only if it has not
 * by then.
 */
async function notCommitted(w: WatchScope, f: PeriodFacts): Promise<void> {
  const dl = f.deadlines;
  const { db, chain } = w.parts;
  const closeNow = `icl period close --agreement ${f.agreement.name} --period ${formatPeriod(f.period)}`;
  const standing = "(without a commitment the partner's figures stand, or the period is Void)";
  if (await awaitsFastPath(db, chain, f.agreement, f.period, w.fastPath.enabled)) {
    const fallbackAt = Number(fastPathFallbackAt(BigInt(dl.commit), w.fastPath));
    if (f.now < fallbackAt) return;
    await alert(
      w,
      f,
      "warning",
      "commit-window",
      dl.commit,
      `the commit window closes ${when(dl.commit, f.now)}; the fast path has not settled the period and ` +
        `this node, due to commit since ${isoTime(fallbackAt)}, has not: check that icl run is running, or ` +
        `officers, run ${closeNow} --commit ${standing}`,
    );
    return;
  }
  if (f.now <= dl.commit && within(w.options, f.now, dl.commit))
    await alert(
      w,
      f,
      "warning",
      "commit-window",
      dl.commit,
      `the commit window closes ${when(dl.commit, f.now)} and this node has not committed: officers, ` +
        `run ${closeNow} ${standing}`,
    );
}

/** A final state: record how it was reached when no transaction did it, and ask for approvals. */
async function final(w: WatchScope, f: PeriodFacts): Promise<void> {
  const { ledger } = w.parts.chain;
  const id = f.agreement.agreementId;
  const dl = f.deadlines;
  if (f.state === "Uncontested")
    await alert(
      w,
      f,
      "action",
      "uncontested",
      dl.defaultDispute,
      `the default was not contested by ${isoTime(dl.defaultDispute)}: the period is Uncontested at ` +
        `${f.ours.revealed ? "our" : "the partner's"} figures`,
    );
  if (f.state === "Resolved") {
    const dispute = await ledger.disputeRecord(id, f.period);
    if (dispute.escalatedAt !== 0n && dispute.resolution === 0n) {
      const [ab, ba] = await ledger.approvalFigures(id, f.period, false);
      await alert(
        w,
        f,
        "action",
        "arbitration-lapsed",
        dl.arbitration,
        `the arbiter did not rule by ${isoTime(dl.arbitration)}: the period is Resolved at the mean of the ` +
          `claims, ${await figures(w, f, ab, ba)}`,
      );
    }
  }
  // A binding outcome (Uncontested, Resolved) past its approval deadline settles without approvals (M-4).
  if (dl.approval > 0 && f.now > dl.approval) {
    await settleNow(w, f);
    return;
  }
  // Matched and Reconciled have no ledger deadline for approvals: warn at once, so the to-do shows up
  // while it is fresh. A binding outcome's warning names its approval deadline.
  const [count, threshold, approved] = await ledger.approvalsOf(id, f.period, w.parts.carrierId, false);
  if (!approved)
    await alert(
      w,
      f,
      "warning",
      "approval-needed",
      dl.approval > 0 ? dl.approval : null,
      `the period is ${f.state}: our officers must approve the figures (${count} of ${threshold} so far; ` +
        `icl officer approve ${ref(f)})${await fundingNote(w, f)}` +
        (dl.approval > 0 ? `; after ${isoTime(dl.approval)} anyone may settle them without approvals` : ""),
    );
}

/** When we pay and our available escrow is short of what our approval would reserve: what to deposit. */
async function fundingNote(w: WatchScope, f: PeriodFacts): Promise<string> {
  const { chain, carrierId } = w.parts;
  const [ab, ba] = await chain.ledger.approvalFigures(f.agreement.agreementId, f.period, false);
  const settled = partialNet({
    flags: f.flags,
    amountABofA: f.claims.abA,
    amountABofB: f.claims.abB,
    amountBAofA: f.claims.baA,
    amountBAofB: f.claims.baB,
  });
  const { payer, owed } = payerOf(f.terms, ab, ba, settled);
  if (payer !== carrierId.toLowerCase()) return "";
  const { available } = await escrowAccount(chain, payer, f.terms.token);
  if (available >= owed) return "";
  return (
    `; as payer our approval reserves ${await token(w, f, owed)} and our available escrow is ` +
    `${await token(w, f, available)}: deposit ${await token(w, f, owed - available)} first (icl escrow deposit)`
  );
}

/** Disputed: the response window while it runs, then that either side may escalate. */
async function disputed(w: WatchScope, f: PeriodFacts): Promise<void> {
  const dl = f.deadlines;
  const dispute = await w.parts.chain.ledger.disputeRecord(f.agreement.agreementId, f.period);
  const ourSide = f.agreement.side === "A" ? 1n : 2n;
  if (within(w.options, f.now, dl.response) && f.now <= dl.response) {
    const proposer = BigInt(dispute.proposer);
    const what =
      proposer === 0n
        ? "no figures are proposed yet: officers may propose"
        : proposer === ourSide
          ? "the partner may accept our proposal"
          : `officers may accept the partner's proposal (${await figures(w, f, dispute.proposedAB, dispute.proposedBA)}) or counter-propose`;
    await alert(
      w,
      f,
      "warning",
      "response-window",
      dl.response,
      `dispute: the response window closes ${when(dl.response, f.now)}; ${what}; after it either side may escalate to the arbiter`,
    );
  } else if (f.now > dl.response) {
    await alert(
      w,
      f,
      "warning",
      "escalation-open",
      dl.response,
      `dispute: the response window closed ${when(dl.response, f.now)}; an officer may escalate to the ` +
        `arbiter (icl dispute escalate ${ref(f)})`,
    );
  }
}
