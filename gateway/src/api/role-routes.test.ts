/**
 * The routes behind the console's pages for each role, against a real ledger (Hardhat JSON-RPC on
 * 127.0.0.1) with carriers A and B, whose agreement A-B both committed and revealed for 2030-01:
 *
 * - a regulator on a third carrier's node (no agreement of its own) opens A-B by its ledger id: the
 *   revealed figures and the events, read from the chain; nothing of a node's own (no summary, report,
 *   evidence), and an officer of that node gets nothing;
 * - a month A-B has no period for (before it starts, not begun by the ledger's clock, malformed) is
 *   refused in words, for the period and its timeline;
 * - the dashboard's last closed month: A's frozen summary summed per partner and direction, in the
 *   agreement's token;
 * - the alerts, filtered by window and level, for operators and officers and not regulators.
 */
import { expect } from "chai";
import { createChainClient, type ChainClient } from "../../../node/src/chain/client";
import { addAgreement } from "../../../node/src/db/agreements";
import { recordAlert } from "../../../node/src/db/alerts";
import type { Database } from "../../../node/src/db/database";
import { addPartner } from "../../../node/src/db/partners";
import { markSummaryCommitted, saveSummary } from "../../../node/src/db/summaries";
import { silentLogger } from "../../../node/src/logger";
import { primaryTarget } from "../../../test/helpers/databases";
import { headersFor, startGateway, testNode, type TestPrincipal } from "../../../test/helpers/gateway-api";
import {
  PERIOD,
  hardhatWallet,
  scriptLedger,
  startHardhatNode,
  type HardhatNode,
  type ScriptedLedger,
  commitAndRevealBoth,
} from "../../../test/helpers/hardhat";
import type { RunningGateway } from "../gateway";

const target = primaryTarget();
const MONTH = `${String(PERIOD).slice(0, 4)}-${String(PERIOD).slice(4)}`;
const REGULATOR: TestPrincipal = { kind: "session", roles: ["regulator"] };
const OFFICER: TestPrincipal = { kind: "session", roles: ["officer"] };
const OPERATOR: TestPrincipal = { kind: "session", roles: ["operator"] };

type Body = Record<string, unknown> & { error?: { code: string; message: string } };

