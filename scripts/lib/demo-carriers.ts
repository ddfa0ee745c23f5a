/**
 * The demo's carriers as nodes: their agreed (and one disagreed) tariff decks, their switches and the
 * match rules that tell partners apart in them, and a carrier node's set-up, start and abrupt stop —
 * everything scripts/demo.ts runs the scenario on.
 */
import crypto from "node:crypto";
import type { Wallet } from "ethers";
import type { RunningGateway } from "../../gateway/src/gateway";
import { startCarrierNode } from "../../node/src/carrier-node";
import { createChainClient, type ChainClient } from "../../node/src/chain/client";
import type { Consortium, ConsortiumCarrier } from "./consortium";
import { hardhatWallet } from "./hardhat-node";
import { parseConfig, type NodeConfig } from "../../node/src/config/config";
import { createLocalEvidenceStore } from "../../node/src/evidence/local-store";
import type { EvidenceStore } from "../../node/src/evidence/store";
import { silentLogger } from "../../node/src/logger";
import type { MatchRule } from "../../node/src/mediation/types";
import { createNode, type CarrierNode } from "../../node/src/node";
import { recordServices } from "../../node/src/services/records";
import { loadTariffDeck } from "../../node/src/rating/tariff-deck";
import type { NodeRunner } from "../../node/src/reconciliation/runner";
import { interconnectDeck } from "./generate-cdrs";
import { ICL_SWITCH, type SwitchProfile } from "./traffic";

const GERMANY_MOBILE = "voice,497,Germany - Mobile,0.0213,0.0005,1,1,,,,,,,";

/**
 * The agreed deck: four dozen destinations with their increments, and Germany's mobile rate cut from
 * 0.0213 to 0.0189 a minute on 16 January (a mid-month change both carriers apply).
 */
export function demoDeck(): string {
  const deck = interconnectDeck();
  if (!deck.includes(GERMANY_MOBILE)) throw new Error("the generated deck lacks the Germany mobile row");
  return deck.replace(
    GERMANY_MOBILE,
    "voice,497,Germany - Mobile,0.0213,0.0005,1,1,,2030-01-16,,,,,\n" +
      "voice,497,Germany - Mobile,0.0189,0.0005,1,1,2030-01-16,,,,,,",
  );
}

/** INITECH's deck for GLOBEX: it never loaded the agreed French fixed rate (0.0060 instead of 0.0049). */
export function disagreedDeck(): string {
  const deck = demoDeck();
  const changed = deck.replace(/^voice,33,France - Fixed,[0-9.]+,/m, "voice,33,France - Fixed,0.0060,");
  if (changed === deck) throw new Error("the generated deck lacks the France fixed row");
  return changed;
}

/** The deck `carrier` loaded for `partner`: the agreed one, but INITECH's for GLOBEX (disagreedDeck). */
export function deckOf(carrier: string, partner: string): string {
  return carrier === "INITECH" && partner === "GLOBEX" ? disagreedDeck() : demoDeck();
}

/**
 * Each carrier's switch: ACME's mediation platform writes icl-csv in UTC; GLOBEX runs Asterisk in
 * Berlin (Master.csv, local time, German dialling: `0…` at home, `00…` abroad); INITECH runs
 * FreeSWITCH in Paris (`mod_cdr_csv`, local time, French dialling). The trunk to a partner carries the
 * partner's name in lower case (`SIP/globex-…` channels, `from-globex` contexts).
 */
export const SWITCHES: Record<string, Omit<SwitchProfile, "trunk">> = {
  ACME: { ...ICL_SWITCH },
  GLOBEX: {
    format: "asterisk",
    timeZone: "Europe/Berlin",
    numbering: { countryCode: "49", nationalPrefix: "0", internationalPrefix: "00" },
  },
  INITECH: {
    format: "freeswitch",
    timeZone: "Europe/Paris",
    numbering: { countryCode: "33", nationalPrefix: "0", internationalPrefix: "00" },
  },
};

/**
 * Each carrier node's own staff, who sign in by the node's config rather than the ledger's registry:
 * an operator (`gateway.operators`: ingest) and an admin (`gateway.admins`: API tokens). Keys 20–25 of
 * Hardhat's public test mnemonic, past the accounts the consortium uses; they never send a transaction,
 * so they hold no ether.
 */
export const STAFF: Record<ConsortiumCarrier["name"], { operator: Wallet; admin: Wallet }> = {
  ACME: { operator: hardhatWallet(20), admin: hardhatWallet(21) },
  GLOBEX: { operator: hardhatWallet(22), admin: hardhatWallet(23) },
  INITECH: { operator: hardhatWallet(24), admin: hardhatWallet(25) },
};

