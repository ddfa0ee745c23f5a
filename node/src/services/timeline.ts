/**
 * A period's ledger timeline as the node's event index holds it: every event of the ledger for the
 * period in chain order, the index brought up to the chain's head first, each with its block time.
 */
import { getAddress } from "ethers";
import type { ChainClient } from "../chain/client";
import { listChainEvents, type ChainEventRow } from "../db/chain-store";
import type { Database } from "../db/database";
import { UnavailableError } from "../errors";
import { reasonName } from "../settlement/disputes";
import { carrierName, chainCall } from "../settlement/escrow-tokens";
import { requirePeriodOnLedger, resolveAgreement, type AgreementScope } from "./ledger-periods";

/** How long a request waits for the event index to reach the chain's head before giving up. */
export const INDEX_WAIT_MS = 10_000;

const OUTCOME_NAMES = ["None", "Matched", "Reconciled", "Mismatched"];

const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : null);

/** One ledger event of a period, as the timeline shows it (amounts in micro-units, decimal strings). */
export interface TimelineEvent {
  block: string;
  time: string;
  tx: string;
  logIndex: number;
  event: string;
  carrier: string | null;
  carrierId: string | null;
  address: string | null;
  round: number | null;
  outcome: string | null;
  reason: string | null;
  partialSettlement: boolean | null;
  amountAB: string | null;
  amountBA: string | null;
  netAB: string | null;
  /** The evidence (or ruling rationale) named on chain. */
  cid: string | null;
}

export interface Timeline {
  agreement: string;
  agreementId: string;
  period: number;
  events: TimelineEvent[];
}

export interface TimelineService {
  /**
   * The period's indexed SettlementLedger events, the index brought up to the chain's head first.
   * @throws UnavailableError when the RPC node does not let it catch up within {@link INDEX_WAIT_MS}:
   * a timeline short of the head is never answered as the whole one.
   */
  events(chain: ChainClient, agreementId: string, period: number): Promise<ChainEventRow[]>;
  /**
   * The period's timeline (see {@link TimelineEvent}); with `outsiders`, also of an agreement this node
   * is not party to, by its 0x id (the index holds every ledger event).
   * @throws NotFoundError for an unknown agreement or a month it has no period for (see
   * {@link requirePeriodOnLedger}); UnavailableError as {@link TimelineService.events}, or when a block is
   * missing on the chain node.
   */
  timeline(chain: ChainClient, agreement: string, period: number, scope?: AgreementScope): Promise<Timeline>;
}

/** The timeline service of a node on `db`. Throws nothing. */
export function timelineService(db: Database): TimelineService {
  const events: TimelineService["events"] = async (chain, agreementId, period) => {
    const signal = AbortSignal.timeout(INDEX_WAIT_MS);
    await chain.indexer.sync(signal);
    if (signal.aborted) {
      throw new UnavailableError("the chain node did not let the event index catch up in time", {
        code: "RPC_UNAVAILABLE",
      });
    }
    const rows = await listChainEvents(db, {
      chainId: chain.chainId,
      agreementId: agreementId.toLowerCase(),
      period,
    });
    return rows.filter((e) => e.contract === "SettlementLedger");
  };
  return {
    events,
    async timeline(chain, ref, period, scope = {}) {
      const agreement = await resolveAgreement(db, chain, ref, scope);
      await requirePeriodOnLedger(chain, agreement, period);
      const found = await events(chain, agreement.agreementId, period);
      const times = await blockTimes(
        chain,
        found.map((e) => e.blockNumber),
      );
      return {
        agreement: agreement.name,
        agreementId: agreement.agreementId,
        period,
        events: found.map((e) => {
          const a = e.args;
          const address = text(a.signer) ?? text(a.arbiter);
          return {
            block: e.blockNumber.toString(),
            time: times.get(e.blockNumber)!,
            tx: e.txHash,
            logIndex: e.logIndex,
            event: e.name,
            carrier: e.carrierId === null ? null : carrierName(e.carrierId),
            carrierId: e.carrierId,
            address: address === null ? null : getAddress(address),
            round: text(a.round) === null ? null : Number(a.round),
            outcome: e.name === "Evaluated" ? (OUTCOME_NAMES[Number(a.outcome)] ?? String(a.outcome)) : null,
            reason: text(a.reasonCode) === null ? null : reasonName(Number(a.reasonCode)),
            partialSettlement: typeof a.partialSettlement === "boolean" ? a.partialSettlement : null,
            amountAB: text(a.amountAB),
            amountBA: text(a.amountBA),
            netAB: text(a.netAB),
            cid: text(a.evidenceCid) ?? text(a.rationaleCid),
          };
        }),
      };
    },
  };
}

/** Block times, each block asked once. @throws UnavailableError when the chain node is unreachable. */
async function blockTimes(chain: ChainClient, blocks: readonly bigint[]): Promise<Map<bigint, string>> {
  const times = new Map<bigint, string>();
  for (const block of new Set(blocks)) {
    const found = await chainCall("eth_getBlockByNumber", () => chain.provider.getBlock(block));
    if (found === null) throw new UnavailableError(`block ${block} is missing on the chain node`);
    times.set(block, new Date(found.timestamp * 1000).toISOString());
  }
  return times;
}
