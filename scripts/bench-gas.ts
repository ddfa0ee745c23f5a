/**
 * Gas benchmark of the settlement ledger. Prints a human-readable breakdown and, as its LAST line, one
 * JSON object: fast_path_gas, happy_path_gas, dispute_path_gas, netting_gas_per_period and supporting
 * figures.
 * Usage: npm run bench:gas
 */
import hre from "hardhat";
import { Wallet, type ContractTransactionResponse, type HDNodeWallet, type Signer } from "ethers";
import { deployLedger, type LedgerDeployment } from "./lib/deployLedger";
import {
  APPROVAL_TYPES,
  SETTLEMENT_TYPES,
  computeCommitment,
  COMMITMENT_TYPES,
  ledgerDomain,
  periodEnd,
  stateIndex,
  type ApprovalData,
  type CommitmentData,
  type SettlementData,
} from "./lib/protocol";
import type { IAgreementBook } from "../typechain-types/contracts/AgreementBook";

const { ethers } = hre;
const UNIT = 1_000_000n;
const DAY = 86_400;
const WINDOWS = {
  commit: 3 * DAY,
  reveal: 2 * DAY,
  reconcile: 5 * DAY,
  dispute: 7 * DAY,
  response: 3 * DAY,
  arbitration: 10 * DAY,
};

interface Carrier {
  id: string;
  node: Signer;
  officers: HDNodeWallet[];
}

async function gas(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  if (receipt === null) throw new Error("no receipt");
  return receipt.gasUsed;
}

async function setTime(t: number): Promise<void> {
  const now = (await ethers.provider.getBlock("latest"))!.timestamp;
  if (t > now) {
    await ethers.provider.send("evm_setNextBlockTimestamp", [t]);
    await ethers.provider.send("evm_mine", []);
  }
}

/** Merkle root of `n` synthetic CDR leaves (sorted-pair keccak tree), as a carrier node would compute. */
function merkleRoot(n: number, seed: string): string {
  let level = Array.from({ length: n }, (_, i) => ethers.keccak256(ethers.toUtf8Bytes(`${seed}:cdr:${i}`)));
  while (level.length > 1) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const a = level[i]!;
      const b = level[i + 1] ?? a;
      next.push(ethers.keccak256(ethers.concat(a < b ? [a, b] : [b, a])));
    }
    level = next;
  }
  return level[0]!;
}

class Bench {
  constructor(
    readonly d: LedgerDeployment,
    readonly admin: Signer,
    readonly arbiter: Signer,
  ) {}

  async carrier(label: string, node: Signer): Promise<Carrier> {
    const id = ethers.encodeBytes32String(label);
    const officers = [0, 1, 2].map(() => Wallet.createRandom());
    await (
      await this.d.registry.registerCarrier(
        id,
        await this.admin.getAddress(),
        officers.map((o) => o.address),
        2,
        [await node.getAddress()],
      )
    ).wait();
    const token = this.d.demoToken!;
    await (await token.mint(await this.admin.getAddress(), 100_000_000n * UNIT)).wait();
    await (await token.approve(await this.d.ledger.getAddress(), ethers.MaxUint256)).wait();
    await (await this.d.ledger.deposit(id, this.d.tokenAddress, 100_000_000n * UNIT)).wait();
    return { id, node, officers };
  }

  async agreement(a: Carrier, b: Carrier, firstPeriod: number): Promise<string> {
    const terms: IAgreementBook.TermsStruct = {
      carrierA: a.id,
      carrierB: b.id,
      token: this.d.tokenAddress,
      toleranceBps: 100,
      rule: 0,
      effectiveFrom: firstPeriod,
      arbiter: await this.arbiter.getAddress(),
      toleranceAbs: 5n * UNIT,
      windows: WINDOWS,
      termsHash: ethers.id("terms"),
    };
    const funded = async (w: HDNodeWallet): Promise<HDNodeWallet> => {
      await hre.network.provider.send("hardhat_setBalance", [w.address, "0x56BC75E2D63100000"]);
      return w.connect(ethers.provider);
    };
    const book = this.d.book;
    const tx = await book
      .connect(await funded(a.officers[0]!))
      .propose(ethers.ZeroHash, a.id, terms, "ipfs://t");
    const log = (await tx.wait())!.logs
      .map((l) => book.interface.parseLog(l))
      .find((l) => l?.name === "AgreementProposed");
    const [id, proposalId] = [log!.args[0] as string, log!.args[1] as string];
    await (await book.connect(await funded(a.officers[1]!)).approveProposal(proposalId, a.id)).wait();
    await (await book.connect(await funded(b.officers[0]!)).approveProposal(proposalId, b.id)).wait();
    await (await book.connect(await funded(b.officers[1]!)).approveProposal(proposalId, b.id)).wait();
    return id;
  }

