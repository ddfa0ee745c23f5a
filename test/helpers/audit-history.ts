/**
 * Tests only (not built): an honest ledger history for the audit suites, on the three-carrier test
 * consortium. Everything a regulator must be able to replay happens once:
 *
 * | agreement | period | path |
 * | --- | --- | --- |
 * | ACME–GLOBEX | 203001 | matched (ACME's root is a real summary tree), approved (signatures / direct), settled singly |
 * | GLOBEX–INITECH | 203001 | reconciled within tolerance (terminating figures), settled in the batch |
 * | ACME–INITECH | 203001 | mismatched → dispute → proposal → counter → partial settlement → escalate → ruling → settled |
 * | — | — | ACME removes its third officer (M-of-N signatures) |
 * | ACME–GLOBEX, ACME–INITECH | 203002 | matched, approved after the removal, settled in one settleBatch with GLOBEX–INITECH 203001 (the batch also names ACME–GLOBEX 203001, settled before: skipped) |
 *
 * Every payer approves with its escrow funded, so each payer's approval reserves its net (six reservations).
 */
import { ZeroAddress, id, type JsonRpcProvider, type Wallet } from "ethers";
import {
  APPROVAL_TYPES,
  OFFICER_UPDATE_TYPES,
  ledgerDomain,
  registryDomain,
  type ApprovalData,
} from "../../node/src/protocol";
import {
  advance,
  commitAndReveal,
  fundEscrow,
  scriptConsortium,
  DAY,
  type Consortium,
  type ConsortiumAgreement,
  type ConsortiumCarrier,
} from "../../scripts/lib/consortium";
import { PERIOD, openCommitWindow } from "./hardhat";
import { rawBlockCid } from "../../node/src/evidence/cid";
import { periodSalt, type UsageLeaf } from "../../node/src/summaries/encoding";
import { summaryRoot, SUMMARY_FORMAT, type SummaryFile } from "../../node/src/audit/summary-file";

export const PERIOD2 = 203002;
const FAR = 2n ** 40n;

export interface HonestHistory {
  c: Consortium;
  /** ACME's revealed summary of ACME–GLOBEX 203001, as `icl period export` writes it. */
  summary: SummaryFile;
  /** Evidence blocks cited on chain: CID → bytes. */
  evidence: Map<string, Uint8Array>;
}

/** The leaves behind ACME–GLOBEX 203001 (both carriers agree on them). */
export function matchedLeaves(): UsageLeaf[] {
  const day = Math.floor(Date.UTC(2030, 0, 15) / 86_400_000);
  return [
    {
      direction: "AB",
      service: "voice",
      destination: "Germany - Mobile",
      day,
      records: 120n,
      billed: 7_200n,
      amount: 60_000_000n,
    },
    {
      direction: "AB",
      service: "sms",
      destination: "United Kingdom - SMS",
      day,
      records: 800n,
      billed: 800n,
      amount: 40_000_000n,
    },
    {
      direction: "BA",
      service: "voice",
      destination: "France - Fixed",
      day: day + 1,
      records: 90n,
      billed: 5_400n,
      amount: 40_000_000n,
    },
  ];
}

async function signer(c: Consortium, wallet: Wallet) {
  return c.provider.getSigner(wallet.address);
}

/** Figures officers must sign now, as an Approval of `carrier`, valid until `deadline`. */
async function approvalFor(
  c: Consortium,
  agreement: ConsortiumAgreement,
  period: number,
  carrier: ConsortiumCarrier,
  partial: boolean,
  deadline = FAR,
): Promise<ApprovalData> {
  const [amountAB, amountBA, rootA, rootB, round] = await c.deployment.ledger.approvalFigures(
    agreement.agreementId,
    period,
    partial,
  );
  return {
    agreementId: agreement.agreementId,
    period,
    carrierId: carrier.id,
    round: Number(round),
    partialSettlement: partial,
    amountAB,
    amountBA,
    rootA,
    rootB,
    deadline,
  };
}

/**
 * Carrier A of `agreement` approves with two EIP-712 signatures submitted by anyone, valid until
 * `deadline` (its reservation, when it pays, expires with it).
 */
export async function approveA(
  c: Consortium,
  agreement: ConsortiumAgreement,
  period: number,
  partial = false,
  deadline = FAR,
): Promise<void> {
  const ledger = c.deployment.ledger;
  const domain = ledgerDomain(c.addresses.chainId, c.addresses.ledger);
  const a = await approvalFor(c, agreement, period, agreement.a, partial, deadline);
  const sigs = await Promise.all(
    [0, 1].map((k) => agreement.a.officers[k]!.signTypedData(domain, APPROVAL_TYPES, a)),
  );
  await (await ledger.connect(await signer(c, c.outsiders[0])).approveWithSignatures(a, sigs)).wait();
}

/** Both carriers approve: A with two EIP-712 signatures submitted by anyone, B by two direct calls. */
export async function approveBoth(
  c: Consortium,
  agreement: ConsortiumAgreement,
  period: number,
  partial = false,
): Promise<void> {
  const ledger = c.deployment.ledger;
  await approveA(c, agreement, period, partial);
  const b = await approvalFor(c, agreement, period, agreement.b, partial);
  for (const k of [0, 1])
    await (await ledger.connect(await signer(c, agreement.b.officers[k]!)).approve(b)).wait();
}

/**
 * Builds the honest history on a fresh Hardhat node (about 15 s).
 */
