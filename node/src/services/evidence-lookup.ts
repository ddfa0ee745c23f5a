/**
 * A period's evidence bundles as the node hands them to the two parties' officers: only a CID named
 * on chain for the period (a dispute step's evidence) or this node's discrepancy report's bundle, opened
 * with the agreement's key under whichever of the node's purposes sealed it.
 */
import type { ChainClient } from "../chain/client";
import { requireAgreement } from "../db/agreements";
import type { Database } from "../db/database";
import { loadReport } from "../db/reports";
import { deriveEvidenceKey, EvidenceBundleError, getEvidence } from "../evidence/bundle";
import type { EvidenceStore } from "../evidence/store";
import { NotFoundError } from "../errors";
import { formatPeriod } from "../reconciliation/reveal";
import type { TimelineService } from "./timeline";

/** The events whose CID is a party's sealed evidence for the period (not a ruling's public rationale). */
const EVIDENCE_EVENTS = new Set(["DisputeOpened", "DefaultContested", "FiguresProposed"]);
/** What this node seals evidence for (node/src/reconciliation/compare.ts, settlement/disputes.ts). */
export const EVIDENCE_PURPOSES = ["discrepancy-report", "dispute-evidence"] as const;
/** Commit-reveal rounds a period can have: the first and at most three corrections. */
const MAX_ROUND = 3;

export interface OpenedEvidence {
  agreement: string;
  period: number;
  cid: string;
  purpose: (typeof EVIDENCE_PURPOSES)[number];
  /** A file name to save it under, made from the stored agreement name, the period, purpose and CID. */
  fileName: string;
  /** The bundle's decrypted JSON payload, or `{ base64 }` for bytes. */
  content: unknown;
}

export interface EvidenceLookup {
  /**
   * Opens the evidence `cid` of the period.
   * @throws NotFoundError for an unknown agreement, a CID not named for the period, or a bundle that
   * does not open with the agreement's key; UnavailableError when the chain or the store cannot be read.
   */
  open(chain: ChainClient, agreement: string, period: number, cid: string): Promise<OpenedEvidence>;
}

/** The evidence lookup of a node on `db` and `evidence`, reading the period's events through `timeline`. */
export function evidenceLookup(
  db: Database,
  evidence: EvidenceStore,
  timeline: TimelineService,
): EvidenceLookup {
  return {
    async open(chain, ref, period, cid) {
      const agreement = await requireAgreement(db, ref);
      const named = new Set<string>();
      for (const e of await timeline.events(chain, agreement.agreementId, period)) {
        const found = e.args.evidenceCid;
        if (EVIDENCE_EVENTS.has(e.name) && typeof found === "string" && found !== "") named.add(found);
      }
      for (let round = 0; round <= MAX_ROUND; round++) {
        const found = (await loadReport(db, agreement.agreementId, period, round))?.evidenceCid;
        if (found) named.add(found);
      }
      const missing = new NotFoundError(`no evidence ${cid} for ${agreement.name} ${period}`);
      if (!named.has(cid)) throw missing;
      const key = deriveEvidenceKey(agreement.secret, agreement.agreementId, period);
      for (const purpose of EVIDENCE_PURPOSES) {
        let content: object | Uint8Array;
        try {
          content = await getEvidence(evidence, cid, key, {
            agreementId: agreement.agreementId,
            period,
            purpose,
          });
        } catch (error) {
          // GCM cannot tell a wrong purpose from another key: try the next purpose, then give up.
          if (error instanceof EvidenceBundleError) continue;
          throw error;
        }
        return {
          agreement: agreement.name,
          period,
          cid,
          purpose,
          fileName: evidenceFileName(agreement.name, period, purpose, cid),
          content:
            content instanceof Uint8Array ? { base64: Buffer.from(content).toString("base64") } : content,
        };
      }
      throw missing;
    },
  };
}

function evidenceFileName(agreement: string, period: number, purpose: string, cid: string): string {
  // Built from the stored agreement name (NAME_PATTERN), digits, a fixed purpose and a parsed CID only.
  return `${agreement.replace(/[^A-Za-z0-9_.-]/g, "_")}-${formatPeriod(period)}-${purpose}-${cid}.json`;
}
