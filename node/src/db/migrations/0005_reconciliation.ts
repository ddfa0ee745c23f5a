/**
 * What the running node needs to reconcile with its counterparty: where the other carrier's node
 * answers the peer protocol, and the discrepancy reports it found, one per agreement, period and
 * commit–reveal round, with the CID of the encrypted evidence bundle behind each.
 */
export const sql = `
ALTER TABLE agreements ADD COLUMN peer_url text CHECK (peer_url IS NULL OR peer_url ~ '^https?://');

CREATE TABLE discrepancy_reports (
  agreement_id  text NOT NULL REFERENCES agreements(agreement_id),
  period        integer NOT NULL CHECK (period BETWEEN 197001 AND 999912),
  round         integer NOT NULL CHECK (round >= 0),
  our_root      text NOT NULL CHECK (our_root ~ '^0x[0-9a-f]{64}$'),
  their_root    text NOT NULL CHECK (their_root ~ '^0x[0-9a-f]{64}$'),
  leaf_count    integer NOT NULL CHECK (leaf_count >= 0),
  report        text NOT NULL,
  stats         text NOT NULL,
  evidence_cid  text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (agreement_id, period, round)
);
`;