describe(`API pages for every role on a ledger (${target.name})`, function () {
  this.timeout(180_000);
  let hardhat: HardhatNode;
  let fx: ScriptedLedger;
  const dbs: Database[] = [];
  const chains: ChainClient[] = [];
  /** Carrier A's node, party to A-B. */
  let a: RunningGateway;
  /** A third carrier's node, party to nothing on this ledger. */
  let outsider: RunningGateway;

  before(async () => {
    hardhat = await startHardhatNode();
    fx = await scriptLedger(hardhat.provider);
    const figures = { ab: 1_250_000n, ba: 400_000n };
    await commitAndRevealBoth(hardhat.provider, fx, figures);
    const start = async (party: boolean) => {
      const db = await target.open();
      dbs.push(db);
      if (party) {
        await addPartner(db, { id: "CARRIER-B", name: "Carrier B", matchRules: [] });
        await addAgreement(db, {
          agreementId: fx.agreementId,
          name: "A-B",
          partnerId: "CARRIER-B",
          side: "A",
          secret: Buffer.alloc(32, 7),
        });
      }
      const chain = await createChainClient({
        rpcUrl: hardhat.url,
        deployment: fx.addresses,
        signer: party ? fx.nodeA : undefined,
        db,
        logger: silentLogger,
      });
      chains.push(chain);
      return startGateway({ node: testNode(db), chain });
    };
    a = await start(true);
    outsider = await start(false);
  });
  after(async () => {
    await a?.close();
    await outsider?.close();
    for (const chain of chains) chain.close();
    for (const db of dbs) await db.close();
    await hardhat?.stop();
    await target.cleanup();
  });

  const get = async (gateway: RunningGateway, path: string, who: TestPrincipal) => {
    const response = await fetch(gateway.url + path, { headers: headersFor(who) });
    return { status: response.status, body: (await response.json()) as Body };
  };

  it("lets a regulator open an agreement the node is not party to, by its ledger id, from the chain alone", async () => {
    const path = `/api/v1/periods/${fx.agreementId}/${MONTH}`;
    const { status, body } = await get(outsider, path, REGULATOR);
    expect(status, JSON.stringify(body)).to.equal(200);
    expect(body).to.include({
      agreement: "CARRIER-A–CARRIER-B",
      agreementId: fx.agreementId.toLowerCase(),
      period: PERIOD,
      side: null,
    });
    // The revealed figures are the ledger's; this node has none of its own.
    expect(body.sides).to.have.nested.property("A.amountAB", "1250000");
    expect(body.sides).to.have.nested.property("B.amountBA", "400000");
    expect(body.state).to.equal("Reconciled");
    expect(body.local).to.equal(null);
    expect(body.report).to.equal(null);
    expect(body.pendingSignatures).to.deep.equal([]);

    const timeline = await get(outsider, `${path}/timeline`, REGULATOR);
    expect(timeline.status).to.equal(200);
    const events = (timeline.body.events as { event: string; carrier: string | null }[]).map((e) =>
      `${e.event} ${e.carrier ?? ""}`.trim(),
    );
    expect(events).to.include.members(["Committed CARRIER-A", "Revealed CARRIER-B", "Evaluated"]);

    // The periods list has it too, for the regulator; an officer of this node sees no period at all.
    const listed = await get(outsider, "/api/v1/periods", REGULATOR);
    expect(
      (listed.body.periods as { agreementId: string; period: number; side: null }[]).map((p) => [
        p.agreementId,
        p.period,
        p.side,
      ]),
    ).to.deep.equal([[fx.agreementId.toLowerCase(), PERIOD, null]]);
    expect((await get(outsider, "/api/v1/periods", OFFICER)).body.periods).to.deep.equal([]);

    // Nobody else reaches it through this node, and a local name means nothing here.
    const officer = await get(outsider, path, OFFICER);
    expect(officer.status).to.equal(404);
    expect(officer.body.error!.message).to.equal(`agreement ${fx.agreementId} is not known to this node`);
    expect((await get(outsider, `/api/v1/periods/A-B/${MONTH}`, REGULATOR)).status).to.equal(404);
    const evidence = await get(outsider, `${path}/evidence/bafkreiaaaa`, OFFICER);
    expect(evidence.status).to.be.oneOf([400, 404]);
    const nowhere = await get(outsider, `/api/v1/periods/0x${"ab".repeat(32)}/${MONTH}`, REGULATOR);
    expect(nowhere.status).to.equal(404);
    expect(nowhere.body.error!.message).to.equal(`agreement 0x${"ab".repeat(32)} is not on the ledger`);
  });

  it("plans an arbiter's ruling on an agreement the node is not party to, checked as the ledger would", async () => {
    const path = `/api/v1/periods/${fx.agreementId}/${MONTH}/disputes/plan`;
    const post = async (who: TestPrincipal) => {
      const response = await fetch(outsider.url + path, {
        method: "POST",
        headers: { ...headersFor(who), "content-type": "application/json" },
        body: JSON.stringify({ step: "rule", amountAB: "1250000", amountBA: "400000" }),
      });
      return { status: response.status, body: (await response.json()) as Body };
    };
    // The agreement is found on the ledger; the ledger then refuses a ruling on a period not escalated.
    const arbiter = await post({
      kind: "session",
      roles: ["arbiter"],
      address: hardhatWallet(9, hardhat.provider).address,
    });
    expect(arbiter.status, JSON.stringify(arbiter.body)).to.equal(409);
    expect(arbiter.body.error!.message).to.not.contain("not known to this node");
    const officer = await post(OFFICER);
    expect(officer.status).to.equal(404);
    expect(officer.body.error!.message).to.equal(`agreement ${fx.agreementId} is not known to this node`);
  });

  it("refuses in words a month the agreement has no period for, on the period and its timeline", async () => {
    const before = await get(a, "/api/v1/periods/A-B/2029-12", OFFICER);
    expect(before.status).to.equal(404);
    expect(before.body.error!.message).to.equal(
      `there is no period A-B 2029-12: the agreement starts in ${MONTH}`,
    );
    const future = await get(a, "/api/v1/periods/A-B/2099-01/timeline", REGULATOR);
    expect(future.status).to.equal(404);
    expect(future.body.error!.message).to.match(
      /^there is no period A-B 2099-01 yet: the ledger's clock is in \d{4}-\d{2}$/,
    );
    const typo = await get(a, "/api/v1/periods/A-B/2030-13", OFFICER);
    expect(typo.status).to.equal(400);
    expect(typo.body.error!.message).to.contain("must be a month like 2026-10");
    // The outsider's read is held to the same rule.
    expect((await get(outsider, `/api/v1/periods/${fx.agreementId}/2029-11`, REGULATOR)).status).to.equal(
      404,
    );
    expect((await get(a, `/api/v1/periods/A-B/${MONTH}`, OFFICER)).status).to.equal(200);
  });

  it("sums the last closed month's frozen summary per partner and direction, in the agreement's token", async () => {
    const empty = await get(a, "/api/v1/traffic/closed-month", OPERATOR);
    expect(empty.body).to.deep.equal({ period: null, totals: [] });
    const db = dbs[0]!;
    const leaf = (
      direction: "AB" | "BA",
      destination: string,
      records: bigint,
      billed: bigint,
      amount: bigint,
    ) => ({
      direction,
      service: "voice" as const,
      destination,
      day: 21915,
      records,
      billed,
      amount,
    });
    const leaves = [
      leaf("AB", "UK", 3n, 600n, 700_000n),
      leaf("AB", "FR", 2n, 120n, 550_000n),
      leaf("BA", "UK", 4n, 300n, 400_000n),
    ];
    await saveSummary(db, {
      agreementId: fx.agreementId.toLowerCase(),
      period: PERIOD,
      partnerId: "CARRIER-B",
      side: "A",
      root: `0x${"11".repeat(32)}`,
      leafCount: leaves.length,
      records: 9n,
      amountAB: 1_250_000n,
      amountBA: 400_000n,
      encoding: 1,
      leaves,
    });
    // Built but not closed: not a closed month yet.
    expect((await get(a, "/api/v1/traffic/closed-month", OPERATOR)).body.period).to.equal(null);
    await markSummaryCommitted(db, fx.agreementId, PERIOD);
    const { status, body } = await get(a, "/api/v1/traffic/closed-month", OFFICER);
    expect(status).to.equal(200);
    const symbol = await fx.deployment.demoToken!.connect(hardhat.provider).symbol();
    const row = {
      agreement: "A-B",
      agreementId: fx.agreementId.toLowerCase(),
      partner: "CARRIER-B",
      currency: symbol,
    };
    expect(body).to.deep.equal({
      period: MONTH,
      totals: [
        { ...row, direction: "out", calls: "5", billedSeconds: "720", amount: "1250000" },
        { ...row, direction: "in", calls: "4", billedSeconds: "300", amount: "400000" },
      ],
    });
    expect((await get(a, "/api/v1/traffic/closed-month", REGULATOR)).status).to.equal(403);
  });

  it("lists the deadline watch's alerts by window and level for operators and officers, not regulators", async () => {
    const db = dbs[0]!;
    const alert = (kind: string, level: "warning" | "action" | "error") =>
      recordAlert(db, {
        agreementId: fx.agreementId,
        period: PERIOD,
        round: 0,
        level,
        kind,
        deadline: null,
        message: `period A-B ${MONTH}: ${kind}`,
      });
    await alert("reveal-window", "warning");
    await alert("settled", "action");
    await db.query("UPDATE alerts SET created_at = now() - interval '3 days' WHERE kind = 'settled'");

    const all = await get(a, "/api/v1/alerts", OPERATOR);
    expect(all.status).to.equal(200);
    expect((all.body.alerts as { kind: string }[]).map((x) => x.kind)).to.deep.equal([
      "settled",
      "reveal-window",
    ]);
    const recent = await get(a, "/api/v1/alerts?since=1d", OFFICER);
    expect(
      (recent.body.alerts as { kind: string; agreementName: string }[]).map((x) => x.kind),
    ).to.deep.equal(["reveal-window"]);
    const actions = await get(a, "/api/v1/alerts?level=action&agreement=A-B", OFFICER);
    expect((actions.body.alerts as { kind: string }[]).map((x) => x.kind)).to.deep.equal(["settled"]);
    const bad = await get(a, "/api/v1/alerts?since=yesterday", OPERATOR);
    expect(bad.status).to.equal(400);
    expect(bad.body.error!.message).to.contain("must be a duration like 30m, 12h, 7d or 2w");
    expect((await get(a, "/api/v1/alerts", REGULATOR)).status).to.equal(403);
  });
});
