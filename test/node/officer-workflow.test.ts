/**
 * Settlement officers at work through the CLI on a Hardhat JSON-RPC chain with two carrier nodes
 * (separate databases): the full cycle from CDR files to settled money; a dispute through proposal,
 * counter-proposal, escalation and ruling with the undisputed part settled first; the approvals
 * the node must refuse (figures other than the period's, an officer who was removed); and the
 * co-signed fast path, chosen by the nodes themselves once both have a peer URL.
 *
 * Some 60 CLI runs: it runs on one database (PostgreSQL when DATABASE_URL is set, else PGlite); the SQL it
 * adds (officer_approvals) is plain and the CLI's storage is proven on both by the other suites.
 */
import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { ZeroAddress, id, type JsonRpcProvider } from "ethers";
import {
  CARRIER_A,
  CARRIER_B,
  hardhatWallet,
  openCommitWindow,
  scriptLedger,
  startHardhatNode,
  type HardhatNode,
  type ScriptedLedger,
} from "../helpers/hardhat";
import {
  computeCommitment,
  APPROVAL_TYPES,
  OFFICER_UPDATE_TYPES,
  ledgerDomain,
  registryDomain,
} from "../../node/src/protocol";
import { interconnectDeck } from "../../scripts/lib/generate-cdrs";
import { openNode } from "../../node/src/node";
import { silentLogger } from "../../node/src/logger";
import { createChainClient } from "../../node/src/chain/client";
import { acceptSignature, prepareApproval } from "../../node/src/settlement/approvals";
import { loadPeriodContext } from "../../node/src/settlement/period-context";
import { requireAgreement } from "../../node/src/db/agreements";
import { primaryTarget, tempDir } from "../helpers/databases";
import { setUpCliNode, type CliChainNode } from "../helpers/chain-node";
import { icl, iclProcess } from "../helpers/cli";
import { freePort } from "../helpers/hardhat";
import { settledByFastPath } from "../../node/src/protocol";
import { generateCalls, writeSideCdrs } from "../../scripts/lib/traffic";

const SECRET_HEX = "c3".repeat(32);
const DECK = interconnectDeck();
const ICUSD = (units: number) => BigInt(Math.round(units * 1e6));

