/**
 * Tests only (not built): a second honest ledger history for the audit suites, covering the paths the
 * first one ({@link ./audit-history}) never reaches: correction rounds, defaults (uncontested and
 * contested), accepted proposals, withdrawals and lapsed arbitration. Every period ends approved and
 * settled. Windows are the consortium's (commit 3 d, reveal 2 d, reconcile 5 d, dispute 7 d,
 * response 3 d, arbitration 10 d).
 *
 * | agreement | period | path |
 * | --- | --- | --- |
 * | ACME–GLOBEX | 203001 | mismatched in round 0 → both re-commit within the reconcile window → matched in round 1 → settled |
 * | GLOBEX–INITECH | 203001 | both commit, only GLOBEX reveals → Defaulted → dispute window passes → Uncontested at GLOBEX's figures → GLOBEX approves for a day and reserves its net, INITECH is silent, anyone releases the lapsed reservation (GLOBEX's approval goes with it) → both approve → settled |
 * | ACME–INITECH | 203001 | only ACME commits and reveals → Defaulted → INITECH contests with its claim → ACME proposes → INITECH accepts → settled |
 * | ACME–GLOBEX | 203002 | mismatched → ACME opens a dispute → GLOBEX proposes → ACME withdraws (concedes GLOBEX's claim) → settled |
 * | ACME–INITECH | 203002 | mismatched → INITECH opens a dispute → partial settlement → escalated → arbiter silent → Resolved at the mean of the claims, rounded down → settled |
 * | GLOBEX–INITECH | 203002 | only GLOBEX commits and reveals → INITECH contests the default → INITECH withdraws (concedes GLOBEX's figures) → settled |
 */
import { id, type JsonRpcProvider, type Wallet } from "ethers";
import { PERIOD_STATES, bareClaim, commitRound, computeCommitment } from "../../node/src/protocol";
import {
  advance,
  commitAndReveal,
  fundEscrow,
  scriptConsortium,
  DAY,
  type Consortium,
  type ConsortiumAgreement,
  type Figures,
} from "../../scripts/lib/consortium";
import { PERIOD, openCommitWindow } from "./hardhat";
import { approveA, approveBoth, PERIOD2 } from "./audit-history";

/** The claims of each edge path, so tests can state what the ledger must have derived from them. */
export const EDGE = {
  /** ACME–GLOBEX 203001: round 0 claims (mismatched), then the figures both re-commit in round 1. */
  correction: {
    a0: { ab: 100_000_000n, ba: 40_000_000n },
    b0: { ab: 150_000_000n, ba: 40_000_000n },
    round1: { ab: 120_000_000n, ba: 40_000_000n, root: id("ACME-GLOBEX 203001 corrected tree") },
  },
  /** GLOBEX–INITECH 203001: GLOBEX's figures (INITECH commits and falls silent). */
  uncontested: { a: { ab: 70_000_000n, ba: 25_000_000n } },
  /** ACME–INITECH 203001: ACME's reveal, INITECH's contesting claim, ACME's proposal INITECH accepts. */
  contested: {
    a: { ab: 100_000_000n, ba: 10_000_000n },
    claimB: { ab: 80_000_000n, ba: 20_000_000n },
    proposal: { ab: 90_000_000n, ba: 15_000_000n },
  },
  /** ACME–GLOBEX 203002: the claims; ACME withdraws and so concedes GLOBEX's. */
  withdrawn: {
    a: { ab: 50_000_000n, ba: 20_000_000n },
    b: { ab: 30_000_000n, ba: 20_000_000n },
    proposalB: { ab: 35_000_000n, ba: 20_000_000n },
  },
  /** ACME–INITECH 203002: odd sums, so the mean is rounded down in both directions. */
  lapsed: {
    a: { ab: 300_000_001n, ba: 10_000_000n },
    b: { ab: 250_000_000n, ba: 20_000_001n },
    mean: { ab: 275_000_000n, ba: 15_000_000n },
  },
  /** GLOBEX–INITECH 203002: GLOBEX's reveal and INITECH's claim before it withdraws. */
  contestedWithdrawn: {
    a: { ab: 60_000_000n, ba: 30_000_000n },
    claimB: { ab: 40_000_000n, ba: 30_000_000n },
  },
} as const;

