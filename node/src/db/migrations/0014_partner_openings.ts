/**
 * The cooperative reveal: the partner's opening of its commitment (root, totals, the round's salt), sent
 * by its node over the peer protocol once both commitments were on the ledger, kept once it hashes to the
 * partner's commitment on the ledger, so this node can reveal both in one `revealBoth` and knows the
 * figures the ledger will evaluate before it does.
 */
export const sql = `
CREATE TABLE partner_openings (
  agreement_id  text NOT NULL REFERENCES agreements(agreement_id),
  period        integer NOT NULL CHECK (period BETWEEN 197001 AND 999912),
  round         integer NOT NULL CHECK (round BETWEEN 0 AND 255),
  carrier_id    text NOT NULL CHECK (carrier_id ~ '^0x[0-9a-f]{64}$'),
  root          text NOT NULL CHECK (root ~ '^0x[0-9a-f]{64}$'),
  amount_ab     text NOT NULL CHECK (amount_ab ~ '^[0-9]{1,29}$'),
  amount_ba     text NOT NULL CHECK (amount_ba ~ '^[0-9]{1,29}$'),
  salt          text NOT NULL CHECK (salt ~ '^0x[0-9a-f]{64}$'),
  received_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (agreement_id, period, round)
);
`;