/**
 * A carrier node's config.json: its switch's zone and dialling, and its staff (STAFF). The demo's
 * months are in 2030, ahead of the machine's clock (the chain's clock is moved past them), so the
 * plausibility rule that rejects calls starting in the future is off.
 */
export function demoConfig(carrier: ConsortiumCarrier["name"]): NodeConfig {
  return parseConfig(demoConfigFile(carrier), "config.json");
}

/** The sections of demoConfig as they stand in config.json (what a node started by `icl run` reads). */
export function demoConfigFile(carrier: ConsortiumCarrier["name"]) {
  const profile = SWITCHES[carrier]!;
  return {
    mediation: {
      timeZone: profile.timeZone,
      plausibility: { rules: { start_in_future: "off" as const } },
    },
    numbering: profile.numbering,
    // The consoles are served over plain http on 127.0.0.1.
    gateway: {
      cookieSecure: false,
      operators: [STAFF[carrier].operator.address],
      admins: [STAFF[carrier].admin.address],
    },
  };
}

/** How a carrier's node tells its partners' calls apart in its switch's CDRs. */
export function matchRules(carrier: string, partner: string): MatchRule[] {
  const trunk = partner.toLowerCase();
  switch (SWITCHES[carrier]!.format) {
    case "asterisk":
      return [
        { partner, direction: "out", field: "dstchannel", pattern: `^SIP/${trunk}-` },
        { partner, direction: "in", field: "channel", pattern: `^SIP/${trunk}-` },
      ];
    case "freeswitch":
      return [
        { partner, direction: "in", field: "context", pattern: `^from-${trunk}$` },
        { partner, direction: "out", field: "accountcode", pattern: `^${trunk}-out$` },
      ];
    default:
      return []; // icl-csv names the partner in every row
  }
}

type Database = CarrierNode["db"];

export interface DemoNode {
  carrier: ConsortiumCarrier;
  /** The node's services (its records, periods, approvals…). */
  node: CarrierNode;
  db: Database;
  chain: ChainClient;
  runner: NodeRunner;
  evidence: EvidenceStore;
  gateway: RunningGateway;
  dir: string;
}

export function nodeOf(nodes: readonly DemoNode[], carrier: ConsortiumCarrier): DemoNode {
  return nodes.find((n) => n.carrier.name === carrier.name)!;
}

/** A carrier's partners (with its switch's match rules), tariff decks and agreements, in its new database. */
export async function setUpCarrier(
  db: Database,
  c: Consortium,
  carrier: ConsortiumCarrier,
  secrets: Map<string, Buffer>,
): Promise<void> {
  const records = recordServices(db);
  for (const agreement of Object.values(c.agreements)) {
    const side = agreement.a.name === carrier.name ? "A" : agreement.b.name === carrier.name ? "B" : null;
    if (side === null) continue;
    const partner = side === "A" ? agreement.b.name : agreement.a.name;
    await records.partners.add({ id: partner, name: partner, matchRules: matchRules(carrier.name, partner) });
    const deck = deckOf(carrier.name, partner);
    const rows = loadTariffDeck(deck, "deck.csv");
    const contentHash = crypto.createHash("sha256").update(deck).digest("hex");
    for (const direction of ["in", "out"] as const) {
      await records.tariffs.importDeck({
        partner,
        direction,
        name: `${partner}-${direction}`,
        currency: "USD",
        contentHash,
        rows,
      });
    }
    await records.agreements.add({
      agreementId: agreement.agreementId,
      name: agreement.name,
      partnerId: partner,
      side,
      secret: secrets.get(agreement.name)!,
    });
  }
}

/** A carrier's node on `db`: chain client with its node key, evidence store, runner, gateway on 127.0.0.1. */
export async function startNode(
  c: Consortium,
  carrier: ConsortiumCarrier,
  rpcUrl: string,
  db: Database,
  dir: string,
): Promise<DemoNode> {
  const chain = await createChainClient({
    rpcUrl,
    deployment: c.addresses,
    signer: carrier.node,
    db,
    logger: silentLogger,
  });
  try {
    const evidence = createLocalEvidenceStore(dir, silentLogger);
    const node = createNode({
      config: { dataDir: dir, config: demoConfig(carrier.name), databaseUrl: undefined },
      db,
      chain,
      evidence,
      logger: silentLogger,
    });
    // The scenario settles each period itself, step by step, so that it can print them.
    const running = await startCarrierNode({
      node,
      chain,
      signer: carrier.node,
      listen: { host: "127.0.0.1", port: 0 },
      runner: { watch: { autoSettle: false } },
    });
    return { carrier, node, db, chain, runner: running.runner, evidence, gateway: running.gateway, dir };
  } catch (error) {
    chain.close();
    throw error;
  }
}

export async function closeNode(n: DemoNode): Promise<void> {
  await n.gateway.close();
  n.chain.close();
  await n.db.close();
}
