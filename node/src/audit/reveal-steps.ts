/**
 * Reveals replayed against the contract's rules: the period must be Revealing, in the round the
 * party committed to, and the opening must hash to that commitment. The salt is not in the event, so
 * the opening is recomputed from the reveal transaction's calldata (`reveal`, or the carrier's opening in
 * `revealBoth` / `revealAndSettle`), which must also agree with the event; a `reveal` must come from a
 * node of the carrier.
 */
import { computeCommitment } from "../protocol";
import { SettlementLedger__factory } from "../../../typechain-types";
import { argBig, argString, type AuditEvent } from "./events";
import { derivedState, type PeriodModel, type Terms } from "./model";
import { place, type ReplayContext, partyStep } from "./replay-context";

const LEDGER = SettlementLedger__factory.createInterface();

/** Applies a `Revealed` event; marks the period as owing an evaluation once both parties revealed. */
export async function applyReveal(
  r: ReplayContext,
  e: AuditEvent,
  p: PeriodModel,
  terms: Terms,
  now: number,
): Promise<void> {
  r.counts.reveals++;
  const step = partyStep(r, e, p, terms, "unexpected-event", "reveal by");
  if (step === null) return;
  const { at, where, carrierId, side: s } = step;
  const state = derivedState(p, terms, now);
  if (state !== "Revealing") {
    r.add("error", "unexpected-event", at, where, `reveal while the period was ${state}`);
  }
  const round = Number(argBig(e, "round"));
  if (round !== p.round) {
    r.add(
      "error",
      "unexpected-event",
      at,
      where,
      `reveal for round ${round}, the period is in round ${p.round}`,
    );
  }
  const root = argString(e, "root").toLowerCase();
  const amountAB = argBig(e, "amountAB");
  const amountBA = argBig(e, "amountBA");
  const committed = p.commitments[s];
  if (committed === null) {
    r.add(
      "error",
      "unexpected-event",
      at,
      where,
      `party ${"AB"[s]} revealed without a commitment in round ${p.round}`,
    );
  } else {
    await verifyOpening(r, e, { carrierId, side: s, round, root, amountAB, amountBA, committed }, p);
  }
  if (p.claims[s] !== null) {
    r.add("error", "unexpected-event", at, where, `party ${"AB"[s]} revealed twice in round ${p.round}`);
  }
  p.claims[s] = { root, amountAB, amountBA, status: 1, at };
  p.reveals.push({ carrierId: carrierId.toLowerCase(), round, root, amountAB, amountBA, at });
  const a = p.claims[0];
  const b = p.claims[1];
  if (a?.status === 1 && b?.status === 1) p.pendingEvaluation = at;
}

/**
 * Recomputes the commitment from the reveal transaction's calldata (the salt is not in the event)
 * and compares the calldata with the event.
 */
async function verifyOpening(
  r: ReplayContext,
  e: AuditEvent,
  opened: {
    carrierId: string;
    /** 0 for carrier A, 1 for B: which opening of a `revealBoth` or `revealAndSettle` is this one. */
    side: 0 | 1;
    round: number;
    root: string;
    amountAB: bigint;
    amountBA: bigint;
    committed: string;
  },
  p: PeriodModel,
): Promise<void> {
  const at = place(e);
  const where = { agreementId: p.agreementId, period: p.period };
  const tx = await r.chain.transaction(e.txHash);
  const call =
    tx !== null && tx.to !== null && tx.to.toLowerCase() === r.chain.ledgerAddress.toLowerCase()
      ? LEDGER.parseTransaction({ data: tx.data })
      : null;
  const args = call === null ? null : openingArgs(call.name, call.args as unknown as unknown[], opened.side);
  if (tx === null || call === null || args === null) {
    r.add(
      "warning",
      "reveal-unverifiable",
      at,
      where,
      "the reveal was not a direct call to the ledger's reveal(), revealBoth() or revealAndSettle(): its " +
        "salt cannot be read, so the opening was checked by the contract only",
    );
    return;
  }
  const { agreementId, period, root, amountAB, amountBA, salt } = args;
  const differs: string[] = [];
  if (agreementId.toLowerCase() !== p.agreementId) differs.push(`agreement ${agreementId}`);
  if (Number(period) !== p.period) differs.push(`period ${period}`);
  if (root.toLowerCase() !== opened.root) differs.push(`root ${root} (event ${opened.root})`);
  if (amountAB !== opened.amountAB) differs.push(`amountAB ${amountAB} (event ${opened.amountAB})`);
  if (amountBA !== opened.amountBA) differs.push(`amountBA ${amountBA} (event ${opened.amountBA})`);
  if (differs.length > 0) {
    r.add("error", "reveal-event-mismatch", at, where, `the reveal transaction sent ${differs.join(", ")}`);
  }
  const computed = computeCommitment({
    chainId: r.chain.chainId,
    ledger: r.chain.ledgerAddress,
    agreementId,
    period: Number(period),
    round: opened.round,
    party: opened.carrierId,
    root,
    amountAB,
    amountBA,
    salt,
  });
  if (computed.toLowerCase() !== opened.committed) {
    r.add(
      "error",
      "reveal-commitment-mismatch",
      at,
      where,
      `the opening hashes to ${computed}, the round's commitment is ${opened.committed}`,
    );
  } else if (differs.length === 0) {
    r.counts.revealsVerified++;
  }
  const carrier = r.carriers.get(opened.carrierId.toLowerCase());
  // revealBoth and revealAndSettle are anyone's to send (each opening proves itself); reveal is a node's.
  if (call.name === "reveal" && carrier !== undefined && !carrier.nodes.has(tx.from.toLowerCase())) {
    r.add(
      "error",
      "reveal-not-node",
      at,
      where,
      `sent by ${tx.from}, not a node of the carrier at that block`,
    );
  }
}

/** The opening of `side` a call to reveal, revealBoth or revealAndSettle sent; null for any other call. */
function openingArgs(
  name: string,
  args: unknown[],
  side: 0 | 1,
): {
  agreementId: string;
  period: bigint;
  root: string;
  amountAB: bigint;
  amountBA: bigint;
  salt: string;
} | null {
  type Opening = { root: string; amountAB: bigint; amountBA: bigint; salt: string };
  const of = (agreementId: unknown, period: unknown, opening: Opening) => ({
    agreementId: String(agreementId),
    period: BigInt(period as bigint),
    root: opening.root,
    amountAB: BigInt(opening.amountAB),
    amountBA: BigInt(opening.amountBA),
    salt: opening.salt,
  });
  if (name === "reveal") {
    const [agreementId, period, root, amountAB, amountBA, salt] = args;
    return of(agreementId, period, {
      root: String(root),
      amountAB: amountAB as bigint,
      amountBA: amountBA as bigint,
      salt: String(salt),
    });
  }
  if (name === "revealBoth") return of(args[0], args[1], args[2 + side] as Opening);
  if (name === "revealAndSettle") {
    const approval = args[0] as { agreementId: string; period: bigint };
    return of(approval.agreementId, approval.period, args[1 + side] as Opening);
  }
  return null;
}
