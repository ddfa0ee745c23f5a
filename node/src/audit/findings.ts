/**
 * What the audit reports. Every finding names where the history shows it: block, transaction,
 * agreement and period (null only where the fact has none, e.g. a token's balance).
 */

/** `error` fails the audit (exit 1); `warning` is reported but does not (see README, "icl audit"). */
export type Severity = "error" | "warning";

export const FINDING_KINDS = {
  "reveal-commitment-mismatch": "the reveal's opening does not hash to the round's commitment",
  "reveal-event-mismatch": "the Revealed event differs from what the reveal transaction sent",
  "reveal-unverifiable": "the reveal was not a direct call: its salt could not be read",
  "reveal-not-node": "the reveal was sent by an address that is not a node of the carrier",
  "unexpected-event": "an event the contract could not have emitted in the period's state",
  "evaluation-mismatch": "the evaluation differs from the agreement's tolerance rule",
  "evaluation-missing": "both parties revealed but no evaluation followed",
  "dispute-mismatch": "a dispute step's figures or timing differ from the contract's rules",
  "ruling-out-of-range": "a ruling lies outside the two claims",
  "ruling-not-arbiter": "a ruling by someone other than the agreement's arbiter",
  "approval-not-officer": "an approval by an address that was not an officer of the carrier then",
  "approval-threshold-not-met": "a carrier approved with fewer distinct current officers than its threshold",
  "approval-figures-mismatch": "approved figures differ from the figures the period held",
  "approval-missing": "officers reached the threshold but the carrier approval is missing",
  "settlement-mismatch": "a settlement moved other figures than the approved nets",
  "netting-mismatch": "the escrow movements of a transaction differ from the nets of its settlements",
  "escrow-mismatch": "the escrow rebuilt from events differs from the contract's escrowOf",
  "escrow-balance-mismatch": "the escrow of a token does not add up to the ledger's token balance",
  "reservation-mismatch":
    "a reservation or its release differs from what the payer owed or from the release rules (expiry, both approved)",
  "reservation-missing": "a payer's approval, or a settlement, without the reservation the ledger makes",
  "reserved-exceeds-escrow": "a carrier's reserved escrow exceeds its escrow",
  "reserved-mismatch": "the reservations rebuilt from events differ from reservedOf/reservationOf",
  "state-mismatch": "the state rebuilt from events differs from the contract's state view",
  "record-mismatch": "a fact rebuilt from events differs from periodRecord/disputeRecord",
  "unknown-agreement": "an event for an agreement the book never activated",
  "summary-root-mismatch": "a revealed summary's leaves do not hash to the root revealed on chain",
  "summary-totals-mismatch": "a revealed summary's leaves do not add up to the revealed totals",
  "summary-no-reveal": "no reveal on chain matches the summary file",
  "evidence-missing": "an evidence CID named on chain is not in the evidence store",
  "evidence-corrupt": "an evidence block's bytes do not hash to its CID",
  "evidence-invalid-cid": "an evidence reference on chain is not a CIDv1 raw sha2-256 CID",
  "evidence-unavailable": "the evidence store could not be read",
} as const;

export type FindingKind = keyof typeof FINDING_KINDS;

export interface Finding {
  severity: Severity;
  kind: FindingKind;
  block: number | null;
  tx: string | null;
  agreementId: string | null;
  /** Readable agreement name (`ACME–GLOBEX`) when the carriers' ids decode as text. */
  agreement: string | null;
  period: number | null;
  message: string;
}

/** Where a fact comes from: the block and transaction of the event behind it. */
export interface Place {
  block: number | null;
  tx: string | null;
}

export const NOWHERE: Place = { block: null, tx: null };

/** Findings that fail the audit. */
export function failing(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.severity === "error");
}
