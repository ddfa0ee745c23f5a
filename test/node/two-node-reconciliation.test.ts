/**
 * Two carrier nodes, each with its own database, evidence store and gateway, a Hardhat JSON-RPC node
 * on 127.0.0.1 and real HTTP between them. Both derive their CDRs from one generated list of calls;
 * each period of the agreement gets one imperfection, and the nodes must reach the expected ledger
 * state and name exactly what differs.
 */
import { expect } from "chai";
import crypto from "node:crypto";
import { Wallet, encodeBytes32String, hexlify, type Signer } from "ethers";
import {
  CARRIER_A,
  PERIOD,
  hardhatWallet,
  scriptLedger,
  openCommitWindow,
  startHardhatNode,
  type HardhatNode,
  type ScriptedLedger,
} from "../helpers/hardhat";
import { loadReport, type ReportJson } from "../../node/src/db/reports";
import { stateIndex } from "../../node/src/protocol";
import { importDeck } from "../../node/src/db/tariffs";
import { deriveEvidenceKey, getEvidence } from "../../node/src/evidence/bundle";
import { loadTariffDeck } from "../../node/src/rating/tariff-deck";
import { callKey } from "../../node/src/reconciliation/call-key";
import { bodyHash, peerDomain, signPeerMessage } from "../../node/src/reconciliation/peer-auth";
import {
  PEER_SIGNATURE_HEADER,
  encodeSignatureHeader,
  peerPath,
} from "../../node/src/reconciliation/peer-wire";
import { PeerClient } from "../../node/src/reconciliation/peer-client";
import { chainPeerVerifier } from "../../node/src/reconciliation/peer-directory";
import { loadSummary } from "../../node/src/db/summaries";
import { MerkleTree } from "../../node/src/summaries/merkle-tree";
import { periodSalt } from "../../node/src/summaries/encoding";
import { databaseTargets } from "../helpers/databases";
import { cdrId, chooseLost, generateCalls, type Call } from "../../scripts/lib/traffic";
import {
  PAIR_DECK,
  closePairPeriod,
  settlePair,
  startPair,
  stopPair,
  type PairNode,
} from "../helpers/carrier-pair";

const DECK = PAIR_DECK;
const SECRET = Buffer.from("a7".repeat(32), "hex");
const CALLS = 3000;

const MATCHED = stateIndex("Matched");
const RECONCILED = stateIndex("Reconciled");
const MISMATCHED = stateIndex("Mismatched");
const DISPUTED = stateIndex("Disputed");

