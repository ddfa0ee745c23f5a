/**
 * The fast-path routes against a real ledger (Hardhat JSON-RPC on 127.0.0.1): carrier A's node closed a
 * period (its summary frozen, nothing committed) in the commit window, so it leaves the period to the
 * co-signed fast path. An officer of A gets the period's `Settlement` as typed data, signs it in the
 * browser's stead and hands it in: the node keeps it and counts it. A signature over other figures, by
 * someone who is not the signed-in officer or not an officer of A, or by a regulator, is refused; once
 * the node committed the period, both routes answer 409 saying so.
 */
import { expect } from "chai";
import { id, type Wallet } from "ethers";
import { type ChainClient } from "../../../node/src/chain/client";
import {
  CARRIER_A,
  CARRIER_B,
  PERIOD,
  hardhatWallet,
  type HardhatNode,
  type ScriptedLedger,
} from "../../../test/helpers/hardhat";
import { requireAgreement } from "../../../node/src/db/agreements";
import type { Database } from "../../../node/src/db/database";
import { listSettlementSignatures } from "../../../node/src/db/fast-path";
import { markSummaryCommitted, saveSummary } from "../../../node/src/db/summaries";
import { SETTLEMENT_TYPES } from "../../../node/src/protocol";
import { commitSummary } from "../../../node/src/reconciliation/commit";
import { SUMMARY_ENCODING } from "../../../node/src/summaries/build-summary";
import { primaryTarget } from "../../../test/helpers/databases";
import type { RunningGateway } from "../gateway";
import { carrierAChain, carrierAOnLedger } from "../../../test/helpers/ledger-node";
import { headersFor, startGateway, testNode, type TestPrincipal } from "../../../test/helpers/gateway-api";

const target = primaryTarget();
const PERIOD_TEXT = `${String(PERIOD).slice(0, 4)}-${String(PERIOD).slice(4)}`;
const BASE = `/api/v1/periods/A-B/${PERIOD_TEXT}`;
const ROOT = id("A's summary root").toLowerCase();
const FIGURES = { amountAB: 1_234_567_890n, amountBA: 987_654_321n };

type Typed = {
  domain: Record<string, string>;
  types: Record<string, { name: string; type: string }[]>;
  primaryType: string;
  message: Record<string, string | number>;
  progress: {
    ours: { signers: string[]; threshold: number };
    theirs: { signers: string[]; threshold: number };
  };
};