  /** Both carriers' commitments of round 0. */
  async commits(id: string, period: number, a: Carrier, b: Carrier, fa: Fig, fb: Fig): Promise<bigint[]> {
    const l = this.d.ledger;
    const ledger = await l.getAddress();
    return [
      await gas(l.connect(a.node).commit(id, period, this.commitment(id, period, a, fa, ledger))),
      await gas(l.connect(b.node).commit(id, period, this.commitment(id, period, b, fb, ledger))),
    ];
  }

  /**
   * Both carriers' commitments of round 0 in one commitBoth submitted by A's node, with B's signed by B's
   * node (sent over the peer protocol).
   */
  async commitBoth(id: string, period: number, a: Carrier, b: Carrier, fa: Fig, fb: Fig): Promise<bigint> {
    const l = this.d.ledger;
    const domain = ledgerDomain(this.d.chainId, await l.getAddress());
    const signed = async (p: Carrier, f: Fig) => {
      const commitment = this.commitment(id, period, p, f, await l.getAddress());
      const data: CommitmentData = { agreementId: id, period, round: 0, carrierId: p.id, commitment };
      return [commitment, await p.node.signTypedData(domain, COMMITMENT_TYPES, data)] as const;
    };
    // A's node submits: its own commitment needs no signature (the sender is its node), B's is signed
    const ca = this.commitment(id, period, a, fa, await l.getAddress());
    const [cb, sb] = await signed(b, fb);
    return gas(l.connect(a.node).commitBoth(id, period, ca, "0x", cb, sb));
  }

  commitment(id: string, period: number, p: Carrier, f: Fig, ledger: string): string {
    return computeCommitment({
      chainId: this.d.chainId,
      ledger,
      agreementId: id,
      period,
      round: 0,
      party: p.id,
      root: f.root,
      amountAB: f.ab,
      amountBA: f.ba,
      salt: f.salt,
    });
  }

  /** Both commitments, then both reveals. */
  async commitReveal(
    id: string,
    period: number,
    a: Carrier,
    b: Carrier,
    fa: Fig,
    fb: Fig,
  ): Promise<bigint[]> {
    const l = this.d.ledger;
    return [
      ...(await this.commits(id, period, a, b, fa, fb)),
      await gas(l.connect(a.node).reveal(id, period, fa.root, fa.ab, fa.ba, fa.salt)),
      await gas(l.connect(b.node).reveal(id, period, fb.root, fb.ab, fb.ba, fb.salt)),
    ];
  }

  /**
   * Both carriers' approvals of the figures the two openings give, before they are revealed: what the
   * ledger will hold after revealBoth, read in a snapshot that is then reverted.
   */
  async approvalsBeforeReveal(
    id: string,
    period: number,
    a: Carrier,
    b: Carrier,
    fa: Fig,
    fb: Fig,
  ): Promise<[Signed, Signed]> {
    const snapshot = await ethers.provider.send("evm_snapshot", []);
    await (await this.d.ledger.revealBoth(id, period, opening(fa), opening(fb))).wait();
    const out: [Signed, Signed] = [await this.approval(id, period, a), await this.approval(id, period, b)];
    await ethers.provider.send("evm_revert", [snapshot]);
    return out;
  }

  async approval(
    id: string,
    period: number,
    carrier: Carrier,
  ): Promise<{ data: ApprovalData; sigs: string[] }> {
    const [amountAB, amountBA, rootA, rootB, round] = await this.d.ledger.approvalFigures(id, period, false);
    const data: ApprovalData = {
      agreementId: id,
      period,
      carrierId: carrier.id,
      round: Number(round),
      partialSettlement: false,
      amountAB,
      amountBA,
      rootA,
      rootB,
      deadline: 2n ** 60n,
    };
    const domain = ledgerDomain(this.d.chainId, await this.d.ledger.getAddress());
    const sigs = await Promise.all(
      carrier.officers.slice(0, 2).map((o) => o.signTypedData(domain, APPROVAL_TYPES, data)),
    );
    return { data, sigs };
  }

