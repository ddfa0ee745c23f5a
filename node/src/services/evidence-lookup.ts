/**
 * A period's evidence as the node hands it to the people who should see it:
 *
 * - the two parties' officers: a bundle the ledger names for the period (a dispute step's evidence) or
 *   this node's discrepancy report's bundle, opened with the agreement's key under whichever of the
 *   node's purposes sealed it. A bundle the other party cited sits in its node's store: when this node
 *   lacks it, it fetches it from the partner's node (evidence-exchange.ts), checks it and keeps it;
 * - the arbiter, once the dispute is escalated: the same bundle opened here and re-sealed to the
 *   arbiter's own key (evidence/arbiter-seal.ts), kept in this node's store, which the arbiter's console
 *   opens with the arbiter's key;
 * - everyone who sees the period: the ruling's rationale, public text the ledger names with the ruling.
 *
 * Every failure says what went wrong in words: not named for the period, held by neither node, the
 * partner's node unreachable, bytes that are not the CID's, a bundle that does not open.
 */
import { computeAddress, getAddress } from "ethers";
import type { ChainClient } from "../chain/client";
import { requireAgreement } from "../db/agreements";
import type { Database } from "../db/database";
import { loadReport } from "../db/reports";
import { compressedPublicKey, sealForArbiter } from "../evidence/arbiter-seal";
import { deriveEvidenceKey, EvidenceBundleError, openEvidence } from "../evidence/bundle";
import { EvidenceIntegrityError } from "../evidence/cid";
import type { EvidenceStore } from "../evidence/store";
import { BaseError, ConflictError, InputError, NotFoundError, UnavailableError } from "../errors";
import { namedOnChain, type NamedKind, type PartnerEvidence } from "../reconciliation/evidence-exchange";
import { PeerRefusedError } from "../reconciliation/peer-client";
import { formatPeriod } from "../reconciliation/reveal";
import { loadPeriodContext } from "../settlement/period-context";
import type { TimelineService } from "./timeline";

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
  /** Where the bundle came from: this node's store, or the partner's node just now. */
  source: "local" | "partner";
}

/** A bundle re-sealed to the arbiter's key: the bytes the arbiter's console opens. */
export interface ArbiterCopy {
  agreement: string;
  period: number;
  /** The bundle named on chain. */
  cid: string;
  /** The arbiter's copy in this node's store. */
  arbiterCid: string;
  purpose: OpenedEvidence["purpose"];
  fileName: string;
  /** The copy's bytes (evidence/arbiter-seal.ts format), base64. */
  sealed: string;
}

export interface Rationale {
  agreement: string;
  period: number;
  cid: string;
  text: string;
}

export interface EvidenceLookup {
  /**
   * Opens the evidence `cid` of the period: from this node's store, else from the partner's node
   * (`partner`), checked against the CID and kept.
   * @throws NotFoundError for an unknown agreement, a CID not named for the period, or one neither
   * node holds; ConflictError for bytes that are not the CID's or a bundle that does not open with the
   * agreement's key; UnavailableError when the chain, the store or the partner's node cannot be reached.
   */
  open(
    chain: ChainClient,
    agreement: string,
    period: number,
    cid: string,
    partner?: PartnerEvidence | null,
  ): Promise<OpenedEvidence>;
  /**
   * The evidence `cid` re-sealed to `arbiter`'s public key, stored in this node's store.
   * @throws ConflictError when `arbiter.address` is not the agreement's arbiter or the dispute is not
   * escalated; InputError when the public key is not the address's; as {@link EvidenceLookup.open}.
   */
  arbiterCopy(
    chain: ChainClient,
    agreement: string,
    period: number,
    cid: string,
    arbiter: { address: string; publicKey: string },
    partner?: PartnerEvidence | null,
  ): Promise<ArbiterCopy>;
  /**
   * The rationale `cid` of the period's ruling, as text: from this node's store, else the partner's.
   * @throws NotFoundError when the ledger names no such rationale for the period or neither node holds
   * it; ConflictError when it is not text or not the CID's bytes; UnavailableError as for `open`.
   */
  rationale(
    chain: ChainClient,
    agreement: string,
    period: number,
    cid: string,
    partner?: PartnerEvidence | null,
  ): Promise<Rationale>;
}

