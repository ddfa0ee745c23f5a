/**
 * The co-signed fast path: the EIP-712 `Settlement` signatures this node holds for an agreement-period
 * (its own officers' and, once exchanged, the partner's), and what became of the attempt — declined by
 * the partner (its node reported other figures or prefers commit–reveal) or submitted.
 */
export const sql = `
CREATE TABLE fast_path_signatures (
  agreement_id  text NOT NULL REFERENCES agreements(agreement_id),
  period        integer NOT NULL CHECK (period BETWEEN 197001 AND 999912),
  carrier_id    text NOT NULL CHECK (carrier_id ~ '^0x[0-9a-f]{64}$'),
  officer       text NOT NULL CHECK (officer ~ '^0x[0-9a-f]{40}$'),
  root          text NOT NULL CHECK (root ~ '^0x[0-9a-f]{64}$'),
  amount_ab     text NOT NULL CHECK (amount_ab ~ '^[0-9]{1,29}$'),
  amount_ba     text NOT NULL CHECK (amount_ba ~ '^[0-9]{1,29}$'),
  deadline      bigint NOT NULL,
  signature     text NOT NULL CHECK (signature ~ '^0x[0-9a-f]{130}$'),
  received_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (agreement_id, period, carrier_id, officer)
);

CREATE TABLE fast_path_attempts (
  agreement_id  text NOT NULL REFERENCES agreements(agreement_id),
  period        integer NOT NULL CHECK (period BETWEEN 197001 AND 999912),
  declined      text,
  submitted_tx  text,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (agreement_id, period)
);
`;