  /** The fast path's `Settlement` and 2-of-3 signatures of each carrier's officers over it. */
  async settlement(
    id: string,
    period: number,
    a: Carrier,
    b: Carrier,
    f: Omit<Fig, "salt">,
  ): Promise<{ data: SettlementData; sigsA: string[]; sigsB: string[] }> {
    const data: SettlementData = {
      agreementId: id,
      period,
      root: f.root,
      amountAB: f.ab,
      amountBA: f.ba,
      deadline: 2n ** 60n,
    };
    const domain = ledgerDomain(this.d.chainId, await this.d.ledger.getAddress());
    const sign = (c: Carrier) =>
      Promise.all(c.officers.slice(0, 2).map((o) => o.signTypedData(domain, SETTLEMENT_TYPES, data)));
    return { data, sigsA: await sign(a), sigsB: await sign(b) };
  }
}

interface Signed {
  data: ApprovalData;
  sigs: string[];
}

interface Fig {
  root: string;
  ab: bigint;
  ba: bigint;
  salt: string;
}

function opening(f: Fig): { root: string; amountAB: bigint; amountBA: bigint; salt: string } {
  return { root: f.root, amountAB: f.ab, amountBA: f.ba, salt: f.salt };
}

async function main(): Promise<void> {
  const signers = await ethers.getSigners();
  const [admin, arbiter, ...nodes] = signers;
  if (admin === undefined || arbiter === undefined || nodes.length < 10) throw new Error("need 12 signers");
  const d = await deployLedger(admin);
  await (await d.registry.grantRole(await d.registry.ARBITER_ROLE(), arbiter.address)).wait();
  const bench = new Bench(d, admin, arbiter);
  const start = Date.UTC(2030, 0, 10) / 1000;
  await setTime(start);

  const carriers: Carrier[] = [];
  for (let i = 0; i < 10; i++) carriers.push(await bench.carrier(`C${i}`, nodes[i]!));
  const [A, B] = [carriers[0]!, carriers[1]!];
  const id = await bench.agreement(A, B, 203001);
  const l = d.ledger;

  // ---- commit–reveal happy path, with usage summaries of 10 and of 100 000 CDRs (gas depends only on the
  // root): both node-signed commitments in one commitBoth and one revealAndSettle that opens both and settles
  // with both carriers' approvals (the officers signed the figures the openings give, which both nodes know
  // once the commitments are on the ledger); the same ending after two separate commits; two reveals and
  // approveAndSettle; every step on its own.
  type Ending = "two_tx" | "one_tx" | "combined" | "separate";
  const happy: Record<string, { steps: Record<string, bigint>; total: bigint }> = {};
  const cases: [string, number, number, Ending, bigint][] = [
    ["two_tx_10_cdrs", 203001, 10, "two_tx", 0n],
    ["two_tx_100k_cdrs", 203002, 100_000, "two_tx", 0n],
    ["two_tx_reconciled", 203003, 10, "two_tx", 3n * UNIT],
    ["one_tx_10_cdrs", 203004, 10, "one_tx", 0n],
    ["combined_10_cdrs", 203005, 10, "combined", 0n],
    ["separate_10_cdrs", 203006, 10, "separate", 0n],
  ];
  for (const [name, period, cdrs, ending, delta] of cases) {
    await setTime(periodEnd(period));
    const fa: Fig = {
      root: merkleRoot(cdrs, `${period}`),
      ab: 1_234_567_890n,
      ba: 987_654_321n,
      salt: ethers.id("a"),
    };
    // Reconciled: B's node lost a few calls (another root, A→B within the 5-unit tolerance).
    const fb: Fig =
      delta === 0n
        ? { ...fa, salt: ethers.id("b") }
        : { root: merkleRoot(cdrs - 1, `${period}`), ab: fa.ab - delta, ba: fa.ba, salt: ethers.id("b") };
    const steps: Record<string, bigint> = {};
    if (ending === "two_tx") {
      steps.commitBoth = await bench.commitBoth(id, period, A, B, fa, fb);
    } else {
      [steps.commitA, steps.commitB] = (await bench.commits(id, period, A, B, fa, fb)) as [bigint, bigint];
    }
    if (ending === "two_tx" || ending === "one_tx") {
      const [apA, apB] = await bench.approvalsBeforeReveal(id, period, A, B, fa, fb);
      steps.revealAndSettle = await gas(
        l.revealAndSettle(apA.data, opening(fa), opening(fb), apA.sigs, apB.sigs),
      );
    } else {
      steps.revealA = await gas(l.connect(A.node).reveal(id, period, fa.root, fa.ab, fa.ba, fa.salt));
      steps.revealB = await gas(l.connect(B.node).reveal(id, period, fb.root, fb.ab, fb.ba, fb.salt));
      const apA = await bench.approval(id, period, A);
      const apB = await bench.approval(id, period, B);
      if (ending === "combined") {
        steps.approveAndSettle = await gas(l.approveAndSettle(apA.data, apA.sigs, apB.sigs));
      } else {
        steps.approveA = await gas(l.approveWithSignatures(apA.data, apA.sigs));
        steps.approveB = await gas(l.approveWithSignatures(apB.data, apB.sigs));
        steps.settle = await gas(l.settle(id, period));
      }
    }
    if ((await l.state(id, period)) !== stateIndex("Settled"))
      throw new Error(`${name}: period ${period} did not settle`);
    const total = Object.values(steps).reduce((x, y) => x + y, 0n);
    happy[name] = { steps, total };
    console.log(
      `happy path ${name}: ${total} gas`,
      Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, Number(v)])),
    );
  }

  // ---- dispute path: mismatch → dispute → proposal → counter-proposal → escalation → ruling (→ settled)
  const dp = 203007;
  await setTime(periodEnd(dp));
  const dsteps: Record<string, bigint> = {};
  const [c1, c2, r1, r2] = await bench.commitReveal(
    id,
    dp,
    A,
    B,
    { root: ethers.id("ra"), ab: 1_000n * UNIT, ba: 400n * UNIT, salt: ethers.id("x") },
    { root: ethers.id("rb"), ab: 800n * UNIT, ba: 500n * UNIT, salt: ethers.id("y") },
  );
  Object.assign(dsteps, { commitA: c1!, commitB: c2!, revealA: r1!, revealB: r2! });
  const officer = async (c: Carrier): Promise<HDNodeWallet> => {
    const w = c.officers[2]!.connect(ethers.provider);
    await hre.network.provider.send("hardhat_setBalance", [w.address, "0x56BC75E2D63100000"]);
    return w;
  };
  const oA = await officer(A);
  const oB = await officer(B);
  const cid = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
  dsteps.openDispute = await gas(l.connect(oA).openDispute(id, dp, A.id, 1, cid));
  dsteps.proposeA = await gas(l.connect(oA).proposeFigures(id, dp, A.id, 950n * UNIT, 420n * UNIT, cid));
  dsteps.proposeB = await gas(l.connect(oB).proposeFigures(id, dp, B.id, 850n * UNIT, 480n * UNIT, cid));
  await setTime((await ethers.provider.getBlock("latest"))!.timestamp + WINDOWS.response + 1);
  dsteps.escalate = await gas(l.connect(oA).escalate(id, dp, A.id));
  dsteps.rule = await gas(l.connect(arbiter).rule(id, dp, 900n * UNIT, 450n * UNIT, cid));
  const disputeToRuling = Object.values(dsteps).reduce((x, y) => x + y, 0n);
  const dA = await bench.approval(id, dp, A);
  const dB = await bench.approval(id, dp, B);
  dsteps.approveAndSettle = await gas(l.approveAndSettle(dA.data, dA.sigs, dB.sigs));
  const disputeToSettled = disputeToRuling + dsteps.approveAndSettle;
  console.log(
    `dispute path to ruling: ${disputeToRuling} gas; to settled: ${disputeToSettled}`,
    Object.fromEntries(Object.entries(dsteps).map(([k, v]) => [k, Number(v)])),
  );

  // ---- co-signed fast path: both nodes built the same summary; one transaction with both carriers' 2-of-3
  // signatures records the figures and settles (before any commitment, and after both committed)
  const fast: Record<string, bigint> = {};
  for (const [name, period, committed] of [
    ["fresh", 203008, false],
    ["after_commits", 203009, true],
  ] as const) {
    await setTime(periodEnd(period));
    const f = { root: merkleRoot(10, `${period}`), ab: 1_234_567_890n, ba: 987_654_321n };
    if (committed) {
      const ledger = await l.getAddress();
      const c = (p: Carrier, salt: string) =>
        computeCommitment({
          chainId: d.chainId,
          ledger,
          agreementId: id,
          period,
          round: 0,
          party: p.id,
          root: f.root,
          amountAB: f.ab,
          amountBA: f.ba,
          salt: ethers.id(salt),
        });
      await (await l.connect(A.node).commit(id, period, c(A, "a"))).wait();
      await (await l.connect(B.node).commit(id, period, c(B, "b"))).wait();
    }
    const st = await bench.settlement(id, period, A, B, f);
    fast[name] = await gas(l.settleFastPath(st.data, st.sigsA, st.sigsB));
  }
  console.log(
    `fast path (2 × 2-of-3 signatures, settled): ${fast.fresh} gas; after both committed: ${fast.after_commits}`,
  );

  // ---- multilateral netting: 10 carriers in a ring (10 agreements) × 20 periods = 200 approved periods
  const ring: { id: string; a: Carrier; b: Carrier }[] = [];
  for (let i = 0; i < 10; i++) {
    const a = carriers[i]!;
    const b = carriers[(i + 1) % 10]!;
    ring.push({ id: await bench.agreement(a, b, 203101), a, b });
  }
  const keys: { agreementId: string; period: number }[] = [];
  for (let m = 0; m < 20; m++) {
    const period = 203101 + Math.floor(m / 12) * 100 + (m % 12);
    await setTime(periodEnd(period));
    for (const [k, ag] of ring.entries()) {
      const fig = (salt: string): Fig => ({
        root: ethers.id(`${period}/${k}`),
        ab: BigInt(1_000 + 37 * k + m) * UNIT,
        ba: BigInt(700 + 53 * m) * UNIT,
        salt: ethers.id(salt),
      });
      await bench.commitReveal(ag.id, period, ag.a, ag.b, fig("s1"), fig("s2"));
      const apA = await bench.approval(ag.id, period, ag.a);
      const apB = await bench.approval(ag.id, period, ag.b);
      await (await l.approveWithSignatures(apA.data, apA.sigs)).wait();
      await (await l.approveWithSignatures(apB.data, apB.sigs)).wait();
      keys.push({ agreementId: ag.id, period });
    }
  }
  const batchGas = await gas(l.settleBatch(d.tokenAddress, keys));
  const perPeriod = batchGas / BigInt(keys.length);
  console.log(
    `settleBatch of ${keys.length} periods across 10 carriers: ${batchGas} gas (${perPeriod} per period)`,
  );

  const size = async (name: string): Promise<number> => {
    const artifact = await hre.artifacts.readArtifact(name);
    return (artifact.deployedBytecode.length - 2) / 2;
  };
  const out = {
    fast_path_gas: Number(fast.fresh),
    fast_path_gas_after_commits: Number(fast.after_commits),
    happy_path_gas: Number(happy.two_tx_10_cdrs!.total),
    happy_path_gas_100k_cdrs: Number(happy.two_tx_100k_cdrs!.total),
    happy_path_gas_reconciled: Number(happy.two_tx_reconciled!.total),
    happy_path_gas_separate_commits: Number(happy.one_tx_10_cdrs!.total),
    happy_path_gas_two_reveals: Number(happy.combined_10_cdrs!.total),
    happy_path_gas_separate_txs: Number(happy.separate_10_cdrs!.total),
    happy_path_steps: Object.fromEntries(
      Object.entries(happy.two_tx_10_cdrs!.steps).map(([k, v]) => [k, Number(v)]),
    ),
    dispute_path_gas: Number(disputeToRuling),
    dispute_path_to_settled_gas: Number(disputeToSettled),
    netting_gas_per_period: Number(perPeriod),
    netting_batch_gas: Number(batchGas),
    netting_periods: keys.length,
    netting_carriers: 10,
    bytecode_bytes: {
      SettlementLedger: await size("SettlementLedger"),
      CarrierRegistry: await size("CarrierRegistry"),
      AgreementBook: await size("AgreementBook"),
      LedgerFastPath: await size("LedgerFastPath"),
    },
  };
  console.log(JSON.stringify(out));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