/** The evidence lookup of a node on `db` and `evidence`, reading the period's events through `timeline`. */
export function evidenceLookup(
  db: Database,
  evidence: EvidenceStore,
  timeline: TimelineService,
): EvidenceLookup {
  /** The bundle's bytes, fetched from the partner into this store first when this node lacks them. */
  async function bytesOf(
    label: string,
    agreementId: string,
    period: number,
    cid: string,
    partner: PartnerEvidence | null,
  ): Promise<{ bytes: Uint8Array; source: OpenedEvidence["source"] }> {
    if (await evidence.has(cid)) return { bytes: await readStored(cid), source: "local" };
    if (partner === null) {
      throw new NotFoundError(
        `this node does not hold evidence ${cid} of ${label}, and it cannot ask the partner's node`,
      );
    }
    try {
      await partner(agreementId, period, cid);
    } catch (error) {
      throw partnerFailure(error, label, cid);
    }
    return { bytes: await readStored(cid), source: "partner" };
  }

  async function readStored(cid: string): Promise<Uint8Array> {
    try {
      return await evidence.get(cid);
    } catch (error) {
      if (error instanceof EvidenceIntegrityError) {
        throw new ConflictError(
          `this node's copy of evidence ${cid} is damaged: its bytes are not the CID's`,
        );
      }
      throw error;
    }
  }

  async function requireNamed(
    chain: ChainClient,
    agreement: { agreementId: string; name: string },
    period: number,
    cid: string,
    kind: NamedKind,
  ): Promise<void> {
    const label = `${agreement.name} ${formatPeriod(period)}`;
    const named = await namedOnChain(timeline, chain, agreement.agreementId, period);
    if (named.get(cid) === kind) return;
    if (kind === "evidence") {
      for (let round = 0; round <= MAX_ROUND; round++) {
        if ((await loadReport(db, agreement.agreementId, period, round))?.evidenceCid === cid) return;
      }
    }
    throw new NotFoundError(
      kind === "rationale"
        ? `${cid} is not the rationale of a ruling on ${label}`
        : `evidence ${cid} is not named on the ledger for ${label}`,
    );
  }

  const lookup: EvidenceLookup = {
    async open(chain, ref, period, cid, partner = null) {
      const agreement = await requireAgreement(db, ref);
      const label = `${agreement.name} ${formatPeriod(period)}`;
      await requireNamed(chain, agreement, period, cid, "evidence");
      const { bytes, source } = await bytesOf(label, agreement.agreementId, period, cid, partner);
      const key = deriveEvidenceKey(agreement.secret, agreement.agreementId, period);
      for (const purpose of EVIDENCE_PURPOSES) {
        let content: object | Uint8Array;
        try {
          content = openEvidence(bytes, key, { agreementId: agreement.agreementId, period, purpose });
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
          source,
        };
      }
      throw new ConflictError(
        `evidence ${cid} does not open with the agreement's key for ${label}: it was sealed for another ` +
          "agreement, period or purpose, or altered",
      );
    },

    async arbiterCopy(chain, ref, period, cid, arbiter, partner = null) {
      const agreement = await requireAgreement(db, ref);
      const ctx = await loadPeriodContext(chain, agreement, period);
      const address = getAddress(arbiter.address);
      if (address !== getAddress(ctx.terms.arbiter)) {
        throw new ConflictError(`${address} is not the arbiter of ${agreement.name}`);
      }
      const publicKey = compressedPublicKey(arbiter.publicKey);
      if (computeAddress(publicKey) !== address) {
        throw new InputError(`the public key is not the key of ${address}`, { field: "publicKey" });
      }
      const dispute = await chain.ledger.disputeRecord(agreement.agreementId, period);
      if (dispute.escalatedAt === 0n) {
        throw new ConflictError(
          `the dispute on ${ctx.label} is not escalated: the arbiter reads its evidence once it is`,
        );
      }
      const opened = await lookup.open(chain, ref, period, cid, partner);
      const sealed = sealForArbiter(
        {
          agreement: opened.agreement,
          agreementId: agreement.agreementId,
          period,
          cid,
          purpose: opened.purpose,
          content: opened.content,
        },
        publicKey,
        deriveEvidenceKey(agreement.secret, agreement.agreementId, period),
        cid,
      );
      return {
        agreement: opened.agreement,
        period,
        cid,
        arbiterCid: await evidence.put(sealed),
        purpose: opened.purpose,
        fileName: opened.fileName,
        sealed: Buffer.from(sealed).toString("base64"),
      };
    },

    async rationale(chain, ref, period, cid, partner = null) {
      const agreement = await requireAgreement(db, ref);
      const label = `${agreement.name} ${formatPeriod(period)}`;
      await requireNamed(chain, agreement, period, cid, "rationale");
      const { bytes } = await bytesOf(label, agreement.agreementId, period, cid, partner);
      let text: string;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      } catch {
        throw new ConflictError(`the rationale ${cid} of ${label} is not text (${bytes.byteLength} bytes)`);
      }
      return { agreement: agreement.name, period, cid, text };
    },
  };
  return lookup;
}

/** What the partner's node answered, in words for the person who asked. */
function partnerFailure(error: unknown, label: string, cid: string): BaseError {
  if (error instanceof EvidenceIntegrityError) {
    return new ConflictError(
      `the partner's node sent bytes that are not evidence ${cid} of ${label}; nothing was kept`,
      error.details,
    );
  }
  if (error instanceof PeerRefusedError) {
    if (error.peerCode === "NOT_FOUND") {
      return new NotFoundError(`neither this node nor the partner's holds evidence ${cid} of ${label}`);
    }
    if (error.peerCode === "NOT_NAMED") {
      return new NotFoundError(
        `the partner's node finds evidence ${cid} not named on the ledger for ${label}`,
      );
    }
    return new UnavailableError(
      `the partner's node refused to hand over evidence ${cid} of ${label}; try again later`,
      { details: error.details, cause: error },
    );
  }
  if (error instanceof UnavailableError) {
    return new UnavailableError(
      `the partner's node, which holds evidence ${cid} of ${label}, did not answer; try again later`,
      { code: error.code, details: error.details, cause: error },
    );
  }
  if (error instanceof BaseError) {
    return new ConflictError(
      `the partner's node answered for evidence ${cid} of ${label} in a way this node cannot accept: ${error.shortMessage}`,
    );
  }
  return new UnavailableError(`evidence ${cid} of ${label} could not be fetched from the partner's node`, {
    cause: error,
  });
}

function evidenceFileName(agreement: string, period: number, purpose: string, cid: string): string {
  // Built from the stored agreement name (NAME_PATTERN), digits, a fixed purpose and a parsed CID only.
  return `${agreement.replace(/[^A-Za-z0-9_.-]/g, "_")}-${formatPeriod(period)}-${purpose}-${cid}.json`;
}
