/**
 * Carrier A's node on a scripted ledger, as the gateway's chain-backed route tests start it: a Hardhat
 * JSON-RPC node on 127.0.0.1 with the ledger deployed and agreement A-B registered (./hardhat.ts), a
 * database holding partner CARRIER-B and agreement A-B as carrier A's side, and A's chain client.
 */
import { createChainClient, type ChainClient, type ChainClientOptions } from "../../node/src/chain/client";
import { addAgreement } from "../../node/src/db/agreements";
import type { Database } from "../../node/src/db/database";
import { addPartner } from "../../node/src/db/partners";
import { silentLogger } from "../../node/src/logger";
import type { DatabaseTarget } from "./databases";
import { scriptLedger, startHardhatNode, type HardhatNode, type ScriptedLedger } from "./hardhat";

export interface CarrierAOnLedger {
  hardhat: HardhatNode;
  fx: ScriptedLedger;
  db: Database;
}

/** Starts the chain and opens A's database with the partner and the agreement (its `secret` salts). */
export async function carrierAOnLedger(
  target: DatabaseTarget,
  secret: Buffer = Buffer.alloc(32, 7),
): Promise<CarrierAOnLedger> {
  return carrierAOnChain(target, await startHardhatNode(), secret);
}

/** The same on a chain node already running (Anvil, say): the ledger scripted on it. */
export async function carrierAOnChain(
  target: DatabaseTarget,
  hardhat: HardhatNode,
  secret: Buffer = Buffer.alloc(32, 7),
): Promise<CarrierAOnLedger> {
  const fx = await scriptLedger(hardhat.provider);
  const db = await target.open();
  await addPartner(db, { id: "CARRIER-B", name: "Carrier B", matchRules: [] });
  await addAgreement(db, {
    agreementId: fx.agreementId,
    name: "A-B",
    partnerId: "CARRIER-B",
    side: "A",
    secret,
  });
  return { hardhat, fx, db };
}

/** A's chain client, sending with A's node key and polling receipts every 50 ms unless `options` say. */
export function carrierAChain(
  { hardhat, fx, db }: CarrierAOnLedger,
  options: Partial<ChainClientOptions> = {},
): Promise<ChainClient> {
  return createChainClient({
    rpcUrl: hardhat.url,
    deployment: fx.addresses,
    signer: fx.nodeA,
    db,
    logger: silentLogger,
    transactions: { pollIntervalMs: 50 },
    ...options,
  });
}
