/**
 * Dispute evidence for everyone who should see it, between two real nodes (their databases, stores,
 * runners and gateways on 127.0.0.1, the peer protocol between them, a Hardhat chain):
 *
 * - A's officer seals CDRs and opens a dispute citing them; B's node, which never held the bundle,
 *   fetches it from A's node, checks it against the CID, keeps it and opens it with the agreement's key;
 * - A's node hands over only CIDs the ledger names for the period; bytes that are not the CID's and a
 *   partner that does not answer are refused in words;
 * - once the dispute is escalated, the bundle re-sealed to the arbiter's key opens with that key alone;
 * - the arbiter's rationale typed as text is stored by B's node, its CID goes on chain with the ruling,
 *   and A's node reads the text, fetched from B's.
 */
import { expect } from "chai";
import type { JsonRpcSigner } from "ethers";
import { parseConfig } from "../../node/src/config/config";
import { openForArbiter } from "../../node/src/evidence/arbiter-seal";
import { deriveEvidenceKey, putEvidence } from "../../node/src/evidence/bundle";
import { EvidenceIntegrityError } from "../../node/src/evidence/cid";
import { createLocalEvidenceStore } from "../../node/src/evidence/local-store";
import { BaseError, ConflictError, InputError, NotFoundError, UnavailableError } from "../../node/src/errors";
import { silentLogger } from "../../node/src/logger";
import { createNode, type CarrierNode } from "../../node/src/node";
import { stateIndex } from "../../node/src/protocol";
import { fetchPartnerEvidence } from "../../node/src/reconciliation/evidence-exchange";
import { peerDomain } from "../../node/src/reconciliation/peer-auth";
import { PeerClient, PeerRefusedError } from "../../node/src/reconciliation/peer-client";
import { chainPeerVerifier } from "../../node/src/reconciliation/peer-directory";
import { requireAgreement } from "../../node/src/db/agreements";
import { cdrId, chooseLost, generateCalls } from "../../scripts/lib/traffic";
import {
  closePairPeriod,
  settlePair,
  startPair,
  stopPair,
  type PairNode,
  type PairSetup,
} from "../helpers/carrier-pair";
import { primaryTarget } from "../helpers/databases";
import {
  CARRIER_A,
  CARRIER_B,
  freePort,
  hardhatWallet,
  PERIOD,
  scriptLedger,
  startHardhatNode,
  type HardhatNode,
  type ScriptedLedger,
} from "../helpers/hardhat";

const target = primaryTarget();
const SECRET = Buffer.from("c9".repeat(32), "hex");

/** The node façade over a pair node's parts, as the gateway uses it. */
function facade(node: PairNode): CarrierNode {
  return createNode({
    config: { dataDir: node.dir, config: parseConfig({}, "config.json"), databaseUrl: undefined },
    db: node.db,
    chain: node.chain,
    evidence: node.evidence,
    logger: silentLogger,
  });
}

