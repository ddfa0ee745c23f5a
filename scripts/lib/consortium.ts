/**
 * The demo's three-carrier consortium on a Hardhat node (not built into dist/), which the settlement,
 * netting and audit tests start too. Accounts (Hardhat's default mnemonic):
 *
 * | who | accounts |
 * | --- | --- |
 * | consortium admin (deployer, token minter) | 0 |
 * | ACME officers (2 of 3), node, treasury | 1 2 3, 4, 15 |
 * | GLOBEX officers (2 of 3), node, treasury | 5 6 7, 8, 16 |
 * | INITECH officers (2 of 3), node, treasury | 9 10 11, 12, 17 |
 * | arbiter (ARBITER_ROLE), regulator (REGULATOR_ROLE) | 13, 14 |
 * | outsiders (not officers of anyone) | 18, 19 |
 *
 * Agreements: ACME–GLOBEX, GLOBEX–INITECH, ACME–INITECH (the first carrier is party A), all from
 * PERIOD, tolerance 1% / 5 units (micro-units of a 6-decimal token), rule Terminating, arbiter 13.
 * Two listed tokens: ICUSD (the demo token) and ICEUR; agreements settle in ICUSD unless `tokens` says otherwise.
 */
import { JsonRpcProvider, Wallet, encodeBytes32String, id } from "ethers";
import { deployLedger, type LedgerDeployment } from "../../node/src/chain/deploy-ledger";
import { PERIOD_STATES, commitRound, computeCommitment } from "../../node/src/protocol";
import { SettlementToken__factory, type SettlementToken } from "../../typechain-types";
import type { IAgreementBook } from "../../typechain-types/contracts/AgreementBook";
import { PERIOD, hardhatWallet, openCommitWindow } from "./hardhat-node";

export const DAY = 86_400;

export interface ConsortiumCarrier {
  name: "ACME" | "GLOBEX" | "INITECH";
  id: string;
  officers: [Wallet, Wallet, Wallet];
  node: Wallet;
  treasury: Wallet;
}

export interface ConsortiumAgreement {
  name: "ACME-GLOBEX" | "GLOBEX-INITECH" | "ACME-INITECH";
  agreementId: string;
  a: ConsortiumCarrier;
  b: ConsortiumCarrier;
  token: string;
}

export interface Consortium {
  provider: JsonRpcProvider;
  deployment: LedgerDeployment;
  addresses: { ledger: string; registry: string; book: string; deployBlock: number; chainId: bigint };
  admin: Wallet;
  arbiter: Wallet;
  regulator: Wallet;
  outsiders: [Wallet, Wallet];
  carriers: Record<ConsortiumCarrier["name"], ConsortiumCarrier>;
  agreements: Record<ConsortiumAgreement["name"], ConsortiumAgreement>;
  tokens: { ICUSD: SettlementToken; ICEUR: SettlementToken };
}

export const WINDOWS = {
  commit: 3 * DAY,
  reveal: 2 * DAY,
  reconcile: 5 * DAY,
  dispute: 7 * DAY,
  response: 3 * DAY,
  arbitration: 10 * DAY,
};

/**
 * Deploys the ledger and a second token, registers the three carriers, the arbiter and the regulator,
 * activates the three agreements and moves the clock into PERIOD's commit window.
 */
