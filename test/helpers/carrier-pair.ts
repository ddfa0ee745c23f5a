/**
 * Two carrier nodes in one process for suites that need a real reconciliation between them: each with
 * its own database, evidence store, chain client (its node key), NodeRunner and gateway on 127.0.0.1,
 * both deriving their CDRs from one generated list of calls (traffic.ts).
 */
import { expect } from "chai";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Wallet } from "ethers";
import type { GatewayParts, RunningGateway } from "../../gateway/src/gateway";
import { startCarrierNode } from "../../node/src/carrier-node";
import { parseConfig } from "../../node/src/config/config";
import { createChainClient, type ChainClient } from "../../node/src/chain/client";
import { openCommitWindow, type HardhatNode, type ScriptedLedger } from "./hardhat";
import { addAgreement, requireAgreement, setAgreementPeer } from "../../node/src/db/agreements";
import type { Database } from "../../node/src/db/database";
import { addPartner } from "../../node/src/db/partners";
import { importDeck } from "../../node/src/db/tariffs";
import { createLocalEvidenceStore } from "../../node/src/evidence/local-store";
import type { EvidenceStore } from "../../node/src/evidence/store";
import { ingestFile } from "../../node/src/ingest/ingest-file";
import { silentLogger } from "../../node/src/logger";
import { loadTariffDeck } from "../../node/src/rating/tariff-deck";
import { closePeriod } from "../../node/src/reconciliation/close-period";
import type { NodeRunner, PassReport } from "../../node/src/reconciliation/runner";
import { createNode } from "../../node/src/node";
import type { FastPathOptions } from "../../node/src/reconciliation/fast-path";
import { interconnectDeck } from "../../scripts/lib/generate-cdrs";
import type { DatabaseTarget } from "./databases";
import { tempDir } from "./databases";
import { writeSideCdrs, type Call } from "../../scripts/lib/traffic";

/** The generated deck, plus A's own termination to New York for the calls B hands to A. */
export const PAIR_DECK = interconnectDeck();

/** A pair node's config: the defaults (the runner's settings are the config's). */
function pairConfig(dataDir: string) {
  return { dataDir, config: parseConfig({}, "config.json"), databaseUrl: undefined };
}

export interface PairNode {
  side: "A" | "B";
  partner: string;
  db: Database;
  chain: ChainClient;
  runner: NodeRunner;
  gateway: RunningGateway;
  evidence: EvidenceStore;
  dir: string;
}

export interface PairSetup {
  target: DatabaseTarget;
  hardhat: HardhatNode;
  fx: ScriptedLedger;
  secret: Buffer;
  /** Extra gateway parts per node (an API with auth, say); the peer server is always served. */
  gateway?: (node: Omit<PairNode, "gateway">) => Partial<GatewayParts>;
  /**
   * Each node's `settlement.*` settings (default: the fast path on, as a node's config has it; approving
   * before the reveal off).
   */
  fastPath?: (side: "A" | "B") => Partial<FastPathOptions>;
}

async function startNode(
  setup: PairSetup,
  side: "A" | "B",
  wallet: Wallet,
  partner: string,
): Promise<PairNode> {
  const { target, hardhat, fx } = setup;
  const db = await target.open();
  const dir = tempDir("icl-pair-");
  await addPartner(db, { id: partner, name: partner, matchRules: [] });
  const rows = loadTariffDeck(PAIR_DECK, "deck.csv");
  const contentHash = crypto.createHash("sha256").update(PAIR_DECK).digest("hex");
  for (const direction of ["in", "out"] as const) {
    await importDeck(db, { partner, direction, name: "deck.csv", currency: "USD", contentHash, rows });
  }
  await addAgreement(db, {
    agreementId: fx.agreementId,
    name: "A-B",
    partnerId: partner,
    side,
    secret: setup.secret,
  });
  const chain = await createChainClient({
    rpcUrl: hardhat.url,
    deployment: fx.addresses,
    signer: wallet,
    db,
    logger: silentLogger,
  });
  const evidence = createLocalEvidenceStore(dir, silentLogger);
  const node = createNode({ config: pairConfig(dir), db, chain, evidence, logger: silentLogger });
  // The pair's gateways serve the peer protocol; a suite adds the API (with its own auth) when it needs it.
  const running = await startCarrierNode({
    node,
    chain,
    signer: wallet,
    listen: { host: "127.0.0.1", port: 0 },
    // Officers approve after the reveal unless a suite opts in: holding the reveal for approvals before
    // it (a node's default) is test/node/pre-reveal.test.ts's subject, and needs officers who sign.
    runner: { fastPath: { approveBeforeReveal: false, ...setup.fastPath?.(side) } },
    gateway: (runner) => ({
      node: null,
      chain: null,
      auth: null,
      trustProxy: undefined,
      ...setup.gateway?.({ side, partner, db, chain, runner, evidence, dir }),
    }),
  });
  return { side, partner, db, chain, runner: running.runner, evidence, dir, gateway: running.gateway };
}

