/**
 * The dispute steps of a period (open, contest a default, propose, accept, escalate, rule, withdraw)
 * replayed against the contract's rules: which state allows each, the response and arbitration
 * windows, who may act, and that accepted, conceded and ruled figures are the ones the rules give.
 */
import { getAddress } from "ethers";
import { MAX_PROPOSALS, type PeriodStateName } from "../protocol";
import { argBig, argString, type AuditEvent } from "./events";
import type { FindingKind, Place, Severity } from "./findings";
import { claimOnRecord, type PeriodModel, type Terms } from "./model";
import type { ReplayCounts } from "./replay-context";

export interface DisputeStepContext {
  p: PeriodModel;
  terms: Terms;
  now: number;
  at: Place;
  where: { agreementId: string; period: number };
  add(severity: Severity, kind: FindingKind, at: Place, message: string): void;
  /** Adds a finding unless the period's derived state is one of `allowed`. */
  expectState(allowed: readonly PeriodStateName[]): boolean;
  /** The acting carrier's side (0 = A, 1 = B); null (with a finding) when it is not a party. */
  needSide(): 0 | 1 | null;
  cite(e: AuditEvent, field: string): void;
  /** Whether the account held ARBITER_ROLE or REGULATOR_ROLE at this point of the history. */
  canArbitrate(account: string): boolean;
  counts: Pick<
    ReplayCounts,
    "disputeSteps" | "defaultsContested" | "acceptances" | "withdrawals" | "rulings"
  >;
}

