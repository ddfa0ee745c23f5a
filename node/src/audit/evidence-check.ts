/**
 * Evidence named on chain (DisputeOpened, DefaultContested, FiguresProposed, DisputeRuled) must be
 * in the regulator's evidence store, and its bytes must hash to the CID.
 */
import { NotFoundError } from "../errors";
import { EvidenceIntegrityError, parseRawBlockCid } from "../evidence/cid";
import type { EvidenceStore } from "../evidence/store";
import type { Replay } from "./replay";

/** Checks every cited CID; returns how many were checked. */
export async function checkEvidence(replay: Replay, store: EvidenceStore): Promise<number> {
  let checked = 0;
  for (const ref of replay.evidence) {
    const where = { agreementId: ref.agreementId, period: ref.period };
    checked++;
    try {
      parseRawBlockCid(ref.cid);
    } catch {
      replay.add(
        "warning",
        "evidence-invalid-cid",
        ref.at,
        where,
        `${ref.event} cites ${JSON.stringify(ref.cid.slice(0, 80))}, not a CIDv1 raw sha2-256 CID: it cannot be checked`,
      );
      continue;
    }
    // `has` first: a Kubo node asked to `get` a block it lacks searches the network until its timeout.
    // An unreachable store ends the audit (UnavailableError, exit 69): its verdict would be incomplete.
    if (!(await store.has(ref.cid))) {
      replay.add(
        "error",
        "evidence-missing",
        ref.at,
        where,
        `${ref.event} cites ${ref.cid}, which the evidence store lacks`,
      );
      continue;
    }
    try {
      await store.get(ref.cid);
    } catch (error) {
      if (error instanceof EvidenceIntegrityError) {
        replay.add(
          "error",
          "evidence-corrupt",
          ref.at,
          where,
          `${ref.event} cites ${ref.cid}: ${error.details ?? error.shortMessage}`,
        );
      } else if (error instanceof NotFoundError) {
        replay.add(
          "error",
          "evidence-missing",
          ref.at,
          where,
          `${ref.event} cites ${ref.cid}, which the evidence store lacks`,
        );
      } else {
        throw error;
      }
    }
  }
  return checked;
}