/** Carrier A's node (partner CARRIER-B) and B's (partner CARRIER-A), each knowing the other's URL. */
export async function startPair(setup: PairSetup): Promise<{ a: PairNode; b: PairNode }> {
  const a = await startNode(setup, "A", setup.fx.nodeA, "CARRIER-B");
  const b = await startNode(setup, "B", setup.fx.nodeB, "CARRIER-A");
  await setAgreementPeer(a.db, "A-B", b.gateway.url);
  await setAgreementPeer(b.db, "A-B", a.gateway.url);
  return { a, b };
}

export async function stopPair(...nodes: (PairNode | undefined)[]): Promise<void> {
  for (const node of nodes) {
    if (!node) continue;
    await node.gateway.close();
    node.chain.close();
    await node.db.close();
    fs.rmSync(node.dir, { recursive: true, force: true });
  }
}

/**
 * Each side ingests its view of `calls` (every CDR accounted for, none rejected), closes the period and
 * commits; with `commit: false` it freezes the summary without committing, as `icl period close` does
 * when the running node is to try the fast path first.
 */
export async function closePairPeriod(
  setup: Pick<PairSetup, "hardhat" | "fx" | "secret">,
  nodes: readonly PairNode[],
  period: number,
  calls: readonly Call[],
  imperfections: { lostOnB?: Set<number>; skewOnBMs?: number; commit?: boolean } = {},
): Promise<void> {
  await openCommitWindow(setup.hardhat.provider, period);
  for (const node of nodes) {
    const onB = node.side === "B";
    const file = path.join(node.dir, `${period}.csv`);
    writeSideCdrs(file, calls, {
      side: node.side,
      partner: node.partner,
      lost: onB ? imperfections.lostOnB : undefined,
      skewMs: onB ? imperfections.skewOnBMs : undefined,
      batch: String(period),
    });
    const ingested = await ingestFile(node.db, file, "icl-csv", {
      mediation: {
        timeZone: "UTC",
        useGmtTime: false,
        numbering: { countryCode: "1", nationalPrefix: "0", internationalPrefix: "011" },
      },
      // The pair's month lies ahead of the machine's clock (the chain's clock is moved past it).
      plausibility: { rules: { start_in_future: "off" } },
    });
    const counts = ingested.file;
    expect(counts.rated + counts.unbilled + counts.rejected, "every CDR is accounted for").to.equal(
      counts.records,
    );
    if (counts.rejected > 0n) {
      const { rows } = await node.db.query<{ message: string; raw: string }>(
        "SELECT message, raw FROM rejects WHERE file_id = $1 LIMIT 1",
        [counts.id],
      );
      expect.fail(`${counts.rejected} generated CDRs rejected, e.g. ${JSON.stringify(rows[0])}`);
    }
    const agreement = await requireAgreement(node.db, "A-B");
    const mode = (imperfections.commit ?? true) ? "commit" : "freeze";
    await closePeriod({ db: node.db, chain: node.chain, fastPath: true }, agreement, period, mode);
  }
}

/** Runs both nodes' passes until neither has anything left to do; returns everything they did. */
export async function settlePair(a: PairNode, b: PairNode): Promise<{ a: PassReport[]; b: PassReport[] }> {
  const done = { a: [] as PassReport[], b: [] as PassReport[] };
  for (let i = 0; i < 4; i++) {
    done.a.push(await a.runner.pass());
    done.b.push(await b.runner.pass());
  }
  for (const report of [...done.a, ...done.b]) {
    expect(report.deferred, JSON.stringify(report.deferred)).to.deep.equal([]);
  }
  return done;
}
