/**
 * The dispute, settlement and audit routes against a real ledger (Hardhat JSON-RPC on 127.0.0.1), on
 * the three-carrier test consortium with this node as ACME's:
 * - ACME–INITECH 2030-01 is mismatched and disputed: ACME opens with its sealed discrepancy evidence,
 *   INITECH proposes figures citing a bundle this node does not hold;
 * - ACME–GLOBEX 2030-01 is Approved by both and not settled: the netting plan and ACME's escrow.
 * The plan and the escrow are compared with what `icl settle --netting --dry-run --json` and
 * `icl escrow balance --json` print for the same ledger.
 */
import { expect } from "chai";
import { encryptKeystoreJson, id, type Wallet } from "ethers";
import fs from "node:fs";
import path from "node:path";
import { approveBoth } from "../../../test/helpers/audit-history";
import { createChainClient, type ChainClient } from "../../../node/src/chain/client";
import {
  commitAndReveal,
  fundEscrow,
  scriptConsortium,
  type Consortium,
} from "../../../test/helpers/consortium";
import { PERIOD, startHardhatNode, type HardhatNode } from "../../../test/helpers/hardhat";
import { addAgreement, requireAgreement } from "../../../node/src/db/agreements";
import type { Database } from "../../../node/src/db/database";
import { addPartner } from "../../../node/src/db/partners";
import { deriveEvidenceKey, putEvidence, sealEvidence } from "../../../node/src/evidence/bundle";
import { UnavailableError } from "../../../node/src/errors";
import {
  fetchPartnerEvidence,
  type PartnerEvidence,
} from "../../../node/src/reconciliation/evidence-exchange";
import type { PeerClient } from "../../../node/src/reconciliation/peer-client";
import { rawBlockCid } from "../../../node/src/evidence/cid";
import { silentLogger } from "../../../node/src/logger";
import { icl, acceptFutureCdrs } from "../../../test/helpers/cli";
import { primaryTarget } from "../../../test/helpers/databases";
import type { Role } from "../auth/types";
import type { RunningGateway } from "../gateway";
import { headersFor, rawGet, startGateway, testNode } from "../../../test/helpers/gateway-api";

const target = primaryTarget();
const M = 1_000_000n;
const MONTH = `${String(PERIOD).slice(0, 4)}-${String(PERIOD).slice(4)}`;
const SECRET_AG = Buffer.alloc(32, 0x5e);
const SECRET_AI = Buffer.alloc(32, 0x6f);

const as = (...roles: Role[]) => ({ kind: "session" as const, roles });