export async function scriptConsortium(
  provider: JsonRpcProvider,
  options: {
    tokens?: Partial<Record<ConsortiumAgreement["name"], "ICUSD" | "ICEUR">>;
    /** The agreements' absolute tolerance in token base units (default 5 ICUSD). */
    toleranceAbs?: bigint;
    /** The agreements' relative tolerance in basis points (default 100: 1%). */
    toleranceBps?: number;
  } = {},
): Promise<Consortium> {
  // Setup goes through the node's unlocked accounts so Hardhat assigns nonces.
  const w = (i: number) => hardhatWallet(i, provider);
  const u = (i: number) => provider.getSigner(i);
  const deployment = await deployLedger(await u(0));
  const { registry, book } = deployment;
  const icusd = SettlementToken__factory.connect(deployment.tokenAddress, await u(0));
  const icef = await new SettlementToken__factory(await u(0)).deploy(
    "Interconnect EUR",
    "ICEUR",
    w(0).address,
  );
  await icef.waitForDeployment();
  const iceur = SettlementToken__factory.connect(await icef.getAddress(), await u(0));
  await (await registry.setToken(await iceur.getAddress(), true)).wait();

  const carrier = (name: ConsortiumCarrier["name"], first: number, node: number, treasury: number) => ({
    name,
    id: encodeBytes32String(name),
    officers: [w(first), w(first + 1), w(first + 2)] as [Wallet, Wallet, Wallet],
    node: w(node),
    treasury: w(treasury),
  });
  const carriers = {
    ACME: carrier("ACME", 1, 4, 15),
    GLOBEX: carrier("GLOBEX", 5, 8, 16),
    INITECH: carrier("INITECH", 9, 12, 17),
  };
  for (const c of Object.values(carriers)) {
    await (
      await registry.registerCarrier(
        c.id,
        c.treasury.address,
        c.officers.map((o) => o.address),
        2,
        [c.node.address],
      )
    ).wait();
  }
  const arbiter = w(13);
  const regulator = w(14);
  await (await registry.grantRole(await registry.ARBITER_ROLE(), arbiter.address)).wait();
  await (await registry.grantRole(await registry.REGULATOR_ROLE(), regulator.address)).wait();

  const latest = await provider.getBlock("latest");
  const start = Date.UTC(2029, 11, 10) / 1000;
  if (latest !== null && latest.timestamp < start) await provider.send("evm_setNextBlockTimestamp", [start]);

  const tokenAddress = {
    ICUSD: await icusd.getAddress(),
    ICEUR: await iceur.getAddress(),
  };
  const officerIndex = (c: ConsortiumCarrier, k: number) => ({ ACME: 1, GLOBEX: 5, INITECH: 9 })[c.name] + k;
  const agree = async (name: ConsortiumAgreement["name"], a: ConsortiumCarrier, b: ConsortiumCarrier) => {
    const token = tokenAddress[options.tokens?.[name] ?? "ICUSD"];
    const terms: IAgreementBook.TermsStruct = {
      carrierA: a.id,
      carrierB: b.id,
      token,
      toleranceBps: options.toleranceBps ?? 100,
      rule: 0,
      effectiveFrom: PERIOD,
      arbiter: arbiter.address,
      toleranceAbs: options.toleranceAbs ?? 5_000_000n,
      windows: WINDOWS,
      termsHash: id(`terms ${name} v1`),
    };
    const receipt = await (
      await book
        .connect(await u(officerIndex(a, 0)))
        .propose(encodeBytes32String(""), a.id, terms, `ipfs://terms-${name}`)
    ).wait();
    const proposed = receipt?.logs
      .map((l) => book.interface.parseLog(l))
      .find((l) => l?.name === "AgreementProposed");
    if (!proposed) throw new Error("no AgreementProposed event");
    const [agreementId, proposalId] = [proposed.args[0] as string, proposed.args[1] as string];
    await (await book.connect(await u(officerIndex(a, 1))).approveProposal(proposalId, a.id)).wait();
    await (await book.connect(await u(officerIndex(b, 0))).approveProposal(proposalId, b.id)).wait();
    await (await book.connect(await u(officerIndex(b, 1))).approveProposal(proposalId, b.id)).wait();
    return { name, agreementId, a, b, token };
  };
  const agreements = {
    "ACME-GLOBEX": await agree("ACME-GLOBEX", carriers.ACME, carriers.GLOBEX),
    "GLOBEX-INITECH": await agree("GLOBEX-INITECH", carriers.GLOBEX, carriers.INITECH),
    "ACME-INITECH": await agree("ACME-INITECH", carriers.ACME, carriers.INITECH),
  };
  await openCommitWindow(provider, PERIOD);
  return {
    provider,
    deployment,
    addresses: {
      ledger: await deployment.ledger.getAddress(),
      registry: await registry.getAddress(),
      book: await book.getAddress(),
      deployBlock: deployment.deployBlock,
      chainId: deployment.chainId,
    },
    admin: w(0),
    arbiter,
    regulator,
    outsiders: [w(18), w(19)],
    carriers,
    agreements,
    tokens: { ICUSD: icusd, ICEUR: iceur },
  };
}

