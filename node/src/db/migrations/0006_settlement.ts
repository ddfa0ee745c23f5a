/**
 * What officers do through the node: the EIP-712 approvals they signed (gathered until their carrier's
 * threshold is met, then submitted in one transaction), and the deadline watch's alerts (warnings of
 * windows about to close and the default actions taken), which the console shows next to the log.
 */
export const sql = `
CREATE TABLE officer_approvals (
  agreement_id  text NOT NULL REFERENCES agreements(agreement_id),
  period        integer NOT NULL CHECK (period BETWEEN 197001 AND 999912),
  round         integer NOT NULL CHECK (round >= 0),
  partial       boolean NOT NULL,
  carrier_id    text NOT NULL CHECK (carrier_id ~ '^0x[0-9a-f]{64}$'),
  officer       text NOT NULL CHECK (officer ~ '^0x[0-9a-fA-F]{40}$'),
  amount_ab     text NOT NULL CHECK (amount_ab ~ '^[0-9]{1,29}$'),
  amount_ba     text NOT NULL CHECK (amount_ba ~ '^[0-9]{1,29}$'),
  root_a        text NOT NULL CHECK (root_a ~ '^0x[0-9a-f]{64}$'),
  root_b        text NOT NULL CHECK (root_b ~ '^0x[0-9a-f]{64}$'),
  deadline      bigint NOT NULL,
  signature     text NOT NULL CHECK (signature ~ '^0x[0-9a-f]{130}$'),
  signed_at     timestamptz NOT NULL DEFAULT now(),
  submitted_tx  text,
  PRIMARY KEY (agreement_id, period, round, partial, officer)
);

CREATE TABLE alerts (
  id            serial PRIMARY KEY,
  agreement_id  text NOT NULL,
  period        integer NOT NULL,
  round         integer NOT NULL DEFAULT 0,
  level         text NOT NULL CHECK (level IN ('warning', 'action', 'error')),
  kind          text NOT NULL,
  deadline      bigint,
  message       text NOT NULL,
  tx_hash       text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (agreement_id, period, round, kind, deadline)
);
`;
