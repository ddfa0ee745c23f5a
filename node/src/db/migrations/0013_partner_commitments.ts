/**
 * The cooperative commit: the partner's commitments its node signed (EIP-712 `Commitment`) and sent over
 * the peer protocol, one per agreement-period and round, kept once the signature recovers to a current
 * node of the partner carrier, so this node can send both commitments in one `commitBoth`.
 */
export const sql = `
CREATE TABLE partner_commitments (
  agreement_id  text NOT NULL REFERENCES agreements(agreement_id),
  period        integer NOT NULL CHECK (period BETWEEN 197001 AND 999912),
  round         integer NOT NULL CHECK (round BETWEEN 0 AND 255),
  carrier_id    text NOT NULL CHECK (carrier_id ~ '^0x[0-9a-f]{64}$'),
  commitment    text NOT NULL CHECK (commitment ~ '^0x[0-9a-f]{64}$'),
  node          text NOT NULL CHECK (node ~ '^0x[0-9a-f]{40}$'),
  signature     text NOT NULL CHECK (signature ~ '^0x[0-9a-f]{130}$'),
  received_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (agreement_id, period, round)
);
`;