/** Figures one side reveals: micro-units A→B and B→A, and a root (any non-zero bytes32). */
export interface Figures {
  ab: bigint;
  ba: bigint;
  root?: string;
}

/**
 * Both nodes commit and reveal `figuresA` / `figuresB` for `period` (direct transactions from the node
 * accounts, no carrier node involved); the ledger evaluates on the second reveal. The commit window of
 * `period` must be open. Returns the roots and salts used.
 */
export async function commitAndReveal(
  c: Consortium,
  agreement: ConsortiumAgreement,
  figuresA: Figures,
  figuresB: Figures,
  period = PERIOD,
): Promise<{ rootA: string; rootB: string; saltA: string; saltB: string }> {
  const ledger = c.deployment.ledger;
  const sides = [
    { carrier: agreement.a, f: figuresA, salt: id(`salt-A-${agreement.name}-${period}`) },
    { carrier: agreement.b, f: figuresB, salt: id(`salt-B-${agreement.name}-${period}`) },
  ].map((s) => ({ ...s, root: s.f.root ?? id(`root-${s.carrier.name}-${s.f.ab}-${s.f.ba}`) }));
  // From Mismatched the first commit starts the next round: both commit for it.
  const round = commitRound(
    PERIOD_STATES[Number(await ledger.state(agreement.agreementId, period))]!,
    Number((await ledger.periodRecord(agreement.agreementId, period)).round),
  );
  for (const s of sides) {
    const salt = id(`${s.salt}-${round}`);
    const commitment = computeCommitment({
      chainId: c.addresses.chainId,
      ledger: c.addresses.ledger,
      agreementId: agreement.agreementId,
      period,
      round,
      party: s.carrier.id,
      root: s.root,
      amountAB: s.f.ab,
      amountBA: s.f.ba,
      salt,
    });
    const signer = await c.provider.getSigner(s.carrier.node.address);
    await (await ledger.connect(signer).commit(agreement.agreementId, period, commitment)).wait();
  }
  for (const s of sides) {
    const salt = id(`${s.salt}-${round}`);
    const signer = await c.provider.getSigner(s.carrier.node.address);
    await (
      await ledger.connect(signer).reveal(agreement.agreementId, period, s.root, s.f.ab, s.f.ba, salt)
    ).wait();
  }
  return {
    rootA: sides[0]!.root,
    rootB: sides[1]!.root,
    saltA: id(`${sides[0]!.salt}-${round}`),
    saltB: id(`${sides[1]!.salt}-${round}`),
  };
}

/** Mints `amount` of `token` to the carrier's treasury, which deposits it into the carrier's escrow. */
export async function fundEscrow(
  c: Consortium,
  carrier: ConsortiumCarrier,
  token: "ICUSD" | "ICEUR",
  amount: bigint,
): Promise<void> {
  const t = c.tokens[token];
  await (await t.mint(carrier.treasury.address, amount)).wait();
  const treasury = await c.provider.getSigner(carrier.treasury.address);
  await (await t.connect(treasury).approve(c.addresses.ledger, amount)).wait();
  await (
    await c.deployment.ledger.connect(treasury).deposit(carrier.id, await t.getAddress(), amount)
  ).wait();
}

/** Moves the chain clock forward by `seconds` and mines a block. */
export async function advance(provider: JsonRpcProvider, seconds: number): Promise<void> {
  await provider.send("evm_increaseTime", [seconds]);
  await provider.send("evm_mine", []);
}
