/**
 * Evidence named on chain (DisputeOpened, DefaultContested, FiguresProposed, DisputeRuled) must be
 * in the regulator's evidence store, whole: a raw block (`bafkrei…`) that hashes to its CID, or a
 * UnixFS DAG (`bafybei…`) whose every block is present and hashes to its CID.
 */
import { NotFoundError } from "../errors";
import { EvidenceIntegrityError, isBlockCid } from "../evidence/cid";
import type { EvidenceStore } from "../evidence/store";
import type { Replay } from "./replay";

/** Checks every cited CID; returns how many were checked. */
export async function checkEvidence(replay: Replay, store: EvidenceStore): Promise<number> {
  let checked = 0;
  for (const ref of replay.evidence) {
    const where = { agreementId: ref.agreementId, period: ref.period };
    checked++;
    if (!isBlockCid(ref.cid)) {
      replay.add(
        "warning",
        "evidence-invalid-cid",
        ref.at,
        where,
        `${ref.event} cites ${JSON.stringify(ref.cid.slice(0, 80))}, not an evidence CID (CIDv1 raw or dag-pb, sha2-256): it cannot be checked`,
      );
      continue;
    }
    const missing = () =>
      replay.add(
        "error",
        "evidence-missing",
        ref.at,
        where,
        `${ref.event} cites ${ref.cid}, which the evidence store lacks (whole or in part)`,
      );
    try {
      // `has` first, which for a DAG walks every block offline: a Kubo node asked to `get` a block it
      // lacks searches the network until its timeout. An unreachable store ends the audit
      // (UnavailableError, exit 69): its verdict would be incomplete.
      if (!(await store.has(ref.cid))) {
        missing();
        continue;
      }
      // Reads every block and checks it against its CID.
      await store.get(ref.cid);
    } catch (error) {
      if (error instanceof EvidenceIntegrityError) {
        replay.add(
          "error",
          "evidence-corrupt",
          ref.at,
          where,
          `${ref.event} cites ${ref.cid}: ${error.shortMessage}${error.details ? ` (${error.details})` : ""}`,
        );
      } else if (error instanceof NotFoundError) {
        missing();
      } else {
        throw error;
      }
    }
  }
  return checked;
}