export async function buildHonestHistory(provider: JsonRpcProvider): Promise<HonestHistory> {
  const c = await scriptConsortium(provider);
  const ledger = c.deployment.ledger;
  const { ACME, GLOBEX, INITECH } = c.carriers;
  const AG = c.agreements["ACME-GLOBEX"];
  const GI = c.agreements["GLOBEX-INITECH"];
  const AI = c.agreements["ACME-INITECH"];
  for (const carrier of [ACME, GLOBEX, INITECH]) await fundEscrow(c, carrier, "ICUSD", 1_000_000_000n);

  // ACME–GLOBEX 203001: matched on a real summary tree.
  const leaves = matchedLeaves();
  const secret = Buffer.from(id("ACME-GLOBEX onboarding secret").slice(2), "hex");
  const treeSalt = periodSalt(secret, AG.agreementId, PERIOD);
  const summary: SummaryFile = {
    format: SUMMARY_FORMAT,
    agreementId: AG.agreementId,
    period: PERIOD,
    side: "A",
    carrierId: ACME.id,
    round: 0,
    treeSalt: "0x" + treeSalt.toString("hex"),
    leaves,
  };
  const root = summaryRoot(summary);
  summary.root = root;
  summary.amountAB = 100_000_000n;
  summary.amountBA = 40_000_000n;
  await commitAndReveal(
    c,
    AG,
    { ab: 100_000_000n, ba: 40_000_000n, root },
    { ab: 100_000_000n, ba: 40_000_000n, root },
  );
  await approveBoth(c, AG, PERIOD);
  await (await ledger.connect(await signer(c, c.outsiders[1])).settle(AG.agreementId, PERIOD)).wait();

  // GLOBEX–INITECH 203001: within 1 %, reconciled at the terminating party's figures.
  await commitAndReveal(c, GI, { ab: 200_000_000n, ba: 50_000_000n }, { ab: 201_000_000n, ba: 50_000_000n });

  // ACME–INITECH 203001: mismatched, disputed, partially settled, escalated and ruled.
  await commitAndReveal(c, AI, { ab: 300_000_000n, ba: 10_000_000n }, { ab: 250_000_000n, ba: 10_000_000n });
  const evidence = new Map<string, Uint8Array>();
  const cite = (text: string) => {
    const bytes = new TextEncoder().encode(text);
    const cid = rawBlockCid(bytes);
    evidence.set(cid, bytes);
    return cid;
  };
  await (
    await ledger
      .connect(await signer(c, ACME.officers[0]))
      .openDispute(AI.agreementId, PERIOD, ACME.id, 1, cite("ACME discrepancy report 203001"))
  ).wait();
  await (
    await ledger
      .connect(await signer(c, INITECH.officers[0]))
      .proposeFigures(AI.agreementId, PERIOD, INITECH.id, 270_000_000n, 10_000_000n, cite("INITECH proposal"))
  ).wait();
  await (
    await ledger
      .connect(await signer(c, ACME.officers[1]))
      .proposeFigures(AI.agreementId, PERIOD, ACME.id, 290_000_000n, 10_000_000n, "")
  ).wait();
  await approveBoth(c, AI, PERIOD, true);
  await (await ledger.connect(await signer(c, c.outsiders[0])).settlePartial(AI.agreementId, PERIOD)).wait();
  await advance(provider, 3 * DAY + 60);
  await (
    await ledger.connect(await signer(c, INITECH.officers[1])).escalate(AI.agreementId, PERIOD, INITECH.id)
  ).wait();
  await (
    await ledger
      .connect(await signer(c, c.arbiter))
      .rule(AI.agreementId, PERIOD, 280_000_000n, 10_000_000n, cite("arbiter's rationale"))
  ).wait();
  await approveBoth(c, AI, PERIOD);
  await (await ledger.connect(await signer(c, c.outsiders[1])).settle(AI.agreementId, PERIOD)).wait();
  await approveBoth(c, GI, PERIOD);

  // ACME drops its third officer (signed by the other two).
  const registry = c.deployment.registry;
  const update = {
    carrierId: ACME.id,
    add: [],
    remove: [ACME.officers[2].address],
    threshold: 2,
    treasury: ZeroAddress,
    nonce: await registry.officerNonce(ACME.id),
    deadline: FAR,
  };
  const domain = registryDomain(c.addresses.chainId, c.addresses.registry);
  const sigs = await Promise.all(
    [0, 1].map((k) => ACME.officers[k]!.signTypedData(domain, OFFICER_UPDATE_TYPES, update)),
  );
  await (await registry.connect(await signer(c, c.outsiders[0])).updateOfficers(update, sigs)).wait();

  // 203002: two matched periods, then one batch nets all three carriers.
  await openCommitWindow(provider, PERIOD2);
  const ag2 = { ab: 30_000_000n, ba: 70_000_000n, root: id("ACME-GLOBEX 203002 tree") };
  const ai2 = { ab: 20_000_000n, ba: 5_000_000n, root: id("ACME-INITECH 203002 tree") };
  await commitAndReveal(c, AG, ag2, ag2, PERIOD2);
  await commitAndReveal(c, AI, ai2, ai2, PERIOD2);
  await approveBoth(c, AG, PERIOD2);
  await approveBoth(c, AI, PERIOD2);
  await (
    await ledger.connect(await signer(c, c.outsiders[1])).settleBatch(await c.tokens.ICUSD.getAddress(), [
      { agreementId: GI.agreementId, period: PERIOD },
      { agreementId: AG.agreementId, period: PERIOD },
      { agreementId: AG.agreementId, period: PERIOD2 },
      { agreementId: AI.agreementId, period: PERIOD2 },
    ])
  ).wait();
  return { c, summary, evidence };
}
