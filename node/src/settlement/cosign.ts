/**
 * Officers' signatures for the co-signed fast path. Each carrier's officers sign one EIP-712
 * `Settlement` (protocol/eip712.ts): the root and totals of the summary their own node built, valid
 * until round 0's commit deadline, which both nodes read from the ledger, so both carriers sign the
 * same struct exactly when their summaries are equal. A signature is kept only when it recovers, over
 * this node's own `Settlement`, to a current officer of the carrier it is for: a partner's signature
 * over other figures recovers to someone else and is refused, so no figure ever has to be compared
 * in the clear.
 */
import type { Wallet } from "ethers";
import type { ChainClient } from "../chain/client";
import { officerSigner } from "../chain/officer-signer";
import type { Database, Queryable } from "../db/database";
import { listSettlementSignatures, loadFastPathAttempt, saveSettlementSignature } from "../db/fast-path";
import { loadSummary } from "../db/summaries";
import { ConflictError, InputError } from "../errors";
import {
  PERIOD_STATES,
  SETTLEMENT_TYPES,
  fastPathOpen,
  settlementDigest,
  type SettlementData,
} from "../protocol";
import { carrierName, isoTime } from "./period-context";

/**
 * The `Settlement` this node's frozen summary of the period gives: its root and totals, valid until
 * round 0's commit deadline (the ledger's `deadlines`), the one deadline both carriers sign.
 * @throws InputError when the period's summary is not closed (built and frozen) on this node.
 */
export async function ourSettlement(
  db: Queryable,
  chain: ChainClient,
  agreement: { agreementId: string; name: string },
  period: number,
): Promise<SettlementData> {
  const summary = await loadSummary(db, agreement.agreementId, period, { leaves: false });
  if (summary === null || summary.committedAt === null) {
    throw new InputError(
      `${agreement.name} ${period} is not closed on this node (icl period close builds and freezes its summary)`,
    );
  }
  const deadlines = await chain.ledger.deadlines(agreement.agreementId, period);
  return {
    agreementId: agreement.agreementId.toLowerCase(),
    period,
    root: summary.root.toLowerCase(),
    amountAB: summary.amountAB,
    amountBA: summary.amountBA,
    deadline: deadlines.commitDeadline,
  };
}

/** Signs `settlement` with an officer's key (EIP-712, the ledger's domain). */
export async function signSettlement(
  chain: ChainClient,
  wallet: Wallet,
  settlement: SettlementData,
): Promise<string> {
  return wallet.signTypedData(chain.ledgerDomain, SETTLEMENT_TYPES, settlement);
}

/**
 * Who signed `settlement` with `signature` (the ledger's domain): the ECDSA key, or the contract officer
 * whose wallet validates it (chain/officer-signer.ts).
 * @returns the officer's address (lower case).
 * @throws InputError for a malformed signature; ConflictError naming the contract officer that does not
 * validate it; UnavailableError when the chain cannot be read.
 */
export async function settlementSigner(
  chain: ChainClient,
  settlement: SettlementData,
  signature: string,
): Promise<string> {
  return (
    await officerSigner(chain, settlementDigest(chain.ledgerDomain, settlement), signature)
  ).toLowerCase();
}

/**
 * Checks a signature over this node's own `settlement` and keeps it: it must be a current officer's of
 * `carrierId` (this carrier's or the partner's; an ECDSA key or an ERC-1271 contract officer) before the
 * deadline.
 * @returns the officer's address (lower case).
 * @throws InputError for a malformed signature; ConflictError when it is not a current officer's over
 * exactly these figures (a contract officer that does not validate it is named), or expired;
 * UnavailableError when the chain cannot be read.
 */
export async function acceptSettlementSignature(
  db: Database,
  chain: ChainClient,
  settlement: SettlementData,
  carrierId: string,
  signature: string,
  chainNow: bigint,
): Promise<string> {
  const officer = await settlementSigner(chain, settlement, signature);
  if (!(await chain.registry.isOfficer(carrierId, officer))) {
    throw new ConflictError(
      `refused: the signature is not a current officer of ${carrierName(carrierId)}'s over this node's figures`,
      `it recovers to ${officer} over root ${settlement.root}, A→B ${settlement.amountAB}, B→A ${settlement.amountBA}`,
    );
  }
  if (settlement.deadline < chainNow) {
    throw new ConflictError(`refused: the settlement expired at ${isoTime(settlement.deadline)}`);
  }
  await saveSettlementSignature(db, { carrierId, officer, settlement, signature });
  return officer;
}

/** Signatures over exactly `settlement` from current officers of `carrierId`, and its threshold now. */
export async function gatheredSignatures(
  db: Queryable,
  chain: ChainClient,
  settlement: SettlementData,
  carrierId: string,
): Promise<{ officers: string[]; signatures: string[]; threshold: number }> {
  const stored = await listSettlementSignatures(db, settlement.agreementId, settlement.period, carrierId);
  const officers: string[] = [];
  const signatures: string[] = [];
  for (const s of stored) {
    const same =
      s.settlement.root === settlement.root.toLowerCase() &&
      s.settlement.amountAB === settlement.amountAB &&
      s.settlement.amountBA === settlement.amountBA &&
      s.settlement.deadline === settlement.deadline;
    if (same && (await chain.registry.isOfficer(carrierId, s.officer))) {
      officers.push(s.officer);
      signatures.push(s.signature);
    }
  }
  return { officers, signatures, threshold: Number(await chain.registry.thresholdOf(carrierId)) };
}

/**
 * Whether this node leaves the period to the fast path now, and if not why, in words for a person: its
 * summary is closed (frozen) but not committed on chain, the ledger still allows the fast path
 * (fast-path.ts `fastPathOpen`) and the attempt was not given up. An officer's approval of such a period
 * is a `Settlement` signature.
 */
export async function fastPathStatus(
  db: Queryable,
  chain: ChainClient,
  agreement: { agreementId: string; side: "A" | "B" },
  period: number,
  enabled: boolean,
): Promise<{ awaits: true } | { awaits: false; reason: string }> {
  const no = (reason: string) => ({ awaits: false as const, reason });
  if (!enabled) return no("this node takes no fast path (settlement.fastPath is off)");
  const summary = await loadSummary(db, agreement.agreementId, period, { leaves: false });
  if (summary === null || summary.committedAt === null) {
    return no("this node has not closed it (icl period close builds and freezes its summary)");
  }
  const { declined } = await loadFastPathAttempt(db, agreement.agreementId, period);
  if (declined !== null) return no(`this node gave the fast path up (${declined})`);
  const [state, record] = await Promise.all([
    chain.ledger.state(agreement.agreementId, period),
    chain.ledger.periodRecord(agreement.agreementId, period),
  ]);
  const ours = agreement.side === "A" ? record.hashA : record.hashB;
  if (!/^0x0{64}$/i.test(ours)) {
    return no("this node committed its summary on the ledger: the period goes on by commit–reveal");
  }
  if (!fastPathOpen(state, record)) {
    const name = PERIOD_STATES[Number(state)] ?? String(state);
    return no(`the ledger takes no fast path for it now (the period is ${name}, round ${record.round})`);
  }
  return { awaits: true };
}

/** {@link fastPathStatus} without the reason. */
export async function awaitsFastPath(
  db: Queryable,
  chain: ChainClient,
  agreement: { agreementId: string; side: "A" | "B" },
  period: number,
  enabled: boolean,
): Promise<boolean> {
  return (await fastPathStatus(db, chain, agreement, period, enabled)).awaits;
}
