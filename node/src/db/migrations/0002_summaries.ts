/**
 * Usage summaries (issue 4): one row per agreement and period with the committed figures (root and
 * the two direction totals, never the salt), and its leaves. `committed_at` is set by the chain
 * client once the commitment is sent; from then on the summary is frozen.
 */
export const sql = `
CREATE TABLE summaries (
  agreement_id  text NOT NULL CHECK (agreement_id ~ '^0x[0-9a-f]{64}$'),
  period        integer NOT NULL CHECK (period BETWEEN 197001 AND 999912 AND period % 100 BETWEEN 1 AND 12),
  partner_id    text NOT NULL,
  side          text NOT NULL CHECK (side IN ('A', 'B')),
  root          text NOT NULL CHECK (root ~ '^0x[0-9a-f]{64}$'),
  leaf_count    integer NOT NULL CHECK (leaf_count >= 0),
  records       bigint NOT NULL CHECK (records >= 0),
  amount_ab     bigint NOT NULL CHECK (amount_ab >= 0),
  amount_ba     bigint NOT NULL CHECK (amount_ba >= 0),
  encoding      integer NOT NULL,
  built_at      timestamptz NOT NULL DEFAULT now(),
  committed_at  timestamptz,
  PRIMARY KEY (agreement_id, period)
);

CREATE TABLE summary_leaves (
  agreement_id  text NOT NULL,
  period        integer NOT NULL,
  direction     text NOT NULL CHECK (direction IN ('AB', 'BA')),
  service       text NOT NULL CHECK (service IN ('voice', 'sms', 'data')),
  destination   text NOT NULL,
  day           integer NOT NULL,
  records       bigint NOT NULL CHECK (records > 0),
  billed        bigint NOT NULL CHECK (billed >= 0),
  amount_micro  bigint NOT NULL CHECK (amount_micro >= 0),
  PRIMARY KEY (agreement_id, period, direction, service, destination, day),
  FOREIGN KEY (agreement_id, period) REFERENCES summaries (agreement_id, period) ON DELETE CASCADE
);
`;
