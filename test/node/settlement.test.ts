import { expect } from "chai";
import { encodeBytes32String, encryptKeystoreJson, id, type Wallet } from "ethers";
import fs from "node:fs";
import path from "node:path";
import { APPROVAL_TYPES, ledgerDomain } from "../../node/src/protocol";
import { stateIndex } from "../../node/src/protocol";
import {
  WINDOWS,
  commitAndReveal,
  fundEscrow,
  scriptConsortium,
  type Consortium,
  type ConsortiumAgreement,
} from "../../scripts/lib/consortium";
import { PERIOD, openCommitWindow, startHardhatNode, type HardhatNode } from "../helpers/hardhat";
import { skippedInBatch } from "../../node/src/settlement/settle-plan";
import { icl, acceptFutureCdrs } from "../helpers/cli";
import { primaryTarget } from "../helpers/databases";

const PASSWORD = "correct horse battery staple";
const OFFICER_PASSWORD = "officer's own password";
const FEB = 203002;
const M = 1_000_000n; // one token unit in micro-units (6 decimals)

/** Both carriers approve the period's final figures with 2-of-3 EIP-712 signatures, submitted by the admin. */
async function approveBoth(
  c: Consortium,
  agreement: ConsortiumAgreement,
  period = PERIOD,
  partialSettlement = false,
): Promise<void> {
  const ledger = c.deployment.ledger.connect(await c.provider.getSigner(0));
  const [amountAB, amountBA, rootA, rootB, round] = await ledger.approvalFigures(
    agreement.agreementId,
    period,
    partialSettlement,
  );
  const now = (await c.provider.getBlock("latest"))!.timestamp;
  for (const carrier of [agreement.a, agreement.b]) {
    const approval = {
      agreementId: agreement.agreementId,
      period,
      carrierId: carrier.id,
      round: Number(round),
      partialSettlement,
      amountAB,
      amountBA,
      rootA,
      rootB,
      deadline: BigInt(now + 30 * 86_400),
    };
    const domain = ledgerDomain(c.addresses.chainId, c.addresses.ledger);
    const signatures = await Promise.all(
      carrier.officers.slice(0, 2).map((o: Wallet) => o.signTypedData(domain, APPROVAL_TYPES, approval)),
    );
    await (await ledger.approveWithSignatures(approval, signatures)).wait();
  }
}

/** A fourth agreement, INITECH (A) – GLOBEX (B), settling in ICEUR from PERIOD. */
async function euroAgreement(c: Consortium): Promise<ConsortiumAgreement> {
  const { book } = c.deployment;
  const [a, b] = [c.carriers.INITECH, c.carriers.GLOBEX];
  const token = await c.tokens.ICEUR.getAddress();
  const terms = {
    carrierA: a.id,
    carrierB: b.id,
    token,
    toleranceBps: 100,
    rule: 0,
    effectiveFrom: PERIOD,
    arbiter: c.arbiter.address,
    toleranceAbs: 5_000_000n,
    windows: WINDOWS,
    termsHash: id("terms INITECH-GLOBEX EUR v1"),
  };
  const signer = (w: Wallet) => c.provider.getSigner(w.address);
  const receipt = await (
    await book
      .connect(await signer(a.officers[0]))
      .propose(encodeBytes32String(""), a.id, terms, "ipfs://eur")
  ).wait();
  const proposed = receipt!.logs
    .map((l) => book.interface.parseLog(l))
    .find((l) => l?.name === "AgreementProposed")!;
  const [agreementId, proposalId] = [proposed.args[0] as string, proposed.args[1] as string];
  await (await book.connect(await signer(a.officers[1])).approveProposal(proposalId, a.id)).wait();
  await (await book.connect(await signer(b.officers[0])).approveProposal(proposalId, b.id)).wait();
  await (await book.connect(await signer(b.officers[1])).approveProposal(proposalId, b.id)).wait();
  return { name: "GLOBEX-INITECH", agreementId, a, b, token };
}

