/**
 * The agreements this node is party to, as it knows them locally: the on-chain agreement id, which
 * partner it is with, whether this node's carrier is party A or B, and the agreement secret shared at
 * onboarding (from which the summary salts and evidence keys derive).
 */
export const sql = `
CREATE TABLE agreements (
  agreement_id  text PRIMARY KEY CHECK (agreement_id ~ '^0x[0-9a-f]{64}$'),
  name          text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
  partner_id    text NOT NULL REFERENCES partners(id),
  side          text NOT NULL CHECK (side IN ('A', 'B')),
  secret_hex    text NOT NULL CHECK (secret_hex ~ '^[0-9a-f]{64,}$'),
  created_at    timestamptz NOT NULL DEFAULT now()
);
`;