describe(`API: officers co-sign a period on the fast path (${target.name})`, function () {
  this.timeout(180_000);
  let hardhat: HardhatNode;
  let fx: ScriptedLedger;
  let db: Database;
  let chain: ChainClient;
  let gateway: RunningGateway;
  let officers: Wallet[];

  before(async () => {
    const started = await carrierAOnLedger(target, Buffer.alloc(32, 9));
    ({ hardhat, fx, db } = started);
    // `icl period close` with the fast path on: the summary is built and frozen, not committed.
    await saveSummary(db, {
      agreementId: fx.agreementId.toLowerCase(),
      period: PERIOD,
      partnerId: "CARRIER-B",
      side: "A",
      root: ROOT,
      leafCount: 0,
      records: 0n,
      ...FIGURES,
      encoding: SUMMARY_ENCODING,
      leaves: [],
    });
    expect(await markSummaryCommitted(db, fx.agreementId, PERIOD)).to.equal(true);
    chain = await carrierAChain(started);
    officers = [hardhatWallet(1, hardhat.provider), hardhatWallet(2, hardhat.provider)];
    gateway = await startGateway({ node: testNode(db), chain });
  });
  after(async () => {
    await gateway?.close();
    chain?.close();
    await db?.close();
    await hardhat?.stop();
    await target.cleanup();
  });

  const officer = (wallet: Wallet): TestPrincipal => ({
    kind: "session",
    roles: ["officer"],
    address: wallet.address,
  });
  const get = async (path: string, who: TestPrincipal) => {
    const response = await fetch(gateway.url + path, { headers: headersFor(who) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const post = async (path: string, who: TestPrincipal, body: unknown) => {
    const response = await fetch(gateway.url + path, {
      method: "POST",
      headers: { ...headersFor(who), "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  /** Signs `typed` as the console does with a key held in the page (EIP712Domain left to ethers). */
  const sign = (wallet: Wallet, typed: Typed, message = typed.message) => {
    const { EIP712Domain: _domain, ...types } = typed.types;
    return wallet.signTypedData(typed.domain, types, message);
  };
  const kept = async () =>
    (await listSettlementSignatures(db, fx.agreementId, PERIOD, CARRIER_A)).map((s) => s.officer);

  it("hands out this node's Settlement (root, totals, round 0's commit deadline) and its progress", async () => {
    const { status, body } = await get(`${BASE}/fast-path/settlement`, officer(officers[0]!));
    expect(status, JSON.stringify(body)).to.equal(200);
    const typed = body as unknown as Typed;
    const deadlines = await fx.deployment.ledger.connect(hardhat.provider).deadlines(fx.agreementId, PERIOD);
    expect(typed.primaryType).to.equal("Settlement");
    expect(typed.message).to.deep.equal({
      agreementId: fx.agreementId.toLowerCase(),
      period: PERIOD,
      root: ROOT,
      amountAB: FIGURES.amountAB.toString(),
      amountBA: FIGURES.amountBA.toString(),
      deadline: deadlines.commitDeadline.toString(),
    });
    expect(typed.types.Settlement).to.deep.equal(SETTLEMENT_TYPES.Settlement);
    expect(typed.domain).to.deep.include({ verifyingContract: fx.addresses.ledger, chainId: "31337" });
    expect(typed.progress.ours).to.deep.include({
      carrier: CARRIER_A.toLowerCase(),
      signers: [],
      threshold: 2,
    });
    expect(typed.progress.theirs).to.deep.include({
      carrier: CARRIER_B.toLowerCase(),
      signers: [],
      threshold: 2,
    });

    // The period's view says it waits on the fast path; the approval route points there.
    const view = await get(BASE, officer(officers[0]!));
    expect(view.body.fastPath).to.deep.include({ settlement: typed.message });
    const approval = await get(`${BASE}/approval`, officer(officers[0]!));
    expect(approval.status).to.equal(409);
    expect(approval.body).to.have.nested.property("error.message").that.contains("fast-path/settlement");
  });

  it("keeps an officer's signature and counts it for this carrier", async () => {
    const { body } = await get(`${BASE}/fast-path/settlement`, officer(officers[0]!));
    const typed = body as unknown as Typed;
    const signature = await sign(officers[0]!, typed);
    const answer = await post(`${BASE}/fast-path/signatures`, officer(officers[0]!), {
      settlement: typed.message,
      signature,
    });
    expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
    expect(answer.body.officer).to.equal(officers[0]!.address);
    expect(answer.body)
      .to.have.nested.property("progress.ours.signers")
      .that.deep.equals([officers[0]!.address.toLowerCase()]);
    expect(answer.body).to.have.nested.property("progress.ours.threshold", 2);
    expect(answer.body).to.have.nested.property("progress.theirs.signers").that.deep.equals([]);
    expect(await kept()).to.deep.equal([officers[0]!.address.toLowerCase()]);
    const view = await get(BASE, officer(officers[1]!));
    expect(view.body).to.have.nested.property("fastPath.progress.ours.signers").with.length(1);
  });

  it("refuses a signature over other figures, by someone else, or by no officer of this carrier", async () => {
    const { body } = await get(`${BASE}/fast-path/settlement`, officer(officers[1]!));
    const typed = body as unknown as Typed;
    const path = `${BASE}/fast-path/signatures`;

    // Other figures: the node's own Settlement does not recover to the officer.
    const other = { ...typed.message, amountAB: (FIGURES.amountAB + 1n).toString() };
    const wrong = await post(path, officer(officers[1]!), {
      settlement: other,
      signature: await sign(officers[1]!, typed, other),
    });
    expect(wrong.status, JSON.stringify(wrong.body)).to.equal(409);
    expect(wrong.body)
      .to.have.nested.property("error.message")
      .that.matches(/over this node's figures/);

    // Someone else's signature, handed in by the signed-in officer.
    const theirs = await post(path, officer(officers[0]!), {
      settlement: typed.message,
      signature: await sign(officers[1]!, typed),
    });
    expect(theirs.status).to.equal(403);
    expect(theirs.body).to.have.nested.property("error.code", "SIGNER_MISMATCH");

    // An officer of the partner signed in here: not an officer of this node's carrier.
    const partnerOfficer = hardhatWallet(5, hardhat.provider);
    const partner = await post(path, officer(partnerOfficer), {
      settlement: typed.message,
      signature: await sign(partnerOfficer, typed),
    });
    expect(partner.status, JSON.stringify(partner.body)).to.equal(409);
    expect(partner.body)
      .to.have.nested.property("error.message")
      .that.contains("not a current officer of CARRIER-A");

    // A regulator may read the period but never sign for the carrier.
    const regulator: TestPrincipal = { kind: "session", roles: ["regulator"], address: officers[1]!.address };
    expect((await get(`${BASE}/fast-path/settlement`, regulator)).status).to.equal(403);
    const byRegulator = await post(path, regulator, {
      settlement: typed.message,
      signature: await sign(officers[1]!, typed),
    });
    expect(byRegulator.status).to.equal(403);

    expect(await kept(), "only the first officer's signature is kept").to.deep.equal([
      officers[0]!.address.toLowerCase(),
    ]);
  });

  it("answers 409 saying why once this node committed the period", async () => {
    const { body } = await get(`${BASE}/fast-path/settlement`, officer(officers[1]!));
    const typed = body as unknown as Typed;
    await commitSummary(db, chain, await requireAgreement(db, "A-B"), PERIOD);

    const typedData = await get(`${BASE}/fast-path/settlement`, officer(officers[1]!));
    expect(typedData.status).to.equal(409);
    expect(typedData.body)
      .to.have.nested.property("error.message")
      .that.contains("is not waiting on the co-signed fast path: this node committed its summary");
    const late = await post(`${BASE}/fast-path/signatures`, officer(officers[1]!), {
      settlement: typed.message,
      signature: await sign(officers[1]!, typed),
    });
    expect(late.status).to.equal(409);
    expect(late.body).to.have.nested.property("error.message").that.contains("this node committed");
    expect((await get(BASE, officer(officers[1]!))).body.fastPath).to.equal(null);
    expect(await kept()).to.have.length(1);
  });
});