/** Rejects with what `promise` throws (fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<BaseError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(BaseError);
    return error as BaseError;
  }
  expect.fail("expected a failure");
}

describe(`dispute evidence between two nodes, for the arbiter and as a ruling's rationale (${target.name})`, function () {
  this.timeout(300_000);
  let hardhat: HardhatNode;
  let fx: ScriptedLedger;
  let setup: PairSetup;
  let a: PairNode;
  let b: PairNode;
  let nodeA: CarrierNode;
  let nodeB: CarrierNode;
  let cid: string;
  let csv: string;
  const signer = (i: number): Promise<JsonRpcSigner> => hardhat.provider.getSigner(i);

  before(async () => {
    hardhat = await startHardhatNode();
    fx = await scriptLedger(hardhat.provider, { toleranceAbs: 1_000n });
    setup = { target, hardhat, fx, secret: SECRET };
    ({ a, b } = await startPair(setup));
    const calls = generateCalls(PERIOD, 300, 11);
    const lost = chooseLost(calls, 0.05, 3);
    await closePairPeriod(setup, [a, b], PERIOD, calls, { lostOnB: lost });
    await settlePair(a, b);
    const ledger = fx.deployment.ledger.connect(hardhat.provider);
    expect(await ledger.state(fx.agreementId, PERIOD)).to.equal(stateIndex("Mismatched"));
    nodeA = facade(a);
    nodeB = facade(b);

    // A's officer seals the calls B lost and opens the dispute citing them.
    const lostIds = calls.filter((c) => lost.has(c.index)).map((c) => `icl:${cdrId("A", String(PERIOD), c)}`);
    csv = `cdr_id\n${lostIds.join("\n")}\n`;
    ({ cid } = await nodeA.disputes.sealEvidence("A-B", PERIOD, "lost.csv", Buffer.from(csv)));
    await (
      await fx.deployment.ledger
        .connect(await signer(1))
        .openDispute(fx.agreementId, PERIOD, CARRIER_A, 1, cid)
    ).wait();
  });
  after(async () => {
    await stopPair(a, b);
    await hardhat?.stop();
    await target.cleanup();
  });

  it("the counterparty's node fetches the bundle the opener cited from the opener's node, checks it, keeps it and opens it", async () => {
    expect(await b.evidence.has(cid), "B never held it").to.equal(false);
    // Without the partner's node to ask, B's node says so in words.
    const alone = await failure(nodeB.evidenceLookup.open(b.chain, "A-B", PERIOD, cid));
    expect(alone).to.be.instanceOf(NotFoundError);
    expect(alone.shortMessage).to.contain("cannot ask the partner's node");

    const opened = await nodeB.evidenceLookup.open(b.chain, "A-B", PERIOD, cid, b.runner.partnerEvidence);
    expect(opened).to.deep.include({ agreement: "A-B", period: PERIOD, cid, purpose: "dispute-evidence" });
    expect(opened.source).to.equal("partner");
    const files = (opened.content as { files: { name: string; base64: string }[] }).files;
    expect(files.map((f) => f.name)).to.deep.equal(["lost.csv"]);
    expect(Buffer.from(files[0]!.base64, "base64").toString("utf8")).to.equal(csv);

    // Kept under the same CID: the next look is local, and needs no partner.
    expect(await b.evidence.has(cid)).to.equal(true);
    const again = await nodeB.evidenceLookup.open(b.chain, "A-B", PERIOD, cid);
    expect(again.source).to.equal("local");
    expect(again.content).to.deep.equal(opened.content);
  });

  it("the opener's node hands over only CIDs the ledger names for the period", async () => {
    // A bundle A holds, sealed for the period, but cited by no step on the ledger.
    const agreement = await requireAgreement(a.db, "A-B");
    const unnamed = await putEvidence(
      a.evidence,
      { files: [{ name: "private.csv", base64: Buffer.from("not for B").toString("base64") }] },
      deriveEvidenceKey(SECRET, agreement.agreementId, PERIOD),
      { agreementId: agreement.agreementId, period: PERIOD, purpose: "dispute-evidence" },
    );
    const fromB = new PeerClient({
      baseUrl: a.gateway.url,
      signer: fx.nodeB,
      domain: peerDomain(31337n, fx.addresses.ledger),
      verifier: chainPeerVerifier(b.chain, CARRIER_B),
    });
    const refused = await failure(fromB.evidence(fx.agreementId, PERIOD, unnamed));
    expect(refused).to.be.instanceOf(PeerRefusedError);
    expect((refused as PeerRefusedError).status).to.equal(409);
    expect((refused as PeerRefusedError).peerCode).to.equal("NOT_NAMED");
    // Named, but for another period: refused too.
    const otherPeriod = await failure(fromB.evidence(fx.agreementId, PERIOD + 1, cid));
    expect((otherPeriod as PeerRefusedError).peerCode).to.equal("NOT_NAMED");
    // B's own lookup refuses before it asks anyone.
    const lookedUp = await failure(
      nodeB.evidenceLookup.open(b.chain, "A-B", PERIOD, unnamed, b.runner.partnerEvidence),
    );
    expect(lookedUp).to.be.instanceOf(NotFoundError);
    expect(lookedUp.shortMessage).to.equal(`evidence ${unnamed} is not named on the ledger for A-B 2030-01`);
    expect(await b.evidence.has(unnamed)).to.equal(false);
  });

  it("bytes that are not the CID's are refused and not kept; a partner that does not answer is said so", async () => {
    const genuine = await a.evidence.get(cid);
    const tampered = Uint8Array.from(genuine);
    tampered[tampered.length - 1] = genuine[genuine.length - 1]! ^ 0x01;
    const fake = { evidence: async () => tampered } as unknown as PeerClient;
    const integrity = await failure(fetchPartnerEvidence(fake, b.evidence, fx.agreementId, PERIOD, cid));
    expect(integrity).to.be.instanceOf(EvidenceIntegrityError);

    // Through the lookup, on B's database with an empty store: a node that never fetched the bundle.
    const fresh = createNode({
      config: { dataDir: `${b.dir}/fresh`, config: parseConfig({}, "config.json"), databaseUrl: undefined },
      db: b.db,
      chain: b.chain,
      evidence: createLocalEvidenceStore(`${b.dir}/fresh`, silentLogger),
      logger: silentLogger,
    });
    const lied = await failure(
      fresh.evidenceLookup.open(b.chain, "A-B", PERIOD, cid, (agreementId, period, asked) =>
        fetchPartnerEvidence(fake, fresh.evidence, agreementId, period, asked),
      ),
    );
    expect(lied).to.be.instanceOf(ConflictError);
    expect(lied.shortMessage).to.equal(
      `the partner's node sent bytes that are not evidence ${cid} of A-B 2030-01; nothing was kept`,
    );
    expect(await fresh.evidence.has(cid)).to.equal(false);

    const nobody = new PeerClient({
      baseUrl: `http://127.0.0.1:${await freePort()}`,
      signer: fx.nodeB,
      domain: peerDomain(31337n, fx.addresses.ledger),
      verifier: chainPeerVerifier(b.chain, CARRIER_B),
      timeoutMs: 2_000,
    });
    const unreachable = await failure(
      fresh.evidenceLookup.open(b.chain, "A-B", PERIOD, cid, (agreementId, period, asked) =>
        fetchPartnerEvidence(nobody, fresh.evidence, agreementId, period, asked),
      ),
    );
    expect(unreachable).to.be.instanceOf(UnavailableError);
    expect(unreachable.shortMessage).to.equal(
      `the partner's node, which holds evidence ${cid} of A-B 2030-01, did not answer; try again later`,
    );
  });

  it("once escalated, the bundle re-sealed to the arbiter's key opens with that key alone", async () => {
    const arbiter = hardhatWallet(9, hardhat.provider);
    const asArbiter = { address: arbiter.address, publicKey: arbiter.signingKey.publicKey };
    const early = await failure(nodeA.evidenceLookup.arbiterCopy(a.chain, "A-B", PERIOD, cid, asArbiter));
    expect(early).to.be.instanceOf(ConflictError);
    expect(early.shortMessage).to.contain("is not escalated");

    // The response window passes without an answer; A's officer escalates.
    await hardhat.provider.send("evm_increaseTime", [3 * 86_400 + 60]);
    await hardhat.provider.send("evm_mine", []);
    await (
      await fx.deployment.ledger.connect(await signer(2)).escalate(fx.agreementId, PERIOD, CARRIER_A)
    ).wait();

    const copy = await nodeA.evidenceLookup.arbiterCopy(a.chain, "A-B", PERIOD, cid, asArbiter);
    expect(copy).to.deep.include({ agreement: "A-B", period: PERIOD, cid, purpose: "dispute-evidence" });
    expect(await a.evidence.has(copy.arbiterCid), "kept in the serving node's store").to.equal(true);
    const sealed = Buffer.from(copy.sealed, "base64");
    expect(Buffer.from(await a.evidence.get(copy.arbiterCid)).equals(sealed)).to.equal(true);
    const opened = openForArbiter(sealed, arbiter.privateKey) as {
      cid: string;
      content: { files: { base64: string }[] };
    };
    expect(opened.cid).to.equal(cid);
    expect(Buffer.from(opened.content.files[0]!.base64, "base64").toString("utf8")).to.equal(csv);
    expect(() => openForArbiter(sealed, hardhatWallet(1, hardhat.provider).privateKey)).to.throw(
      "failed authentication",
    );
    // The same bundle for the same arbiter is the same copy, on either node.
    const fromB = await nodeB.evidenceLookup.arbiterCopy(b.chain, "A-B", PERIOD, cid, asArbiter);
    expect(fromB.arbiterCid).to.equal(copy.arbiterCid);

    const officer = hardhatWallet(1, hardhat.provider);
    const notArbiter = await failure(
      nodeA.evidenceLookup.arbiterCopy(a.chain, "A-B", PERIOD, cid, {
        address: officer.address,
        publicKey: officer.signingKey.publicKey,
      }),
    );
    expect(notArbiter).to.be.instanceOf(ConflictError);
    expect(notArbiter.shortMessage).to.contain("is not the arbiter of A-B");
    const otherKey = await failure(
      nodeA.evidenceLookup.arbiterCopy(a.chain, "A-B", PERIOD, cid, {
        address: arbiter.address,
        publicKey: officer.signingKey.publicKey,
      }),
    );
    expect(otherKey).to.be.instanceOf(InputError);
  });

  it("the arbiter's rationale typed as text goes on chain by its CID, and the other party's node reads the text", async () => {
    const arbiter = hardhatWallet(9, hardhat.provider);
    const record = await fx.deployment.ledger.connect(hardhat.provider).periodRecord(fx.agreementId, PERIOD);
    const rationale = "A's switch logs show the calls B lacks were answered; A's figures stand.";
    const planned = await nodeB.disputes.plan(b.chain, "A-B", PERIOD, "rule", arbiter.address, {
      amountAB: record.amountABofA,
      amountBA: record.amountBAofA,
      rationale,
    });
    expect(planned.evidenceCid).to.match(/^bafkrei/);
    expect(planned.description).to.contain(`rationale ${planned.evidenceCid}`);
    await (
      await (await signer(9)).sendTransaction({ to: planned.transaction.to, data: planned.transaction.data })
    ).wait();
    const ledger = fx.deployment.ledger.connect(hardhat.provider);
    const [ruled] = await ledger.queryFilter(ledger.filters.DisputeRuled(fx.agreementId));
    expect(ruled!.args.rationaleCid).to.equal(planned.evidenceCid);

    // Public text in B's store (not sealed), read by A's node from B's.
    expect(Buffer.from(await b.evidence.get(planned.evidenceCid!)).toString("utf8")).to.equal(rationale);
    expect(await a.evidence.has(planned.evidenceCid!)).to.equal(false);
    const read = await nodeA.evidenceLookup.rationale(
      a.chain,
      "A-B",
      PERIOD,
      planned.evidenceCid!,
      a.runner.partnerEvidence,
    );
    expect(read).to.deep.equal({
      agreement: "A-B",
      period: PERIOD,
      cid: planned.evidenceCid,
      text: rationale,
    });
    // The dispute's evidence is not a rationale, and a rationale is not a party's evidence.
    const wrongKind = await failure(nodeA.evidenceLookup.rationale(a.chain, "A-B", PERIOD, cid));
    expect(wrongKind.shortMessage).to.equal(`${cid} is not the rationale of a ruling on A-B 2030-01`);

    const both = await failure(
      nodeB.disputes.plan(b.chain, "A-B", PERIOD, "open", arbiter.address, { rationale: "why" }),
    );
    expect(both).to.be.instanceOf(InputError);
  });
});