/** Applies one dispute event to the period; true when it was one. */
export function applyDisputeStep(e: AuditEvent, ctx: DisputeStepContext): boolean {
  const { p, terms, now, at, add, expectState, needSide, cite, canArbitrate, counts } = ctx;
  switch (e.name) {
    case "DisputeOpened":
    case "DefaultContested": {
      counts.disputeSteps++;
      const s = needSide();
      if (s === null) return true;
      if (e.name === "DisputeOpened") expectState(["Mismatched"]);
      else {
        counts.defaultsContested++;
        expectState(["Defaulted"]);
        if (p.claims[s] !== null) {
          add("error", "dispute-mismatch", at, "a default contested by the party that revealed");
        }
        // A party whose node committed contests by opening that commitment (M-2): the event carries the
        // opened root (the ledger checked the opening); one that did not commit has none.
        const root = argString(e, "root").toLowerCase();
        const zero = /^0x0{64}$/.test(root);
        if (p.commitments[s] !== null && zero) {
          add("error", "dispute-mismatch", at, "a default contested without opening the party's commitment");
        } else if (p.commitments[s] === null && !zero) {
          add("error", "dispute-mismatch", at, `a default contested with root ${root} but no commitment`);
        }
        p.claims[s] = {
          root,
          amountAB: argBig(e, "amountAB"),
          amountBA: argBig(e, "amountBA"),
          status: 2,
          at,
        };
      }
      p.disputed = true;
      Object.assign(p.dispute, { openedAt: now, lastActionAt: now, opener: (s + 1) as 1 | 2 });
      cite(e, "evidenceCid");
      return true;
    }
    case "FiguresProposed": {
      counts.disputeSteps++;
      const s = needSide();
      if (s === null) return true;
      expectState(["Disputed"]);
      if (p.dispute.proposals >= MAX_PROPOSALS) {
        add("error", "dispute-mismatch", at, `a proposal beyond the ${MAX_PROPOSALS} a dispute allows`);
      }
      Object.assign(p.dispute, {
        proposals: p.dispute.proposals + 1,
        proposer: (s + 1) as 1 | 2,
        proposedAB: argBig(e, "amountAB"),
        proposedBA: argBig(e, "amountBA"),
        lastActionAt: now,
      });
      cite(e, "evidenceCid");
      return true;
    }
    case "FiguresAccepted": {
      counts.disputeSteps++;
      counts.acceptances++;
      const s = needSide();
      if (s === null) return true;
      expectState(["Disputed"]);
      const d = p.dispute;
      if (d.proposer === 0 || d.proposer === s + 1) {
        add("error", "dispute-mismatch", at, "accepted without a proposal of the other party");
      } else if (now > d.lastActionAt + terms.windows.response) {
        add("error", "dispute-mismatch", at, "accepted after the response window closed");
      }
      if (argBig(e, "amountAB") !== d.proposedAB || argBig(e, "amountBA") !== d.proposedBA) {
        add(
          "error",
          "dispute-mismatch",
          at,
          `accepted ${argBig(e, "amountAB")}/${argBig(e, "amountBA")}, the proposal was ${d.proposedAB}/${d.proposedBA}`,
        );
      }
      Object.assign(d, {
        resolution: "Accepted",
        resolvedAB: d.proposedAB,
        resolvedBA: d.proposedBA,
        resolvedAt: now,
      });
      return true;
    }
    case "DisputeEscalated": {
      counts.disputeSteps++;
      if (needSide() === null) return true;
      expectState(["Disputed"]);
      const d = p.dispute;
      if (now <= d.lastActionAt + terms.windows.response) {
        add("error", "dispute-mismatch", at, "escalated before the response window closed");
      }
      if (argBig(e, "deadline") !== BigInt(now + terms.windows.arbitration)) {
        add(
          "error",
          "dispute-mismatch",
          at,
          `arbitration deadline ${argBig(e, "deadline")}, the terms give ${now + terms.windows.arbitration}`,
        );
      }
      d.escalatedAt = now;
      return true;
    }
    case "DisputeRuled": {
      counts.rulings++;
      expectState(["Escalated"]);
      const arbiter = argString(e, "arbiter").toLowerCase();
      const entitled = canArbitrate(arbiter);
      if (arbiter !== terms.arbiter.toLowerCase() || !entitled) {
        add(
          "error",
          "ruling-not-arbiter",
          at,
          `ruled by ${getAddress(arbiter)}; the agreement's arbiter is ${terms.arbiter}` +
            (entitled ? "" : " (and the ruler held neither ARBITER_ROLE nor REGULATOR_ROLE)"),
        );
      }
      const ab = argBig(e, "amountAB");
      const ba = argBig(e, "amountBA");
      const a = claimOnRecord(p, 0);
      const b = claimOnRecord(p, 1);
      for (const [label, amount, x, y] of [
        ["A→B", ab, a.amountAB, b.amountAB],
        ["B→A", ba, a.amountBA, b.amountBA],
      ] as const) {
        const [low, high] = x <= y ? [x, y] : [y, x];
        if (amount < low || amount > high) {
          add(
            "error",
            "ruling-out-of-range",
            at,
            `ruled ${amount} ${label}, outside the claims [${low}, ${high}]`,
          );
        }
      }
      Object.assign(p.dispute, { resolution: "Ruled", resolvedAB: ab, resolvedBA: ba, resolvedAt: now });
      cite(e, "rationaleCid");
      return true;
    }
    case "DisputeWithdrawn": {
      counts.disputeSteps++;
      counts.withdrawals++;
      const s = needSide();
      if (s === null) return true;
      expectState(["Disputed"]);
      if (p.dispute.opener !== s + 1) {
        add("error", "dispute-mismatch", at, "withdrawn by the party that did not open the dispute");
      }
      const other = claimOnRecord(p, (1 - s) as 0 | 1);
      const ab = other.amountAB;
      const ba = other.amountBA;
      if (argBig(e, "amountAB") !== ab || argBig(e, "amountBA") !== ba) {
        add(
          "error",
          "dispute-mismatch",
          at,
          `withdrawal conceded ${argBig(e, "amountAB")}/${argBig(e, "amountBA")}, the other claim is ${ab}/${ba}`,
        );
      }
      Object.assign(p.dispute, { resolution: "Withdrawn", resolvedAB: ab, resolvedBA: ba, resolvedAt: now });
      return true;
    }
    default:
      return false;
  }
}
