/**
 * Evidence between the two parties' nodes (`/peer/v1/…/evidence`, docs/PROTOCOL.md). Raw CDRs never
 * leave a carrier, but the evidence an officer cites in a dispute step does: its CID goes on chain, and
 * the sealed bundle sits in the citing carrier's own store. The counterparty's node asks for it by CID
 * and gets it only when the ledger names that CID for the agreement-period, so the resource serves what
 * the chain has already made public and nothing else; the bundle stays sealed with the agreement's key
 * on the wire, and the asker checks the bytes against the CID before it keeps them.
 */
import type { ChainClient } from "../chain/client";
import { requireAgreement } from "../db/agreements";
import type { Database } from "../db/database";
import { EvidenceIntegrityError } from "../evidence/cid";
import type { EvidenceStore } from "../evidence/store";
import { evidenceCidOf } from "../evidence/unixfs";
import { BaseError, NotFoundError } from "../errors";
import type { Logger } from "../logger";
import type { TimelineService } from "../services/timeline";
import type { PeerClient } from "./peer-client";
import type { EvidenceAnswerer } from "./peer-server";

/**
 * The ledger events that name a period's evidence, with the argument that carries the CID: a party's
 * sealed evidence in a dispute step, or the arbiter's public rationale of a ruling.
 */
export const NAMING_EVENTS = {
  DisputeOpened: { arg: "evidenceCid", kind: "evidence" },
  DefaultContested: { arg: "evidenceCid", kind: "evidence" },
  FiguresProposed: { arg: "evidenceCid", kind: "evidence" },
  DisputeRuled: { arg: "rationaleCid", kind: "rationale" },
} as const;

/** Sealed evidence of a party (opens with the agreement's key) or a ruling's rationale (public text). */
export type NamedKind = (typeof NAMING_EVENTS)[keyof typeof NAMING_EVENTS]["kind"];

/**
 * Every CID the ledger names for the agreement-period, with its kind, from the node's event index
 * (brought up to the chain's head first).
 * @throws UnavailableError as {@link TimelineService.events}.
 */
export async function namedOnChain(
  timeline: TimelineService,
  chain: ChainClient,
  agreementId: string,
  period: number,
): Promise<Map<string, NamedKind>> {
  const named = new Map<string, NamedKind>();
  for (const event of await timeline.events(chain, agreementId, period)) {
    const naming = NAMING_EVENTS[event.name as keyof typeof NAMING_EVENTS];
    const cid = naming === undefined ? undefined : event.args[naming.arg];
    if (naming !== undefined && typeof cid === "string" && cid !== "") named.set(cid, naming.kind);
  }
  return named;
}

/**
 * Answers the partner's `evidence` requests: the bundle's bytes for a CID the ledger names for the
 * agreement-period and this node holds.
 */
export function evidenceAnswerer(parts: {
  db: Database;
  chain: ChainClient;
  evidence: EvidenceStore | null;
  timeline: TimelineService;
  logger: Logger;
}): EvidenceAnswerer {
  return async (agreementId, period, { cid }) => {
    const agreement = await requireAgreement(parts.db, agreementId);
    const named = await namedOnChain(parts.timeline, parts.chain, agreement.agreementId, period);
    if (!named.has(cid)) {
      throw new BaseError(`evidence ${cid} is not named on the ledger for this agreement and period`, {
        code: "NOT_NAMED",
      });
    }
    if (parts.evidence === null || !(await parts.evidence.has(cid))) {
      throw new NotFoundError(`this node holds no evidence ${cid}`);
    }
    const bytes = await parts.evidence.get(cid);
    parts.logger.info("evidence handed to the partner's node", { agreement: agreement.name, period, cid });
    return { cid, bundle: Buffer.from(bytes).toString("base64") };
  };
}

/**
 * Fetches the bundle `cid` the ledger names for the agreement-period from the partner's node into this
 * node's store (the running node's, which holds the node key and the partner's URL; see runner.ts).
 * @throws as {@link fetchPartnerEvidence}; UnavailableError when no partner URL is set.
 */
export type PartnerEvidence = (agreementId: string, period: number, cid: string) => Promise<void>;

/**
 * Fetches the bundle `cid` from the partner's node, checks the bytes hash to that CID and keeps them in
 * `evidence` (the same CID, so a later lookup finds it locally).
 * @throws EvidenceIntegrityError when the bytes are not the CID's; as {@link PeerClient.evidence}
 * (UnavailableError when the partner cannot be reached, PeerRefusedError when it refuses).
 */
export async function fetchPartnerEvidence(
  peer: PeerClient,
  evidence: EvidenceStore,
  agreementId: string,
  period: number,
  cid: string,
): Promise<void> {
  const bytes = await peer.evidence(agreementId, period, cid);
  const computed = await evidenceCidOf(bytes);
  if (computed !== cid) {
    throw new EvidenceIntegrityError(
      `the partner's node answered evidence ${cid} with bytes that are not it`,
      `they hash to ${computed}`,
    );
  }
  await evidence.put(bytes);
}