for (const target of [primaryTarget()]) {
  describe(`settlement officers through the CLI on ${target.name}`, function () {
    this.timeout(300_000);
    let chain: HardhatNode;
    let fx: ScriptedLedger;
    let provider: JsonRpcProvider;
    let a: CliChainNode;
    let b: CliChainNode;
    let work: string;
    const w = (i: number) => hardhatWallet(i, chain.provider);

    before(async () => {
      chain = await startHardhatNode();
      provider = chain.provider;
      fx = await scriptLedger(provider);
      work = tempDir("icl-officers-");
      fs.writeFileSync(path.join(work, "deck.csv"), DECK);
      const common = {
        target,
        rpcUrl: chain.url,
        chainId: fx.addresses.chainId,
        contracts: fx.addresses,
        token: { address: fx.deployment.tokenAddress, symbol: "ICUSD", decimals: 6 },
        deployer: fx.admin.address,
        deckFile: path.join(work, "deck.csv"),
      };
      a = await setUpCliNode({
        ...common,
        nodeWallet: fx.nodeA,
        partner: "CARRIER-B",
        agreement: { name: "A-B", id: fx.agreementId, side: "A", secretHex: SECRET_HEX },
      });
      b = await setUpCliNode({
        ...common,
        nodeWallet: fx.nodeB,
        partner: "CARRIER-A",
        agreement: { name: "A-B", id: fx.agreementId, side: "B", secretHex: SECRET_HEX },
      });
      // The token issuer mints to one officer per carrier (outside the node's job); the officers deposit
      // into their carrier's escrow through the node.
      const token = fx.deployment.demoToken!.connect(await provider.getSigner(0));
      for (const [node, officer] of [
        [a, 1],
        [b, 5],
      ] as const) {
        await (await token.mint(w(officer).address, ICUSD(10_000))).wait();
        const deposit = (await node.as(w(officer)))([
          "escrow",
          "deposit",
          "--token",
          "ICUSD",
          "--amount",
          "10000",
          "--yes",
          "--json",
        ]);
        expect(JSON.parse(deposit.stdout).escrow).to.equal("10000.000000");
      }
    });
    after(async () => {
      await chain?.stop();
      await target.cleanup();
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    const escrow = (carrier: string) =>
      fx.deployment.ledger.connect(provider).escrowOf(carrier, fx.deployment.tokenAddress);
    const state = async (period: number) =>
      Number(await fx.deployment.ledger.connect(provider).state(fx.agreementId, period));

    it("happy path from CLI commands alone: CDRs → summaries → commit → reveal → Matched → approvals → settled", async () => {
      const calls = generateCalls(203001, 200, 11);
      writeSideCdrs(path.join(work, "a-jan.csv"), calls, { side: "A", partner: "CARRIER-B", batch: "jan" });
      writeSideCdrs(path.join(work, "b-jan.csv"), calls, { side: "B", partner: "CARRIER-A", batch: "jan" });
      a.run(["ingest", "--format", "icl-csv", path.join(work, "a-jan.csv")]);
      b.run(["ingest", "--format", "icl-csv", path.join(work, "b-jan.csv")]);
      const closeA = JSON.parse(
        a.run(["period", "close", "--agreement", "A-B", "--period", "2030-01", "--json"]).stdout,
      );
      b.run(["period", "close", "--agreement", "A-B", "--period", "2030-01"]);
      a.run(["period", "reveal", "--agreement", "A-B", "--period", "2030-01"]);
      const reveal = b.run(["period", "reveal", "--agreement", "A-B", "--period", "2030-01"]);
      expect(reveal.stdout).to.contain("the period is now Matched");

      const listed = JSON.parse(a.run(["periods", "list", "--json"]).stdout);
      expect(listed.periods.map((p: { period: number; state: string }) => [p.period, p.state])).to.deep.equal(
        [[203001, "Matched"]],
      );
      const shown = a.run(["period", "show", "A-B", "2030-01"]).stdout;
      expect(shown).to.contain("A-B 2030-01 — Matched (round 0); this node is party A");
      expect(shown).to.match(
        new RegExp(
          `A owes B +${closeA.amountAB.replace(".", "\\.")} +${closeA.amountAB.replace(".", "\\.")}`,
        ),
      );

      // Without --yes and without a terminal nothing is signed.
      const officerA1 = await a.as(w(1));
      const unconfirmed = officerA1(["officer", "approve", "A-B", "2030-01"], 64);
      expect(unconfirmed.stderr).to.contain("nothing was signed");
      expect(unconfirmed.stderr).to.contain(`A (CARRIER-A) owes B (CARRIER-B)  ${closeA.amountAB} ICUSD`);

      const first = JSON.parse(officerA1(["officer", "approve", "A-B", "2030-01", "--yes", "--json"]).stdout);
      expect(first).to.deep.include({ status: "waiting", threshold: 2, state: "Matched" });
      expect(first.approval.amountAB).to.equal(ICUSD(Number(closeA.amountAB)).toString());
      const second = JSON.parse(
        (await a.as(w(2)))(["officer", "approve", "A-B", "2030-01", "--yes", "--json"]).stdout,
      );
      expect(second.status).to.equal("submitted");
      expect(second.approval.deadline).to.equal(first.approval.deadline);
      expect(second.signers).to.have.members([w(1).address, w(2).address]);
      await (
        await b.as(w(5))
      )(["officer", "approve", "A-B", "2030-01", "--yes"]);
      const last = (await b.as(w(8)))(["officer", "approve", "A-B", "2030-01", "--yes"]);
      expect(last.stdout).to.contain("A-B 2030-01 is now Approved");

      const [beforeA, beforeB] = [await escrow(CARRIER_A), await escrow(CARRIER_B)];
      const settled = JSON.parse(a.run(["settle", "A-B", "2030-01", "--yes", "--json"]).stdout);
      expect(settled.state).to.equal("Settled");
      const net = ICUSD(Number(closeA.amountAB)) - ICUSD(Number(closeA.amountBA));
      expect(await escrow(CARRIER_A)).to.equal(beforeA - net);
      expect(await escrow(CARRIER_B)).to.equal(beforeB + net);
      expect(JSON.parse(b.run(["period", "show", "A-B", "2030-01", "--json"]).stdout).state).to.equal(
        "Settled",
      );

      // With an FX table the settled figures also read in the reference currency, at the month's rate.
      fs.writeFileSync(
        path.join(a.dir, "fx.csv"),
        "date,currency,rate,source\n2030-01-20,ICUSD,0.92,ECB euro reference rate (USD)\n2030-02-03,ICUSD,0.5,later\n",
      );
      const configFile = path.join(a.dir, "config.json");
      const config = JSON.parse(fs.readFileSync(configFile, "utf8"));
      fs.writeFileSync(configFile, JSON.stringify({ ...config, fx: { reference: "EUR", table: "fx.csv" } }));
      const inEur = (micros: bigint) => (micros * 92n + 50n) / 100n;
      const reference = JSON.parse(a.run(["period", "show", "A-B", "2030-01", "--json"]).stdout).reference;
      expect(reference).to.deep.include({
        currency: "EUR",
        of: "final figures",
        amountAB: inEur(ICUSD(Number(closeA.amountAB))).toString(),
        amountBA: inEur(ICUSD(Number(closeA.amountBA))).toString(),
      });
      expect(a.run(["period", "show", "A-B", "2030-01"]).stdout).to.contain(
        "In EUR at 0.92 (2030-01-20, ECB euro reference rate (USD)), final figures: A owes B",
      );
    });

    /** Both nodes commit and reveal these figures for `period` straight from their node accounts. */
    async function revealDirect(period: number, ofA: [bigint, bigint], ofB: [bigint, bigint]): Promise<void> {
      await openCommitWindow(provider, period);
      const ledger = fx.deployment.ledger;
      const sides = [
        {
          carrier: CARRIER_A,
          node: fx.nodeA,
          f: ofA,
          root: id(`root-A-${period}`),
          salt: id(`salt-A-${period}`),
        },
        {
          carrier: CARRIER_B,
          node: fx.nodeB,
          f: ofB,
          root: id(`root-B-${period}`),
          salt: id(`salt-B-${period}`),
        },
      ];
      for (const s of sides) {
        const commitment = computeCommitment({
          chainId: fx.addresses.chainId,
          ledger: fx.addresses.ledger,
          agreementId: fx.agreementId,
          period,
          round: 0,
          party: s.carrier,
          root: s.root,
          amountAB: s.f[0],
          amountBA: s.f[1],
          salt: s.salt,
        });
        await (
          await ledger
            .connect(await provider.getSigner(s.node.address))
            .commit(fx.agreementId, period, commitment)
        ).wait();
      }
      for (const s of sides) {
        await (
          await ledger
            .connect(await provider.getSigner(s.node.address))
            .reveal(fx.agreementId, period, s.root, s.f[0], s.f[1], s.salt)
        ).wait();
      }
    }

    it("a dispute: open with evidence, partial settlement of the undisputed part, proposal, counter, escalation, ruling, final settlement", async () => {
      await revealDirect(203002, [ICUSD(100), ICUSD(10)], [ICUSD(80), ICUSD(10)]);
      expect(await state(203002)).to.equal(3); // Mismatched
      const [a1, a2, b5, b8] = [await a.as(w(1)), await a.as(w(2)), await b.as(w(5)), await b.as(w(8))];

      // Approving a Mismatched period is refused with the state named.
      const early = a1(["officer", "approve", "A-B", "2030-02", "--yes"], 1);
      expect(early.stderr).to.contain(
        "period A-B 2030-02 is Mismatched; approve needs Matched, Reconciled, Uncontested or Resolved",
      );

      fs.writeFileSync(path.join(work, "missing.csv"), "cdr_id,start\nA-x-1,2030-02-03T10:00:00Z\n");
      const opened = JSON.parse(
        b5([
          "dispute",
          "open",
          "A-B",
          "2030-02",
          "--reason",
          "missing_cdrs",
          "--evidence",
          path.join(work, "missing.csv"),
          "--yes",
          "--json",
        ]).stdout,
      );
      expect(opened).to.deep.include({ call: "openDispute", state: "Disputed" });
      expect(opened.evidenceCid).to.match(/^bafkrei[a-z2-7]{52}$/);
      const logs = await fx.deployment.ledger
        .connect(provider)
        .queryFilter(fx.deployment.ledger.filters.DisputeOpened(fx.agreementId, 203002));
      expect(logs.map((l) => [l.args.reasonCode, l.args.evidenceCid])).to.deep.equal([
        [1n, opened.evidenceCid],
      ]);

      // The undisputed part (per direction the smaller claim: 80 and 10) settles first.
      for (const officer of [a1, a2, b5, b8])
        officer(["officer", "approve", "A-B", "2030-02", "--partial", "--yes"]);
      const [beforeA, beforeB] = [await escrow(CARRIER_A), await escrow(CARRIER_B)];
      a.run(["settle", "A-B", "2030-02", "--yes"]);
      expect(await escrow(CARRIER_A)).to.equal(beforeA - ICUSD(70));
      expect(await escrow(CARRIER_B)).to.equal(beforeB + ICUSD(70));

      // Accepting one's own proposal, or countering without one, is refused before anything is signed.
      expect(
        a1(["dispute", "counter", "A-B", "2030-02", "--ab", "95", "--ba", "10", "--yes"], 1).stderr,
      ).to.contain("there is no proposal from CARRIER-B to counter");
      b5(["dispute", "propose", "A-B", "2030-02", "--ab", "90", "--ba", "10", "--yes"]);
      expect(b8(["dispute", "accept", "A-B", "2030-02", "--yes"], 1).stderr).to.contain(
        "there is no proposal from CARRIER-A to accept",
      );
      a1(["dispute", "counter", "A-B", "2030-02", "--ab", "85", "--ba", "10", "--yes"]);
      expect(b5(["dispute", "escalate", "A-B", "2030-02", "--yes"], 1).stderr).to.contain(
        "escalation is possible once the response window closes",
      );
      await provider.send("evm_increaseTime", [3 * 86_400 + 60]);
      await provider.send("evm_mine", []);
      const escalated = JSON.parse(b5(["dispute", "escalate", "A-B", "2030-02", "--yes", "--json"]).stdout);
      expect(escalated.state).to.equal("Escalated");

      fs.writeFileSync(path.join(work, "ruling.txt"), "A's CDRs for 2030-02-03 are credible; B's are not.\n");
      const arbiter = await a.as(w(9));
      // Outside the claims [80, 100] for A→B: refused before signing.
      expect(
        arbiter(["arbiter", "rule", fx.agreementId, "2030-02", "--ab", "101", "--ba", "10", "--yes"], 1)
          .stderr,
      ).to.contain("lies outside the claims [80.000000 ICUSD, 100.000000 ICUSD]");
      expect(
        (await a.as(w(1)))(["arbiter", "rule", "A-B", "2030-02", "--ab", "88", "--ba", "10", "--yes"], 1)
          .stderr,
      ).to.contain("is not the arbiter of A-B");
      const ruled = JSON.parse(
        arbiter([
          "arbiter",
          "rule",
          fx.agreementId,
          "2030-02",
          "--ab",
          "88",
          "--ba",
          "10",
          "--rationale",
          path.join(work, "ruling.txt"),
          "--yes",
          "--json",
        ]).stdout,
      );
      expect(ruled.state).to.equal("Resolved");

      for (const officer of [a1, a2, b5, b8]) officer(["officer", "approve", "A-B", "2030-02", "--yes"]);
      const shown = JSON.parse(a.run(["period", "show", "A-B", "2030-02", "--json"]).stdout);
      expect(shown.state).to.equal("Approved");
      expect(shown.final).to.deep.equal({ amountAB: ICUSD(88).toString(), amountBA: ICUSD(10).toString() });
      expect(shown.dispute).to.deep.include({ opener: "CARRIER-B", resolution: "Ruled" });
      a.run(["settle", "A-B", "2030-02", "--yes"]);
      // Net 78 in all: 70 moved by the partial settlement, the remaining 8 now.
      expect(await escrow(CARRIER_A)).to.equal(beforeA - ICUSD(78));
      expect(await escrow(CARRIER_B)).to.equal(beforeB + ICUSD(78));
      expect(await state(203002)).to.equal(13); // Settled
    });

    it("refuses a signature over other figures than the period holds, and signatures of a removed officer", async () => {
      await revealDirect(203003, [ICUSD(50), ICUSD(5)], [ICUSD(50), ICUSD(5)]);
      expect(await state(203003)).to.equal(9); // Reconciled: equal figures, different roots
      const node = await openNode(a.dir, silentLogger, { ...process.env, ...a.env });
      const client = await createChainClient({
        rpcUrl: chain.url,
        deployment: fx.addresses,
        db: node.db,
        logger: silentLogger,
      });
      try {
        const agreement = await requireAgreement(node.db, "A-B");
        const ctx = await loadPeriodContext(client, agreement, 203003);
        const { approval } = await prepareApproval(node.db, client, ctx, false);
        const other = { ...approval, amountAB: approval.amountAB - 1n };
        const signature = await w(1).signTypedData(
          ledgerDomain(fx.addresses.chainId, fx.addresses.ledger),
          APPROVAL_TYPES,
          other,
        );
        let refused: Error | null = null;
        await acceptSignature(node.db, client, ctx, other, signature).catch(
          (error: Error) => (refused = error),
        );
        expect(refused, "the node kept a signature over other figures").to.not.equal(null);
        expect(refused!.message).to.contain("covers other figures than A-B 2030-03 holds");
        const kept = await node.db.query("SELECT 1 FROM officer_approvals WHERE period = 203003");
        expect(kept.rows).to.have.length(0);
        // The ledger refuses it as well.
        const signature2 = await w(2).signTypedData(
          ledgerDomain(fx.addresses.chainId, fx.addresses.ledger),
          APPROVAL_TYPES,
          other,
        );
        let reverted = false;
        await fx.deployment.ledger
          .connect(await provider.getSigner(0))
          .approveWithSignatures(other, [signature, signature2])
          .catch(() => (reverted = true));
        expect(reverted).to.equal(true);
      } finally {
        client.close();
        await node.close();
      }

      // Officer 1 signs; then carrier A replaces officer 1 by account 18 (signed by officers 1 and 2).
      (await a.as(w(1)))(["officer", "approve", "A-B", "2030-03", "--yes"]);
      const registry = fx.deployment.registry.connect(provider);
      const update = {
        carrierId: CARRIER_A,
        add: [w(18).address],
        remove: [w(1).address],
        threshold: 2,
        treasury: ZeroAddress,
        nonce: await registry.officerNonce(CARRIER_A),
        deadline: BigInt((await provider.getBlock("latest"))!.timestamp + 3600),
      };
      const domain = registryDomain(fx.addresses.chainId, fx.addresses.registry);
      const sigs = [
        await w(1).signTypedData(domain, OFFICER_UPDATE_TYPES, update),
        await w(2).signTypedData(domain, OFFICER_UPDATE_TYPES, update),
      ];
      await (await registry.connect(await provider.getSigner(0)).updateOfficers(update, sigs)).wait();

      // The removed officer's stored signature no longer counts, and a new one is refused.
      const second = JSON.parse(
        (await a.as(w(2)))(["officer", "approve", "A-B", "2030-03", "--yes", "--json"]).stdout,
      );
      expect(second).to.deep.include({ status: "waiting", dropped: [w(1).address] });
      expect(second.signers).to.deep.equal([w(2).address]);
      const again = (await a.as(w(1)))(["officer", "approve", "A-B", "2030-03", "--yes"], 1);
      expect(again.stderr).to.contain(`${w(1).address} is not a current officer of CARRIER-A`);
      const third = JSON.parse(
        (await a.as(w(18)))(["officer", "approve", "A-B", "2030-03", "--yes", "--json"]).stdout,
      );
      expect(third.status).to.equal("submitted");
      expect(third.signers).to.have.members([w(2).address, w(18).address]);
      const progress = await fx.deployment.ledger
        .connect(provider)
        .approvalsOf(fx.agreementId, 203003, CARRIER_A, false);
      expect(progress.approved).to.equal(true);
    });

    it("refuses, before sending, a payer's approval its available escrow cannot cover; after a deposit it goes through", async () => {
      // A owes B 20 000, more than A's available escrow: A's approval would reserve it and revert.
      await revealDirect(203004, [ICUSD(20_000), 0n], [ICUSD(20_000), 0n]);
      const ledger = fx.deployment.ledger.connect(provider);
      const available = async () =>
        (await escrow(CARRIER_A)) - (await ledger.reservedOf(CARRIER_A, fx.deployment.tokenAddress));
      const before = await available();
      expect(before < ICUSD(20_000)).to.equal(true);
      // Carrier A's officers are now accounts 2 and 18 (the previous test replaced 1 by 18).
      const first = JSON.parse(
        (await a.as(w(2)))(["officer", "approve", "A-B", "2030-04", "--yes", "--json"]).stdout,
      );
      expect(first.status).to.equal("waiting");
      const nonce = await provider.getTransactionCount(fx.nodeA.address);
      const refused = (await a.as(w(18)))(["officer", "approve", "A-B", "2030-04", "--yes"], 65);
      expect(refused.stderr).to.contain(
        "CARRIER-A cannot approve A-B 2030-04 yet: as payer its approval reserves 20000.000000 ICUSD and its " +
          `available escrow is ${(Number(before) / 1e6).toFixed(6)} ICUSD`,
      );
      expect(refused.stderr).to.contain(
        `carrier CARRIER-A (${CARRIER_A.toLowerCase()}), token ICUSD (${fx.deployment.tokenAddress}), ` +
          `needed ${ICUSD(20_000)}, available ${before}`,
      );
      expect(refused.stderr).to.contain("Nothing was sent.");
      expect(await provider.getTransactionCount(fx.nodeA.address), "no transaction sent").to.equal(nonce);
      expect((await ledger.approvalsOf(fx.agreementId, 203004, CARRIER_A, false)).approved).to.equal(false);

      // A's treasury tops the escrow up; the signatures gathered are still there and the approval goes through.
      const token = fx.deployment.demoToken!.connect(await provider.getSigner(0));
      await (await token.mint(w(2).address, ICUSD(20_000))).wait();
      (await a.as(w(2)))(["escrow", "deposit", "--token", "ICUSD", "--amount", "20000", "--yes"]);
      // (A's approval of 2030-03 still holds its own reservation: B never approved that period.)
      const reservedBefore = await ledger.reservedOf(CARRIER_A, fx.deployment.tokenAddress);
      const submitted = JSON.parse(
        (await a.as(w(18)))(["officer", "approve", "A-B", "2030-04", "--yes", "--json"]).stdout,
      );
      expect(submitted.status).to.equal("submitted");
      expect(await ledger.reservedOf(CARRIER_A, fx.deployment.tokenAddress)).to.equal(
        reservedBefore + ICUSD(20_000),
      );
      expect((await ledger.reservationOf(fx.agreementId, 203004)).payer).to.equal(1n);
    });

    it("the co-signed fast path from CLI commands: close freezes, officers sign the Settlement, icl run settles it in one transaction", async () => {
      const period = 203005;
      await openCommitWindow(provider, period);
      const [portA, portB] = [await freePort(), await freePort()];
      a.run(["agreements", "set-peer", "A-B", "--url", `http://127.0.0.1:${portB}`]);
      b.run(["agreements", "set-peer", "A-B", "--url", `http://127.0.0.1:${portA}`]);
      const calls = generateCalls(period, 150, 21);
      writeSideCdrs(path.join(work, "a-may.csv"), calls, { side: "A", partner: "CARRIER-B", batch: "may" });
      writeSideCdrs(path.join(work, "b-may.csv"), calls, { side: "B", partner: "CARRIER-A", batch: "may" });
      a.run(["ingest", "--format", "icl-csv", path.join(work, "a-may.csv")]);
      b.run(["ingest", "--format", "icl-csv", path.join(work, "b-may.csv")]);
      const closeA = JSON.parse(
        a.run(["period", "close", "--agreement", "A-B", "--period", "2030-05", "--json"]).stdout,
      );
      expect(closeA).to.deep.include({ committed: null, awaitingFastPath: true });
      expect(b.run(["period", "close", "--agreement", "A-B", "--period", "2030-05"]).stdout).to.contain(
        "frozen, not committed: the running node tries the fast path",
      );

      const unconfirmed = (await a.as(w(2)))(["officer", "approve", "A-B", "2030-05"], 64);
      expect(unconfirmed.stderr).to.contain("the co-signed settlement of A-B 2030-05");
      expect(unconfirmed.stderr).to.contain(`A (CARRIER-A) owes B (CARRIER-B)  ${closeA.amountAB} ICUSD`);
      const signed = JSON.parse(
        (await a.as(w(2)))(["officer", "approve", "A-B", "2030-05", "--yes", "--json"]).stdout,
      );
      expect(signed).to.deep.include({ path: "fast", threshold: 2 });
      expect(signed.settlement.root).to.equal(closeA.root);
      expect((await a.as(w(18)))(["officer", "approve", "A-B", "2030-05", "--yes"]).stdout).to.contain(
        "Signed the co-signed settlement",
      );
      for (const officer of [5, 8])
        (await b.as(w(officer)))(["officer", "approve", "A-B", "2030-05", "--yes"]);

      // B runs as a service; A passes by hand and, holding both carriers' signatures, submits.
      const configB = path.join(b.dir, "config.json");
      fs.writeFileSync(
        configB,
        JSON.stringify({ ...JSON.parse(fs.readFileSync(configB, "utf8")), peer: { pollMs: 200 } }),
      );
      const nodeB = iclProcess(["run", "--listen", `127.0.0.1:${portB}`], b.env);
      let logB = "";
      nodeB.stderr.on("data", (chunk: Buffer) => (logB += chunk.toString()));
      const [beforeA, beforeB] = [await escrow(CARRIER_A), await escrow(CARRIER_B)];
      try {
        for (let i = 0; i < 100 && !logB.includes("icl node running"); i++)
          await new Promise((r) => setTimeout(r, 300));
        let out = "";
        for (let i = 0; i < 10 && !out.includes("submitted"); i++) {
          const pass = icl(["run", "--once", "--listen", `127.0.0.1:${portA}`], a.env);
          expect([0, 69], pass.stderr).to.include(pass.code);
          out += pass.stdout;
        }
        expect(out).to.match(
          /fast path A-B 2030-05: submitted, settled by the co-signed fast path \(transaction 0x/,
        );
      } finally {
        nodeB.kill("SIGTERM");
        await new Promise((resolve) => nodeB.once("exit", resolve));
      }
      expect(await state(period)).to.equal(13); // Settled
      const record = await fx.deployment.ledger.connect(provider).periodRecord(fx.agreementId, period);
      expect(settledByFastPath(record)).to.equal(true);
      const net = ICUSD(Number(closeA.amountAB)) - ICUSD(Number(closeA.amountBA));
      expect(await escrow(CARRIER_A)).to.equal(beforeA - net);
      expect(await escrow(CARRIER_B)).to.equal(beforeB + net);
      const shown = JSON.parse(b.run(["period", "show", "A-B", "2030-05", "--json"]).stdout);
      expect(shown.state).to.equal("Settled");
      expect(shown.final).to.deep.equal({
        amountAB: ICUSD(Number(closeA.amountAB)).toString(),
        amountBA: ICUSD(Number(closeA.amountBA)).toString(),
      });
    });
  });
}