// One database kind per run, as the officers' suite: PostgreSQL in CI (DATABASE_URL), PGlite in a plain
// `npm test`. Its SQL is the storage layer's, which the storage, ingest, CLI and crash suites prove on both.
for (const target of [primaryTarget()]) {
  describe(`settlement: icl settle and icl escrow on three carriers (${target.name})`, function () {
    this.timeout(120_000);
    let chain: HardhatNode;
    let c: Consortium;
    let eur: ConsortiumAgreement;
    let env: Record<string, string>;
    let dir: string;
    const escrow = async (carrier: "ACME" | "GLOBEX" | "INITECH", token: "ICUSD" | "ICEUR" = "ICUSD") =>
      c.deployment.ledger
        .connect(c.provider)
        .escrowOf(c.carriers[carrier].id, await c.tokens[token].getAddress());
    const state = (agreement: { agreementId: string }, period = PERIOD) =>
      c.deployment.ledger.connect(c.provider).state(agreement.agreementId, period);
    const nodeNonce = () => c.provider.getTransactionCount(c.carriers.ACME.node.address);
    const run = (args: string[], extra: Record<string, string> = {}) => icl(args, { ...env, ...extra });
    const json = (args: string[], extra: Record<string, string> = {}) => {
      const result = run([...args, "--json"], extra);
      expect(result.code, result.stderr).to.equal(0);
      return JSON.parse(result.stdout);
    };

    before(async () => {
      chain = await startHardhatNode();
      c = await scriptConsortium(chain.provider);
      eur = await euroAgreement(c);
      const { "ACME-GLOBEX": ag, "GLOBEX-INITECH": gi, "ACME-INITECH": ai } = c.agreements;
      // A cycle in ICUSD: ACME owes GLOBEX 100, GLOBEX owes INITECH 70, INITECH owes ACME 40.
      await commitAndReveal(c, ag, { ab: 120n * M, ba: 20n * M }, { ab: 120n * M, ba: 20n * M });
      await commitAndReveal(c, gi, { ab: 70n * M, ba: 0n }, { ab: 70n * M, ba: 0n });
      await commitAndReveal(c, ai, { ab: 10n * M, ba: 50n * M }, { ab: 10n * M, ba: 50n * M });
      // And in ICEUR: INITECH owes GLOBEX 25.
      await commitAndReveal(c, eur, { ab: 25n * M, ba: 0n }, { ab: 25n * M, ba: 0n });
      // Each payer's approval reserves what it owes, so the payers fund their escrow first.
      await fundEscrow(c, c.carriers.ACME, "ICUSD", 150n * M);
      await fundEscrow(c, c.carriers.GLOBEX, "ICUSD", 70n * M);
      await fundEscrow(c, c.carriers.INITECH, "ICUSD", 40n * M);
      await fundEscrow(c, c.carriers.INITECH, "ICEUR", 25n * M);
      for (const agreement of [ag, gi, ai, eur]) await approveBoth(c, agreement);

      // ACME's node: deployment, node key, chain settings, an FX table, and the agreement with GLOBEX.
      const cli = target.cliEnv();
      dir = cli.dataDir;
      env = {
        ...cli.env,
        ICL_KEY_PASSWORD: PASSWORD,
        ICL_OFFICER_KEY: path.join(dir, "officer.json"),
        ICL_OFFICER_PASSWORD: OFFICER_PASSWORD,
      };
      fs.writeFileSync(
        path.join(dir, "deployment.json"),
        JSON.stringify({
          network: "hardhat",
          chainId: 31337,
          deployBlock: c.addresses.deployBlock,
          deployer: c.admin.address,
          contracts: {
            CarrierRegistry: c.addresses.registry,
            AgreementBook: c.addresses.book,
            SettlementLedger: c.addresses.ledger,
          },
          token: { address: await c.tokens.ICUSD.getAddress(), symbol: "ICUSD", decimals: 6, demo: true },
        }),
      );
      const keystore = async (w: Wallet, password: string) =>
        encryptKeystoreJson({ address: w.address, privateKey: w.privateKey }, password, {
          scrypt: { N: 1 << 10 },
        });
      fs.writeFileSync(path.join(dir, "node-key.json"), await keystore(c.carriers.ACME.node, PASSWORD));
      fs.writeFileSync(
        path.join(dir, "officer.json"),
        await keystore(c.carriers.ACME.officers[0], OFFICER_PASSWORD),
      );
      fs.writeFileSync(
        path.join(dir, "fx.csv"),
        [
          "date,currency,rate,source",
          "2030-01-20,ICUSD,0.92,ECB euro foreign exchange reference rates (USD)",
          "2030-02-05,ICUSD,0.9,ECB euro foreign exchange reference rates (USD)",
          "2030-01-01,ICEUR,1,issuer: redeemable 1:1 for EUR",
        ].join("\n") + "\n",
      );
      expect(run(["init"]).code).to.equal(0);
      acceptFutureCdrs(dir);
      const configFile = path.join(dir, "config.json");
      const config = JSON.parse(fs.readFileSync(configFile, "utf8"));
      config.chain = { rpcUrl: chain.url, deployment: "deployment.json", keystore: "node-key.json" };
      config.fx = { reference: "EUR", table: "fx.csv" };
      fs.writeFileSync(configFile, JSON.stringify(config));
      expect(run(["partners", "add", "GLOBEX"]).code).to.equal(0);
      fs.writeFileSync(path.join(dir, "secret.hex"), "5e".repeat(32));
      const add = run([
        "agreements",
        "add",
        "ACME-GLOBEX",
        "--id",
        ag.agreementId,
        "--partner",
        "GLOBEX",
        "--side",
        "A",
        "--secret-file",
        path.join(dir, "secret.hex"),
      ]);
      expect(add.code, add.stderr).to.equal(0);
    });
    after(async () => {
      await chain?.stop();
      await target.cleanup();
    });

    it("dry run: plans each token apart; three periods among three carriers net into fewer transfers", async () => {
      const nonce = await nodeNonce();
      const out = json(["settle", "--netting", "--dry-run"]);
      expect(out).to.deep.include({ dryRun: true, sent: false });
      expect(out.plans.map((p: { token: string }) => p.token)).to.deep.equal(["ICUSD", "ICEUR"]);
      const [usd, euro] = out.plans;
      expect(usd.periods).to.have.length(3);
      // Other carriers' periods are part of the batch: GLOBEX-INITECH is shown by its id.
      expect(usd.periods.map((p: { agreement: string }) => p.agreement)).to.include("ACME-GLOBEX");
      expect(usd.periods.map((p: { agreementId: string }) => p.agreementId)).to.include(
        c.agreements["GLOBEX-INITECH"].agreementId.toLowerCase(),
      );
      expect(usd).to.deep.include({
        gross: "210.000000",
        grossReference: "193.200000", // 210 × 0.92 (the rate of 2030-01-20, the latest on or before 2030-01-31)
        referenceCurrency: "EUR",
        bilateralTransfers: 3,
        transfersSaved: 1,
        netted: "60.000000",
      });
      expect(usd.nettedTransfers).to.have.length(2);
      const position = (plan: { positions: { carrier: string }[] }, carrier: string) =>
        plan.positions.find((p) => p.carrier === carrier);
      // ACME's approval of ACME-GLOBEX reserved the 100 it owes there; its net over the batch is 60.
      expect(position(usd, "ACME")).to.deep.include({
        net: "-60.000000",
        escrow: "150.000000",
        reserved: "100.000000",
        escrowAfter: "90.000000",
        netReference: "-55.200000",
      });
      expect(position(usd, "GLOBEX")).to.deep.include({ net: "30.000000", reserved: "70.000000" });
      expect(position(usd, "INITECH")).to.deep.include({ net: "30.000000", reserved: "40.000000" });
      // Every Approved period holds its payer's reservation: nothing to top up.
      expect(usd.topUps).to.deep.equal([]);
      // ICEUR is not offset against ICUSD: INITECH owes GLOBEX 25 there whatever happens in ICUSD.
      expect(position(euro, "INITECH")).to.deep.include({ net: "-25.000000", reserved: "25.000000" });
      expect(position(euro, "GLOBEX")).to.deep.include({ net: "25.000000" });
      expect(euro.topUps).to.deep.equal([]);

      const text = run(["settle", "--netting", "--token", "ICUSD", "--dry-run"]);
      expect(text.code, text.stderr).to.equal(0);
      expect(text.stdout).to.contain("Gross obligations: 210.000000 ICUSD (193.200000 EUR)");
      expect(text.stdout).to.contain("Transfers: bilateral 3, netted 2; transfers saved: 1");
      expect(text.stdout).to.contain(
        "Escrow: every payer's reservations and available escrow cover its net debit.",
      );
      expect(text.stdout).to.match(/ACME +-60\.000000 +150\.000000 +100\.000000 +90\.000000/);
      expect(text.stdout).to.not.contain("ICEUR");
      expect(await nodeNonce()).to.equal(nonce);
    });

    it("escrow balance, deposit (permit) and withdraw round trip from an officer's own key", async () => {
      const officer = c.carriers.ACME.officers[0].address;
      await (await c.tokens.ICUSD.mint(officer, 20n * M)).wait();
      // Read-only: no node key password is needed (the carrier comes from the keystore's address).
      const before = json(["escrow", "balance"], { ICL_KEY_PASSWORD: "" });
      expect(before).to.deep.include({ carrier: "ACME", carrierId: c.carriers.ACME.id.toLowerCase() });
      expect(before.balances).to.deep.equal([
        {
          token: "ICUSD",
          tokenAddress: await c.tokens.ICUSD.getAddress(),
          escrow: "150.000000",
          reserved: "100.000000",
          available: "50.000000",
          pendingPeriods: 2,
          pendingNet: "-60.000000",
          afterSettlement: "90.000000",
          topUp: "0.000000",
        },
        {
          token: "ICEUR",
          tokenAddress: await c.tokens.ICEUR.getAddress(),
          escrow: "0.000000",
          reserved: "0.000000",
          available: "0.000000",
          pendingPeriods: 0,
          pendingNet: "0.000000",
          afterSettlement: "0.000000",
          topUp: "0.000000",
        },
      ]);

      const deposit = json(["escrow", "deposit", "--token", "icusd", "--amount", "12.5", "--yes"]);
      expect(deposit).to.deep.include({
        carrier: "ACME",
        amount: "12.500000",
        method: "depositWithPermit",
        escrow: "162.500000",
      });
      expect(deposit.transactions).to.have.length(1);
      expect(await escrow("ACME")).to.equal(162_500_000n);
      expect(await c.tokens.ICUSD.balanceOf(officer)).to.equal(7_500_000n);

      const treasury = c.carriers.ACME.treasury.address;
      const treasuryBefore = await c.tokens.ICUSD.balanceOf(treasury);
      const withdraw = json(["escrow", "withdraw", "--token", "ICUSD", "--amount", "2.5", "--yes"]);
      expect(withdraw).to.deep.include({ treasury, amount: "2.500000", escrow: "160.000000" });
      expect(await c.tokens.ICUSD.balanceOf(treasury)).to.equal(treasuryBefore + 2_500_000n);

      // What ACME's approval reserved for ACME-GLOBEX stays: only the available 60 can leave.
      const officerNonce = await c.provider.getTransactionCount(officer);
      const tooMuch = run(["escrow", "withdraw", "--token", "ICUSD", "--amount", "60.000001", "--yes"]);
      expect(tooMuch.code).to.equal(1);
      expect(tooMuch.stderr).to.contain(
        "ACME has 60.000000 ICUSD available in escrow, less than the 60.000001 ICUSD to withdraw",
      );
      expect(tooMuch.stderr).to.contain("of which 100.000000 ICUSD is reserved for approved settlements");
      expect(await c.provider.getTransactionCount(officer)).to.equal(officerNonce);

      const tooPrecise = run(["escrow", "deposit", "--token", "ICUSD", "--amount", "1.0000001", "--yes"]);
      expect(tooPrecise.code).to.equal(65);
      expect(tooPrecise.stderr).to.contain(
        "'1.0000001' is not a positive amount of ICUSD with at most 6 decimals",
      );
    });

    it("settleBatch moves exactly each carrier's net position and the three periods end Settled", async () => {
      const carriers = ["ACME", "GLOBEX", "INITECH"] as const;
      const before = await Promise.all(carriers.map((name) => escrow(name)));
      const out = json(["settle", "--netting", "--token", "ICUSD", "--yes"]);
      expect(out.sent).to.equal(true);
      expect(out.plans).to.have.length(1);
      expect(out.plans[0].transaction.txHash).to.match(/^0x[0-9a-f]{64}$/);
      const after = await Promise.all(carriers.map((name) => escrow(name)));
      expect(after.map((value, i) => value - before[i]!)).to.deep.equal([-60n * M, 30n * M, 30n * M]);
      expect(out.plans[0].escrowAfter).to.deep.equal({
        ACME: "100.000000",
        GLOBEX: "100.000000",
        INITECH: "70.000000",
      });
      expect(out.plans[0].skipped).to.deep.equal([]);
      for (const name of ["ACME-GLOBEX", "GLOBEX-INITECH", "ACME-INITECH"] as const) {
        expect(await state(c.agreements[name])).to.equal(stateIndex("Settled"));
      }
      // The batch spent the reservations it settled.
      for (const name of carriers) {
        expect(
          await c.deployment.ledger
            .connect(c.provider)
            .reservedOf(c.carriers[name].id, await c.tokens.ICUSD.getAddress()),
        ).to.equal(0n);
      }
      expect(await state(eur)).to.equal(stateIndex("Approved"));
      expect(json(["settle", "--netting", "--token", "ICUSD"]).plans).to.deep.equal([]);
    });

    it("reads the periods a batch skipped: settled before it ran, they are left out and named", async () => {
      const keys = (["ACME-GLOBEX", "GLOBEX-INITECH", "ACME-INITECH"] as const).map((name) => ({
        agreementId: c.agreements[name].agreementId,
        period: PERIOD,
      }));
      const ledger = c.deployment.ledger.connect(await c.provider.getSigner(0));
      const sent = await (await ledger.settleBatch(await c.tokens.ICUSD.getAddress(), keys)).wait();
      const skipped = await skippedInBatch(
        { provider: c.provider, ledger: c.deployment.ledger, deployment: { ledger: c.addresses.ledger } },
        sent!.hash,
      );
      expect(skipped).to.deep.equal(
        keys.map((k) => ({ agreementId: k.agreementId.toLowerCase(), period: PERIOD, state: "Settled" })),
      );
    });

    it("nets the second token in its own batch, from its payer's reservation", async () => {
      const usdBefore = await Promise.all((["ACME", "GLOBEX", "INITECH"] as const).map((n) => escrow(n)));
      const out = json(["settle", "--netting", "--token", "ICEUR", "--yes"]);
      expect(out.plans.map((p: { token: string }) => p.token)).to.deep.equal(["ICEUR"]);
      expect(out.plans[0].periods).to.have.length(1);
      expect(await escrow("INITECH", "ICEUR")).to.equal(0n);
      expect(await escrow("GLOBEX", "ICEUR")).to.equal(25n * M);
      expect(await Promise.all((["ACME", "GLOBEX", "INITECH"] as const).map((n) => escrow(n)))).to.deep.equal(
        usdBefore,
      );
      expect(await state(eur)).to.equal(stateIndex("Settled"));
    });

    it("icl settle AGREEMENT PERIOD settles one period, and names the state it refuses", async () => {
      await openCommitWindow(c.provider, FEB);
      const { "ACME-GLOBEX": ag, "ACME-INITECH": ai } = c.agreements;
      await commitAndReveal(c, ag, { ab: 100n * M, ba: 0n }, { ab: 300n * M, ba: 0n }, FEB);
      await commitAndReveal(c, ai, { ab: 5n * M, ba: 0n }, { ab: 5n * M, ba: 0n }, FEB);
      await fundEscrow(c, c.carriers.ACME, "ICUSD", 5n * M);
      await approveBoth(c, ai, FEB);

      const mismatched = run(["settle", "ACME-GLOBEX", "2030-02", "--yes"]);
      expect(mismatched.code).to.equal(1);
      expect(mismatched.stderr).to.contain(
        "period ACME-GLOBEX 2030-02 is Mismatched; settle needs Approved, or Uncontested or Resolved past its approval deadline",
      );
      const settled = run(["settle", "ACME-GLOBEX", "2030-01", "--yes"]);
      expect(settled.code).to.equal(1);
      expect(settled.stderr).to.contain(
        "period ACME-GLOBEX 2030-01 is Settled; settle needs Approved, or Uncontested or Resolved past its approval deadline",
      );

      // ACME-INITECH is not in this node's agreements: named by its id.
      const plan = json(["settle", ai.agreementId, "2030-02", "--dry-run"]);
      expect(plan).to.deep.include({ kind: "settle", state: "Approved", sent: false });
      expect(plan.plan.periods[0]).to.deep.include({ payer: "ACME", payee: "INITECH", amount: "5.000000" });
      expect(plan.plan.periods[0].reference.amount).to.equal("4.500000"); // February's rate 0.9
      const before = [await escrow("ACME"), await escrow("INITECH")];
      const out = json(["settle", ai.agreementId, "2030-02", "--yes"]);
      expect(out).to.deep.include({ sent: true, state: "Settled" });
      expect([await escrow("ACME"), await escrow("INITECH")]).to.deep.equal([
        before[0]! - 5n * M,
        before[1]! + 5n * M,
      ]);
    });

    it("settles the undisputed part of a disputed period once both carriers approved it", async () => {
      const ag = c.agreements["ACME-GLOBEX"];
      const officer = await c.provider.getSigner(c.carriers.ACME.officers[0].address);
      await (
        await c.deployment.ledger
          .connect(officer)
          .openDispute(ag.agreementId, FEB, c.carriers.ACME.id, 1, "cid")
      ).wait();
      const early = run(["settle", "ACME-GLOBEX", "2030-02", "--yes"]);
      expect(early.code).to.equal(1);
      expect(early.stderr).to.contain(
        "period ACME-GLOBEX 2030-02 is Disputed; settle needs Approved, or both carriers' approval of the " +
          "undisputed part (A not yet, B not yet)",
      );
      // Claims A→B: ACME 100, GLOBEX 300; the undisputed part is 100, reserved at ACME's approval.
      await fundEscrow(c, c.carriers.ACME, "ICUSD", 100n * M);
      await approveBoth(c, ag, FEB, true);
      const before = [await escrow("ACME"), await escrow("GLOBEX")];
      const out = json(["settle", "ACME-GLOBEX", "2030-02", "--yes"]);
      expect(out).to.deep.include({ kind: "settlePartial", sent: true, state: "Disputed" });
      expect(out.plan.periods[0]).to.deep.include({ payer: "ACME", payee: "GLOBEX", amount: "100.000000" });
      expect([await escrow("ACME"), await escrow("GLOBEX")]).to.deep.equal([
        before[0]! - 100n * M,
        before[1]! + 100n * M,
      ]);
    });
  });
}
