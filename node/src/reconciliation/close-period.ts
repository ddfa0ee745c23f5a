/**
 * Closing an agreement-period: this node's usage summary built (or the final one taken as it is),
 * frozen when it is to be committed or co-signed, and committed to the ledger unless the co-signed
 * fast path is to settle it. `icl period close`, the demo and the tests all close a period here.
 */
import type { ChainClient } from "../chain/client";
import type { LocalAgreement } from "../db/agreements";
import type { Database } from "../db/database";
import { loadSummary, type StoredSummary } from "../db/summaries";
import { buildSummary, type UsageSummary } from "../summaries/build-summary";
import { periodSalt } from "../summaries/encoding";
import { InputError } from "../errors";
import { commitSummary, type CommitResult } from "./commit";

/**
 * What a close does after building the summary:
 * - `store`: stores it, still open to a rebuild (a node without chain settings);
 * - `freeze`: makes it final without committing (the fast path co-signs it);
 * - `commit`: makes it final and commits it now (commit–reveal);
 * - `auto`: as `freeze` when the fast path may settle the period (on in the config, a peer URL for
 *   the agreement, and this node's commitment not on the ledger yet), else as `commit`.
 */
export type CloseMode = "store" | "freeze" | "commit" | "auto";

export interface ClosedPeriod {
  /** The summary as built now, or the final one as it was stored. */
  summary: UsageSummary | StoredSummary;
  commit: CommitResult | null;
  /** Frozen and not committed: the running node tries the co-signed fast path first. */
  awaitingFastPath: boolean;
}

export interface ClosingParts {
  db: Database;
  /**
   * The ledger with the node key, or a function that opens it when first needed (the CLI asks for the
   * key's password only then; it may be called twice, and the caller closes what it opened).
   */
  chain: ChainClient | (() => Promise<ChainClient>) | null;
  /** `settlement.fastPath` of the config (for `auto`). */
  fastPath: boolean;
}

type Closing = LocalAgreement & { secret: Uint8Array };

/**
 * Closes `period` of `agreement` on this node (see {@link CloseMode}). A summary already final is not
 * rebuilt, and committing it again sends nothing twice.
 * @throws InputError for a malformed request, an ingest that may touch the period still unfinished,
 * or `commit`/`auto` without a chain; ConflictError when the ledger refuses the commitment;
 * UnavailableError when the chain or the database cannot be reached.
 */
export async function closePeriod(
  parts: ClosingParts,
  agreement: Closing,
  period: number,
  mode: CloseMode,
): Promise<ClosedPeriod> {
  const { db } = parts;
  const chain = async (): Promise<ChainClient> => {
    if (typeof parts.chain === "function") return parts.chain();
    if (parts.chain === null) throw new InputError("this node has no chain settings (config.json `chain`)");
    return parts.chain;
  };
  const stored = await loadSummary(db, agreement.agreementId, period, { leaves: false });
  const summary =
    stored !== null && stored.committedAt !== null
      ? stored
      : await buildSummary(
          db,
          {
            agreementId: agreement.agreementId,
            period,
            partnerId: agreement.partnerId,
            side: agreement.side,
          },
          periodSalt(agreement.secret, agreement.agreementId, period),
          // Frozen in the same locked transaction when it is to be final: what goes on chain is exactly it.
          { freeze: mode !== "store" },
        );
  // The fast path needs the partner's node; without a peer URL there is nobody to co-sign with.
  const awaitingFastPath =
    mode === "freeze" ||
    (mode === "auto" &&
      parts.fastPath &&
      agreement.peerUrl !== null &&
      (stored === null ||
        stored.committedAt === null ||
        !(await committedOnChain(await chain(), agreement, period))));
  const commit =
    mode === "store" || awaitingFastPath ? null : await commitSummary(db, await chain(), agreement, period);
  return { summary, commit, awaitingFastPath };
}

/** Whether this node's commitment of the period is on chain already (a fast path is then out). */
async function committedOnChain(
  chain: ChainClient,
  agreement: Pick<LocalAgreement, "agreementId" | "side">,
  period: number,
): Promise<boolean> {
  const record = await chain.ledger.periodRecord(agreement.agreementId, period);
  const ours = agreement.side === "A" ? record.hashA : record.hashB;
  return !/^0x0{64}$/i.test(ours);
}