describe(`API disputes, settlement and audit on a ledger (${target.name})`, function () {
  this.timeout(120_000);
  let hardhat: HardhatNode;
  let c: Consortium;
  let db: Database;
  let chain: ChainClient;
  let gateway: RunningGateway;
  let evidenceCid: string;
  let theirCid: string;
  let sealed: object;
  let cliEnv: Record<string, string>;

  before(async () => {
    hardhat = await startHardhatNode();
    c = await scriptConsortium(hardhat.provider);
    const AG = c.agreements["ACME-GLOBEX"];
    const AI = c.agreements["ACME-INITECH"];
    const { ACME, GLOBEX, INITECH } = c.carriers;
    db = await target.open();
    await addPartner(db, { id: "GLOBEX", name: "Globex", matchRules: [] });
    await addPartner(db, { id: "INITECH", name: "Initech", matchRules: [] });
    await addAgreement(db, {
      agreementId: AG.agreementId,
      name: "ACME-GLOBEX",
      partnerId: "GLOBEX",
      side: "A",
      secret: SECRET_AG,
    });
    await addAgreement(db, {
      agreementId: AI.agreementId,
      name: "ACME-INITECH",
      partnerId: "INITECH",
      side: "A",
      secret: SECRET_AI,
    });
    const node = testNode(db);

    // ACME–GLOBEX: approved by both, waiting to settle; ACME pays GLOBEX 60 net, reserved at its approval.
    await commitAndReveal(c, AG, { ab: 100n * M, ba: 40n * M }, { ab: 100n * M, ba: 40n * M });
    await fundEscrow(c, ACME, "ICUSD", 1000n * M);
    await fundEscrow(c, GLOBEX, "ICUSD", 20n * M);
    await approveBoth(c, AG, PERIOD);

    // ACME–INITECH: mismatched; ACME disputes with its sealed report, INITECH proposes figures.
    await commitAndReveal(c, AI, { ab: 300n * M, ba: 10n * M }, { ab: 250n * M, ba: 10n * M });
    const agreement = await requireAgreement(db, "ACME-INITECH");
    // Over 1 MiB sealed: a UnixFS DAG, which the route serves like a single block.
    sealed = {
      kind: "discrepancy-report",
      agreementId: agreement.agreementId,
      period: PERIOD,
      leaves: [1, 2],
      cdrs: Array.from({ length: 30_000 }, (_, i) => ({ cdrId: `ACME-${i}`, amount: "0.012500" })),
    };
    evidenceCid = await putEvidence(
      node.evidence,
      sealed,
      deriveEvidenceKey(SECRET_AI, agreement.agreementId, PERIOD),
      { agreementId: agreement.agreementId, period: PERIOD, purpose: "discrepancy-report" },
    );
    theirCid = rawBlockCid(new TextEncoder().encode("INITECH's trunk logs"));
    const ledger = c.deployment.ledger;
    const signer = (w: Wallet) => c.provider.getSigner(w.address);
    await (
      await ledger
        .connect(await signer(ACME.officers[0]))
        .openDispute(AI.agreementId, PERIOD, ACME.id, 1, evidenceCid)
    ).wait();
    await (
      await ledger
        .connect(await signer(INITECH.officers[0]))
        .proposeFigures(AI.agreementId, PERIOD, INITECH.id, 280n * M, 10n * M, theirCid)
    ).wait();

    chain = await createChainClient({
      rpcUrl: hardhat.url,
      deployment: c.addresses,
      signer: ACME.node,
      db,
      logger: silentLogger,
    });
    gateway = await startGateway({ node, chain });

    // ACME's node as the CLI sees it: deployment, node key, chain settings, the agreement with GLOBEX.
    const cli = target.cliEnv();
    const dir = cli.dataDir;
    cliEnv = { ...cli.env, ICL_KEY_PASSWORD: "pw" };
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
    const keystore = await encryptKeystoreJson(
      { address: ACME.node.address, privateKey: ACME.node.privateKey },
      "pw",
      { scrypt: { N: 1 << 10 } },
    );
    fs.writeFileSync(path.join(dir, "node-key.json"), keystore);
    expect(icl(["init"], cliEnv).code).to.equal(0);
    acceptFutureCdrs(dir);
    const configFile = path.join(dir, "config.json");
    const config = JSON.parse(fs.readFileSync(configFile, "utf8"));
    config.chain = { rpcUrl: hardhat.url, deployment: "deployment.json", keystore: "node-key.json" };
    fs.writeFileSync(configFile, JSON.stringify(config));
    expect(icl(["partners", "add", "GLOBEX"], cliEnv).code).to.equal(0);
    fs.writeFileSync(path.join(dir, "secret.hex"), SECRET_AG.toString("hex"));
    const added = icl(
      [
        "agreements",
        "add",
        "ACME-GLOBEX",
        "--id",
        AG.agreementId,
        "--partner",
        "GLOBEX",
        "--side",
        "A",
      ].concat(["--secret-file", path.join(dir, "secret.hex")]),
      cliEnv,
    );
    expect(added.code, added.stderr).to.equal(0);
  });
  after(async () => {
    await gateway?.close();
    chain?.close();
    await db?.close();
    await hardhat?.stop();
    await target.cleanup();
  });

  const get = async (url: string, who: Parameters<typeof headersFor>[0]) => {
    const response = await fetch(gateway.url + url, { headers: headersFor(who) });
    const text = await response.text();
    const type = response.headers.get("content-type") ?? "";
    return {
      status: response.status,
      type,
      headers: response.headers,
      text,
      body: (type.startsWith("application/json") ? JSON.parse(text) : null) as Record<string, unknown>,
    };
  };
  const cliJson = (args: string[]) => {
    const result = icl([...args, "--json"], cliEnv);
    expect(result.code, result.stderr).to.equal(0);
    return JSON.parse(result.stdout) as unknown;
  };

  it("lists a disputed period's ledger events in order, with the dispute steps and their CIDs", async () => {
    const { status, body } = await get(`/api/v1/periods/ACME-INITECH/${MONTH}/timeline`, as("regulator"));
    expect(status, JSON.stringify(body)).to.equal(200);
    const events = body.events as Record<string, unknown>[];
    expect(events.map((e) => e.event)).to.deep.equal([
      "Committed",
      "Committed",
      "Revealed",
      "Revealed",
      "Evaluated",
      "DisputeOpened",
      "FiguresProposed",
    ]);
    expect(events[4]).to.include({ outcome: "Mismatched", round: 0 });
    expect(events[5]).to.include({ carrier: "ACME", reason: "missing_cdrs", cid: evidenceCid });
    expect(events[6]).to.include({
      carrier: "INITECH",
      amountAB: String(280n * M),
      amountBA: String(10n * M),
      cid: theirCid,
    });
    const blocks = events.map((e) => BigInt(e.block as string));
    expect(blocks).to.deep.equal([...blocks].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    expect(events[0]!.time).to.match(/^2\d{3}-\d\d-\d\dT/);

    const arbiter = as("arbiter");
    expect((await get(`/api/v1/periods/ACME-INITECH/${MONTH}/timeline`, arbiter)).status).to.equal(200);
    expect((await get(`/api/v1/periods/ACME-GLOBEX/${MONTH}/timeline`, arbiter)).status).to.equal(404);
    expect((await get(`/api/v1/periods/NO-SUCH/${MONTH}/timeline`, as("officer"))).status).to.equal(404);
  });

  it("hands an officer the decrypted evidence named on chain, and nobody else", async () => {
    const url = (cid: string) => `/api/v1/periods/ACME-INITECH/${MONTH}/evidence/${cid}`;
    const ok = await get(url(evidenceCid), as("officer"));
    expect(ok.status, ok.text).to.equal(200);
    expect(ok.body).to.deep.include({
      agreement: "ACME-INITECH",
      period: PERIOD,
      cid: evidenceCid,
      purpose: "discrepancy-report",
      fileName: `ACME-INITECH-${MONTH}-discrepancy-report-${evidenceCid}.json`,
    });
    expect(ok.body.content).to.deep.equal(sealed);
    expect(evidenceCid).to.match(/^bafybei/);

    // Well-formed but not named on chain for this period, or named but not held (the partner's): 404.
    const unknown = rawBlockCid(new TextEncoder().encode(id("nowhere")));
    expect((await get(url(unknown), as("officer"))).status).to.equal(404);
    expect((await get(url(theirCid), as("officer"))).status).to.equal(404);
    expect(
      (await get(`/api/v1/periods/ACME-GLOBEX/${MONTH}/evidence/${evidenceCid}`, as("officer"))).status,
    ).to.equal(404);
    // A traversal string is not a CID (400 naming the field); unencoded it matches no route (404).
    const encoded = await get(url(encodeURIComponent("../../etc/passwd")), as("officer"));
    expect(encoded.status).to.equal(400);
    expect((encoded.body.error as { field: string }).field).to.equal("params.cid");
    const raw = await rawGet(gateway.url, url("../../../../etc/passwd"), headersFor(as("officer")));
    expect(raw.status).to.equal(404);
    expect(raw.body).to.not.match(/root:/);

    for (const role of ["regulator", "arbiter", "admin", "operator"] as const) {
      expect((await get(url(evidenceCid), as(role))).status, role).to.equal(403);
    }
  });

  it("fetches evidence the partner cited from the partner's node, and says in words why it cannot", async () => {
    const url = `/api/v1/periods/ACME-INITECH/${MONTH}/evidence/${theirCid}`;
    const node = testNode(db);
    const agreement = await requireAgreement(db, "ACME-INITECH");
    // INITECH's bundle, sealed with the agreement's key, as INITECH's node would hand it over.
    const theirs = sealEvidence(
      { files: [{ name: "trunk.log", base64: Buffer.from("INITECH's trunk logs").toString("base64") }] },
      deriveEvidenceKey(SECRET_AI, agreement.agreementId, PERIOD),
      { agreementId: agreement.agreementId, period: PERIOD, purpose: "dispute-evidence" },
    );
    const served = async (partner: PartnerEvidence) => {
      const running = await startGateway({ node, chain, partnerEvidence: partner });
      try {
        const response = await fetch(running.url + url, { headers: headersFor(as("officer")) });
        return { status: response.status, body: (await response.json()) as { error: { message: string } } };
      } finally {
        await running.close();
      }
    };

    const down = await served(async () => {
      throw new UnavailableError("the peer node at http://127.0.0.1:9 did not answer", {
        code: "PEER_UNAVAILABLE",
      });
    });
    expect(down.status).to.equal(503);
    expect(down.body.error.message).to.equal(
      `the partner's node, which holds evidence ${theirCid} of ACME-INITECH ${MONTH}, did not answer; try again later`,
    );
    // The partner answers bytes that are not the CID's: refused, nothing kept.
    const lied = await served((agreementId, period, cid) =>
      fetchPartnerEvidence(
        { evidence: async () => theirs } as unknown as PeerClient,
        node.evidence,
        agreementId,
        period,
        cid,
      ),
    );
    expect(lied.status).to.equal(409);
    expect(lied.body.error.message).to.equal(
      `the partner's node sent bytes that are not evidence ${theirCid} of ACME-INITECH ${MONTH}; nothing was kept`,
    );
    expect(await node.evidence.has(theirCid)).to.equal(false);
    // Named on chain and held by this node, but not sealed with this agreement's key for the period.
    const foreign = await node.evidence.put(new TextEncoder().encode("INITECH's trunk logs"));
    expect(foreign).to.equal(theirCid);
    const sealedElse = await served(async () => undefined);
    expect(sealedElse.status).to.equal(409);
    expect(sealedElse.body.error.message).to.match(/does not open with the agreement's key/);

    // The rationale route refuses a party's evidence; the arbiter's copy waits for the escalation.
    const rationale = await get(
      `/api/v1/periods/ACME-INITECH/${MONTH}/rationale/${evidenceCid}`,
      as("officer"),
    );
    expect(rationale.status).to.equal(404);
    expect((rationale.body.error as { message: string }).message).to.equal(
      `${evidenceCid} is not the rationale of a ruling on ACME-INITECH ${MONTH}`,
    );
    const arbiter = { ...as("arbiter"), address: c.arbiter.address };
    const copyUrl = `/api/v1/periods/ACME-INITECH/${MONTH}/evidence/${evidenceCid}/arbiter-copy`;
    const early = await get(`${copyUrl}?publicKey=${c.arbiter.signingKey.publicKey}`, arbiter);
    expect(early.status, early.text).to.equal(409);
    expect((early.body.error as { message: string }).message).to.contain("is not escalated");
    const badKey = await get(`${copyUrl}?publicKey=0x1234`, arbiter);
    expect(badKey.status).to.equal(400);
    expect((badKey.body.error as { field: string }).field).to.equal("query.publicKey");
  });

  it("gives the netting plan and this carrier's escrow as the CLI does", async () => {
    const plan = await get("/api/v1/settlement/plan", as("officer"));
    expect(plan.status, plan.text).to.equal(200);
    expect(plan.body).to.deep.equal(cliJson(["settle", "--netting", "--dry-run"]));
    const [usd] = plan.body.plans as { token: string; positions: { carrier: string; net: string }[] }[];
    expect(usd!.token).to.equal("ICUSD");
    expect(usd!.positions).to.deep.include.members([
      {
        carrier: "ACME",
        carrierId: c.carriers.ACME.id,
        net: "-60.000000",
        escrow: "1000.000000",
        reserved: "60.000000",
        escrowAfter: "940.000000",
        netReference: null,
      },
    ]);
    const byToken = await get("/api/v1/settlement/plan?token=icusd", as("admin"));
    expect(byToken.body).to.deep.equal(plan.body);
    expect((await get("/api/v1/settlement/plan?token=NOPE", as("officer"))).status).to.equal(404);
    expect((await get("/api/v1/settlement/plan?token=a%20b", as("officer"))).status).to.equal(400);

    const escrow = await get("/api/v1/escrow", as("officer"));
    expect(escrow.status, escrow.text).to.equal(200);
    expect(escrow.body).to.deep.equal(cliJson(["escrow", "balance"]));
    expect(escrow.body).to.include({ carrier: "ACME" });
    expect((escrow.body.balances as Record<string, unknown>[])[0]).to.include({
      token: "ICUSD",
      escrow: "1000.000000",
      reserved: "60.000000",
      available: "940.000000",
      pendingPeriods: 1,
      pendingNet: "-60.000000",
      afterSettlement: "940.000000",
      topUp: "0.000000",
    });
  });

  it("verifies the honest history, and serves the result again within the minute", async () => {
    const first = await get("/api/v1/audit/verify", as("regulator"));
    expect(first.status, first.text).to.equal(200);
    expect(first.body).to.include({ ok: true, cachedForSeconds: 60 });
    expect(first.body.findings).to.deep.equal([]);
    expect((first.body.checked as Record<string, number>).disputeSteps).to.equal(2);
    const again = await get("/api/v1/audit/verify", as("officer"));
    expect(again.body.verifiedAt).to.equal(first.body.verifiedAt);
  });

  it("exports the report as JSON, CSV and HTML with their media types", async () => {
    const json = await get("/api/v1/audit/report", as("regulator"));
    expect(json.status, json.text).to.equal(200);
    expect(json.type).to.match(/^application\/json/);
    const names = (json.body.agreements as { name: string }[]).map((a) => a.name).sort();
    expect(names).to.have.length(3);
    const csv = await get("/api/v1/audit/report.csv", as("admin"));
    expect(csv.status).to.equal(200);
    expect(csv.type).to.match(/^text\/csv/);
    expect(csv.text.split("\n")[0]).to.contain(",");
    expect(csv.text).to.contain("DisputeOpened");
    const html = await get("/api/v1/audit/report.html", as("regulator"));
    expect(html.status).to.equal(200);
    expect(html.type).to.match(/^text\/html/);
    expect(html.text).to.match(/^<!doctype html>/i);
    expect(csv.headers.get("content-disposition")).to.match(
      /^attachment; filename="icl-audit-31337-0x[0-9a-f]{40}\.csv"$/,
    );
    expect(html.headers.get("content-disposition")).to.match(
      /^attachment; filename="icl-audit-31337-0x[0-9a-f]{40}\.html"$/,
    );
    expect(html.headers.get("content-security-policy")).to.equal(
      "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    );
    expect((await get("/api/v1/audit/report.csv", as("officer"))).status).to.equal(403);
  });
});