for (const target of databaseTargets()) {
  describe(`reconciliation: two nodes over HTTP on ${target.name}`, function () {
    this.timeout(300_000);
    let hardhat: HardhatNode;
    let fx: ScriptedLedger;
    let a: PairNode;
    let b: PairNode;

    before(async () => {
      hardhat = await startHardhatNode();
      // A 1% tolerance with a negligible absolute floor, so the percentage decides.
      fx = await scriptLedger(hardhat.provider, { toleranceAbs: 1_000n });
      ({ a, b } = await startPair({ target, hardhat, fx, secret: SECRET }));
    });
    after(async () => {
      await stopPair(a, b);
      await hardhat?.stop();
      await target.cleanup();
    });

    const closePeriod = (
      period: number,
      calls: readonly Call[],
      imperfections: { lostOnB?: Set<number>; skewOnBMs?: number } = {},
    ) => closePairPeriod({ hardhat, fx, secret: SECRET }, [a, b], period, calls, imperfections);
    const settle = () => settlePair(a, b);

    async function state(period: number): Promise<bigint> {
      return fx.deployment.ledger.connect(hardhat.provider).state(fx.agreementId, period);
    }

    /** The call keys of calls, computed here from the call list, independently of either node. */
    function keysOf(period: number, calls: readonly Call[]): string[] {
      const salt = hexlify(periodSalt(SECRET, fx.agreementId, period));
      const digits = (number: string) => number.replace(/^\+/, ""); // E.164 digits, as mediation stores them
      return calls
        .map((call) =>
          callKey(salt, { ...call, aNumber: digits(call.aNumber), bNumber: digits(call.bNumber) }),
        )
        .sort();
    }

    it("identical CDRs: one node reveals both (revealBoth) and the ledger finds them Matched with equal roots", async () => {
      const period = PERIOD;
      await closePeriod(period, generateCalls(period, CALLS, 1));
      const passes = await settle();
      // A's node, once both commitments were on the ledger, exchanged openings with B's and revealed both.
      expect(passes.a.flatMap((p) => p.revealed)).to.have.length(1);
      expect(passes.b.flatMap((p) => p.revealed)).to.have.length(0);
      const reveals = await fx.deployment.ledger
        .connect(hardhat.provider)
        .queryFilter(fx.deployment.ledger.filters.Revealed(fx.agreementId, period));
      expect(reveals.map((e) => e.transactionHash)).to.deep.equal([
        passes.a.flatMap((p) => p.revealed)[0]!.txHash,
        passes.a.flatMap((p) => p.revealed)[0]!.txHash,
      ]);
      expect(await state(period)).to.equal(MATCHED);
      const record = await fx.deployment.ledger
        .connect(hardhat.provider)
        .periodRecord(fx.agreementId, period);
      expect(record.hashA).to.equal(record.hashB);
      expect(
        [...passes.a, ...passes.b].flatMap((p) => p.compared),
        "nothing to compare",
      ).to.deep.equal([]);
    });

    it("0.3% of calls lost on one side: Reconciled within the 1% tolerance, and the report names the lost calls", async () => {
      const period = PERIOD + 1;
      const calls = generateCalls(period, CALLS, 2);
      const lost = chooseLost(calls, 0.003, 20);
      expect(lost.size).to.be.greaterThan(0);
      await closePeriod(period, calls, { lostOnB: lost });
      await settle();
      expect(await state(period)).to.equal(RECONCILED);
      const report = (await loadReport(a.db, fx.agreementId, period))!.report as ReportJson;
      expect(missingOnTheirSide(report)).to.deep.equal(
        keysOf(
          period,
          calls.filter((c) => lost.has(c.index)),
        ),
      );
    });

    it("5% lost: Mismatched, and both reports name exactly the lost CDRs — no more, no fewer", async () => {
      const period = PERIOD + 2;
      const calls = generateCalls(period, CALLS, 3);
      const lost = chooseLost(calls, 0.05, 30);
      await closePeriod(period, calls, { lostOnB: lost });
      const passes = await settle();
      expect(await state(period)).to.equal(MISMATCHED);

      const lostCalls = calls.filter((call) => lost.has(call.index));
      const reportA = (await loadReport(a.db, fx.agreementId, period))!;
      const fromA = reportA.report as ReportJson;
      expect(missingOnTheirSide(fromA)).to.deep.equal(keysOf(period, lostCalls));
      expect(Object.values(fromA.ourCdrs).sort(), "A's own CDR ids of the lost calls").to.deep.equal(
        lostCalls.map((call) => `icl:${cdrId("A", String(period), call)}`).sort(),
      );
      expect(fromA.leaves.flatMap((leaf) => leaf.missingOnOurSide)).to.deep.equal([]);
      expect(fromA.counts).to.include({ duration_difference: 0, rate_difference: 0 });
      const fromB = (await loadReport(b.db, fx.agreementId, period))!.report as ReportJson;
      expect(fromB.leaves.flatMap((leaf) => leaf.missingOnOurSide).sort()).to.deep.equal(
        keysOf(period, lostCalls),
      );

      // The diff asked for O(k log n) hashes in about log n round trips, not for every leaf.
      const compared = passes.a.flatMap((p) => p.compared)[0]!;
      expect(compared.stats.diff.roundTrips).to.be.below(40);
      expect(compared.stats.traffic.requests).to.be.below(compared.stats.diff.roundTrips + 5);

      // The evidence bundle holds the report and A's CDRs behind it, and opens with the agreement's key.
      expect(reportA.evidenceCid).to.match(/^bafkrei/);
      const bundle = (await getEvidence(
        a.evidence,
        reportA.evidenceCid!,
        deriveEvidenceKey(SECRET, fx.agreementId, period),
        {
          agreementId: fx.agreementId,
          period,
          purpose: "discrepancy-report",
        },
      )) as { cdrs: { cdrId: string }[]; report: ReportJson };
      expect(bundle.cdrs.map((cdr) => cdr.cdrId).sort()).to.deep.equal(
        lostCalls.map((call) => `icl:${cdrId("A", String(period), call)}`).sort(),
      );

      // The CID is what an officer puts on chain when opening the dispute (icl dispute open, issue 5).
      const officerA = await hardhat.provider.getSigner(1);
      const ledger = fx.deployment.ledger.connect(officerA);
      const receipt = await (
        await ledger.openDispute(fx.agreementId, period, CARRIER_A, 1, reportA.evidenceCid!)
      ).wait();
      const opened = receipt!.logs
        .map((log) => ledger.interface.parseLog(log))
        .find((log) => log?.name === "DisputeOpened");
      expect(opened?.args.evidenceCid).to.equal(reportA.evidenceCid);
      expect(await state(period)).to.equal(DISPUTED);
    });

    it("one side's clock an hour off: the report classifies the differences as a day-boundary shift", async () => {
      const period = PERIOD + 3;
      // An hour slow rather than fast: calls of the month's first hour fall into the previous,
      // already committed month instead of into the next one, which the next test uses.
      await closePeriod(period, generateCalls(period, CALLS, 4), { skewOnBMs: -3_600_000 });
      await settle();
      const report = (await loadReport(a.db, fx.agreementId, period))!.report as ReportJson;
      const shifted = report.leaves.filter((leaf) => leaf.kinds.includes("day_boundary_shift"));
      expect(report.leaves.length).to.be.greaterThan(10);
      expect(
        shifted.length / report.leaves.length,
        "most differing leaves are explained by the shift",
      ).to.be.greaterThan(0.6);
      expect(report.counts).to.include({ rate_difference: 0, duration_difference: 0 });
    });

    it("a differing rate on one destination: classified as a rate difference on exactly that destination", async () => {
      const period = PERIOD + 4;
      const calls = generateCalls(period, CALLS, 5);
      // B prices A→B calls to German fixed numbers at a higher rate than A does.
      const changed = DECK.replace("voice,49,Germany - Fixed,0.0047,", "voice,49,Germany - Fixed,0.0060,");
      expect(changed, "the deck has the row to change").to.not.equal(DECK);
      await importDeck(b.db, {
        partner: b.partner,
        direction: "in",
        name: "deck-2030-05.csv",
        currency: "USD",
        contentHash: crypto.createHash("sha256").update(changed).digest("hex"),
        rows: loadTariffDeck(changed, "deck-2030-05.csv"),
      });
      await closePeriod(period, calls);
      await settle();
      const report = (await loadReport(a.db, fx.agreementId, period))!.report as ReportJson;
      expect(report.leaves.length).to.be.greaterThan(0);
      for (const leaf of report.leaves) {
        expect(leaf.leaf).to.include({ direction: "AB", destination: "Germany - Fixed" });
        expect(leaf.kinds).to.deep.equal(["rate_difference"]);
        expect(leaf.delta.records).to.equal("0");
      }
      const german = calls.filter((call) => call.direction === "AB" && /^\+492/.test(call.bNumber));
      expect(report.leaves.flatMap((leaf) => leaf.rateDifferences)).to.have.length(german.length);
    });

    describe("peer requests over HTTP", () => {
      const period = PERIOD + 2; // revealed by both and Mismatched above
      const body = JSON.stringify({ paths: [""] });
      const url = () => b.gateway.url + peerPath(fx.agreementId, period, "tree");
      const send = (signature: string, text = body) =>
        fetch(url(), {
          method: "POST",
          headers: { "content-type": "application/json", [PEER_SIGNATURE_HEADER]: signature },
          body: text,
        });
      const sign = async (signer: Signer, text = body, agreementId = fx.agreementId) =>
        encodeSignatureHeader(
          await signPeerMessage(signer, peerDomain(31337n, fx.addresses.ledger), {
            agreementId,
            kind: "request",
            method: "POST",
            path: peerPath(agreementId, period, "tree"),
            bodyHash: bodyHash(text),
          }),
        );

      it("answers the counterparty, signed", async () => {
        const response = await send(await sign(fx.nodeA));
        expect(response.status).to.equal(200);
        expect(response.headers.get(PEER_SIGNATURE_HEADER)).to.be.a("string");
      });

      it("serves the leaves of a range, bounded, that hash into the tree the partner revealed", async () => {
        const client = new PeerClient({
          baseUrl: b.gateway.url,
          signer: fx.nodeA,
          domain: peerDomain(31337n, fx.addresses.ledger),
          verifier: chainPeerVerifier(a.chain, CARRIER_A),
        });
        const all = await client.leaves(fx.agreementId, period, "");
        expect(all.truncated).to.equal(false);
        const summaryB = (await loadSummary(b.db, fx.agreementId, period))!;
        expect(all.leaves).to.have.length(summaryB.leafCount);
        const rebuilt = MerkleTree.build(all.leaves, periodSalt(SECRET, fx.agreementId, period));
        expect(rebuilt.rootHex).to.equal(summaryB.root);
        const some = await client.leaves(fx.agreementId, period, "01", 3);
        expect(some.leaves).to.have.length(3);
        expect(some.truncated).to.equal(true);
        const refused = await client.leaves(fx.agreementId, period, "2").then(
          () => null,
          (error: Error) => error,
        );
        expect(refused?.message).to.contain("refused leaves with HTTP 400");
      });

      it("refuses a replayed request", async () => {
        const signature = await sign(fx.nodeA);
        expect((await send(signature)).status).to.equal(200);
        const replay = await send(signature);
        expect(replay.status).to.equal(401);
        expect(await replay.text()).to.contain("replay");
      });

      it("refuses a forged request: another body under the signature, or a key no carrier registered", async () => {
        const altered = await send(await sign(fx.nodeA), JSON.stringify({ paths: ["0"] }));
        expect(altered.status).to.equal(401);
        expect(await altered.text()).to.contain("mismatch");
        const stranger = await send(await sign(Wallet.createRandom()));
        expect(stranger.status).to.equal(401);
        expect(await stranger.text()).to.contain("unknown node");
        const unsigned = await fetch(url(), { method: "POST", body });
        expect(unsigned.status).to.equal(401);
      });

      it("refuses a registered carrier that is not party to the agreement", async () => {
        const nodeC = hardhatWallet(11, hardhat.provider);
        const someone = (i: number) => hardhatWallet(i, hardhat.provider).address;
        await (
          await fx.deployment.registry.registerCarrier(
            encodeBytes32String("CARRIER-C"),
            someone(12),
            [someone(13)],
            1,
            [nodeC.address],
          )
        ).wait();
        const response = await send(await sign(nodeC));
        expect(response.status).to.equal(403);
        expect(await response.text()).to.contain("not counterparty");
      });

      it("answers nothing about a period before both parties revealed", async () => {
        const early = PERIOD + 5;
        await openCommitWindow(hardhat.provider, early);
        const text = JSON.stringify({ paths: [""] });
        const signed = encodeSignatureHeader(
          await signPeerMessage(fx.nodeA, peerDomain(31337n, fx.addresses.ledger), {
            agreementId: fx.agreementId,
            kind: "request",
            method: "POST",
            path: peerPath(fx.agreementId, early, "tree"),
            bodyHash: bodyHash(text),
          }),
        );
        const response = await fetch(b.gateway.url + peerPath(fx.agreementId, early, "tree"), {
          method: "POST",
          headers: { [PEER_SIGNATURE_HEADER]: signed },
          body: text,
        });
        expect(response.status).to.equal(409);
        expect(await response.text()).to.contain("NOT_REVEALED");
      });
    });
  });
}

function missingOnTheirSide(report: ReportJson): string[] {
  return report.leaves.flatMap((leaf) => leaf.missingOnTheirSide).sort();
}