async function as(c: Consortium, wallet: Wallet) {
  return c.provider.getSigner(wallet.address);
}

/**
 * One party's node commits `f` for `period`; returns the reveal to send later (the other party stays
 * silent or commits on its own).
 */
async function commitOne(
  c: Consortium,
  agreement: ConsortiumAgreement,
  side: "a" | "b",
  f: Figures,
  period: number,
): Promise<() => Promise<void>> {
  const carrier = agreement[side];
  const root = f.root ?? id(`edge-root-${agreement.name}-${period}-${side}`);
  const salt = id(`edge-salt-${agreement.name}-${period}-${side}`);
  const node = c.deployment.ledger.connect(await as(c, carrier.node));
  const ledger = c.deployment.ledger;
  const round = commitRound(
    PERIOD_STATES[Number(await ledger.state(agreement.agreementId, period))]!,
    Number((await ledger.periodRecord(agreement.agreementId, period)).round),
  );
  const commitment = computeCommitment({
    chainId: c.addresses.chainId,
    ledger: c.addresses.ledger,
    agreementId: agreement.agreementId,
    period,
    round,
    party: carrier.id,
    root,
    amountAB: f.ab,
    amountBA: f.ba,
    salt,
  });
  await (await node.commit(agreement.agreementId, period, commitment)).wait();
  return async () => {
    await (await node.reveal(agreement.agreementId, period, root, f.ab, f.ba, salt)).wait();
  };
}

/**
 * Builds the edge history on a fresh Hardhat node (about 10 s). The chain clock ends about 15 days
 * after 203002's end.
 */
export async function buildEdgeHistory(provider: JsonRpcProvider): Promise<Consortium> {
  const c = await scriptConsortium(provider);
  const ledger = c.deployment.ledger;
  const { ACME, GLOBEX, INITECH } = c.carriers;
  const AG = c.agreements["ACME-GLOBEX"];
  const GI = c.agreements["GLOBEX-INITECH"];
  const AI = c.agreements["ACME-INITECH"];
  for (const carrier of [ACME, GLOBEX, INITECH]) await fundEscrow(c, carrier, "ICUSD", 1_000_000_000n);
  const officer = async (wallet: Wallet) => ledger.connect(await as(c, wallet));
  const settle = async (agreement: ConsortiumAgreement, period: number) =>
    (await (await officer(c.outsiders[1])).settle(agreement.agreementId, period)).wait();

  // ---- 203001 (the clock stands a minute after its end)

  // ACME–GLOBEX: mismatched, then a correction round within the reconcile window that matches.
  const { correction } = EDGE;
  await commitAndReveal(c, AG, correction.a0, correction.b0);
  await commitAndReveal(c, AG, correction.round1, correction.round1);
  await approveBoth(c, AG, PERIOD);
  await settle(AG, PERIOD);

  // GLOBEX–INITECH: both commit, only GLOBEX reveals.
  const revealGI = await commitOne(c, GI, "a", EDGE.uncontested.a, PERIOD);
  await commitOne(c, GI, "b", { ab: 1n, ba: 1n }, PERIOD);
  await revealGI();

  // ACME–INITECH: only ACME commits; it reveals once the commit window closed.
  const revealAI = await commitOne(c, AI, "a", EDGE.contested.a, PERIOD);
  await advance(provider, 3 * DAY);
  await revealAI();

  // Past the reveal deadline both are Defaulted; INITECH contests ACME–INITECH and accepts ACME's proposal.
  await advance(provider, 2 * DAY);
  const { claimB, proposal } = EDGE.contested;
  await (
    await (
      await officer(INITECH.officers[0])
    ).contestDefault(AI.agreementId, PERIOD, INITECH.id, bareClaim(claimB.ab, claimB.ba), 2, "")
  ).wait();
  await (
    await (
      await officer(ACME.officers[0])
    ).proposeFigures(AI.agreementId, PERIOD, ACME.id, proposal.ab, proposal.ba, "")
  ).wait();
  await (
    await (
      await officer(INITECH.officers[1])
    ).acceptFigures(AI.agreementId, PERIOD, INITECH.id, proposal.ab, proposal.ba)
  ).wait();
  await approveBoth(c, AI, PERIOD);
  await settle(AI, PERIOD);

  // GLOBEX–INITECH: INITECH never contests; after the dispute window it is Uncontested. GLOBEX pays:
  // its approval for a day reserves the net; INITECH stays silent, so anyone releases it after the day.
  await advance(provider, 7 * DAY + 60);
  const now = (await provider.getBlock("latest"))!.timestamp;
  await approveA(c, GI, PERIOD, false, BigInt(now + DAY));
  await advance(provider, DAY + 60);
  await (await (await officer(c.outsiders[0])).release(GI.agreementId, PERIOD)).wait();
  await approveBoth(c, GI, PERIOD);
  await settle(GI, PERIOD);

  // ---- 203002
  await openCommitWindow(provider, PERIOD2);

  // ACME–GLOBEX: ACME opens a dispute, GLOBEX proposes, ACME withdraws (conceding GLOBEX's claim).
  const { withdrawn } = EDGE;
  await commitAndReveal(c, AG, withdrawn.a, withdrawn.b, PERIOD2);
  await (await (await officer(ACME.officers[0])).openDispute(AG.agreementId, PERIOD2, ACME.id, 1, "")).wait();
  await (
    await (
      await officer(GLOBEX.officers[0])
    ).proposeFigures(AG.agreementId, PERIOD2, GLOBEX.id, withdrawn.proposalB.ab, withdrawn.proposalB.ba, "")
  ).wait();
  await (await (await officer(ACME.officers[1])).withdrawDispute(AG.agreementId, PERIOD2, ACME.id)).wait();
  await approveBoth(c, AG, PERIOD2);
  await settle(AG, PERIOD2);

  // ACME–INITECH: INITECH opens a dispute; the undisputed part settles.
  const { lapsed } = EDGE;
  await commitAndReveal(c, AI, lapsed.a, lapsed.b, PERIOD2);
  await (
    await (await officer(INITECH.officers[0])).openDispute(AI.agreementId, PERIOD2, INITECH.id, 3, "")
  ).wait();
  await approveBoth(c, AI, PERIOD2, true);
  await (await (await officer(c.outsiders[0])).settlePartial(AI.agreementId, PERIOD2)).wait();

  // GLOBEX–INITECH: only GLOBEX commits.
  const revealGI2 = await commitOne(c, GI, "a", EDGE.contestedWithdrawn.a, PERIOD2);

  // After the response window ACME escalates; after the commit window GLOBEX reveals.
  await advance(provider, 3 * DAY + 60);
  await (await (await officer(ACME.officers[0])).escalate(AI.agreementId, PERIOD2, ACME.id)).wait();
  await revealGI2();

  // Past the reveal deadline INITECH contests GLOBEX–INITECH, then withdraws (conceding GLOBEX's figures).
  await advance(provider, 2 * DAY);
  const contested = EDGE.contestedWithdrawn.claimB;
  await (
    await (
      await officer(INITECH.officers[0])
    ).contestDefault(GI.agreementId, PERIOD2, INITECH.id, bareClaim(contested.ab, contested.ba), 2, "")
  ).wait();
  await (
    await (await officer(INITECH.officers[1])).withdrawDispute(GI.agreementId, PERIOD2, INITECH.id)
  ).wait();
  await approveBoth(c, GI, PERIOD2);
  await settle(GI, PERIOD2);

  // The arbiter never rules: once the arbitration window lapses, ACME–INITECH is Resolved at the mean.
  await advance(provider, 10 * DAY);
  await approveBoth(c, AI, PERIOD2);
  await settle(AI, PERIOD2);
  return c;
}
