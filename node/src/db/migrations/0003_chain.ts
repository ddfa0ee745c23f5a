/**
 * Chain client (issue 4): the node's outgoing transactions (one row per idempotency key, written
 * before anything is broadcast) and the local index of ledger, registry and book events with the
 * indexer's cursor and the recent block hashes it checks for reorganisations.
 */
export const sql = `
CREATE TABLE chain_transactions (
  id                        serial PRIMARY KEY,
  idempotency_key           text NOT NULL UNIQUE,
  kind                      text NOT NULL,
  chain_id                  bigint NOT NULL,
  from_address              text NOT NULL,
  to_address                text NOT NULL,
  data                      text NOT NULL,
  status                    text NOT NULL
    CHECK (status IN ('intent', 'signed', 'sent', 'confirmed', 'reverted', 'failed')),
  nonce                     bigint,
  gas_limit                 bigint,
  max_fee_per_gas           bigint,
  max_priority_fee_per_gas  bigint,
  signed_tx                 text,
  tx_hash                   text,
  block_number              bigint,
  block_hash                text,
  gas_used                  bigint,
  receipt                   jsonb,
  error                     text,
  attempts                  integer NOT NULL DEFAULT 0,
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now(),
  CHECK (status IN ('intent', 'failed') OR (nonce IS NOT NULL AND signed_tx IS NOT NULL AND tx_hash IS NOT NULL))
);
CREATE UNIQUE INDEX chain_transactions_nonce
  ON chain_transactions (chain_id, from_address, nonce) WHERE status NOT IN ('intent', 'failed');
CREATE INDEX chain_transactions_pending
  ON chain_transactions (chain_id, from_address) WHERE status IN ('intent', 'signed', 'sent');

CREATE TABLE chain_events (
  chain_id      bigint NOT NULL,
  block_number  bigint NOT NULL,
  log_index     integer NOT NULL,
  block_hash    text NOT NULL,
  tx_hash       text NOT NULL,
  contract      text NOT NULL CHECK (contract IN ('SettlementLedger', 'CarrierRegistry', 'AgreementBook')),
  address       text NOT NULL,
  name          text NOT NULL,
  args          jsonb NOT NULL,
  agreement_id  text,
  period        integer,
  carrier_id    text,
  PRIMARY KEY (chain_id, block_number, log_index)
);
CREATE INDEX chain_events_period ON chain_events (agreement_id, period, block_number, log_index)
  WHERE agreement_id IS NOT NULL;
CREATE INDEX chain_events_carrier ON chain_events (carrier_id) WHERE carrier_id IS NOT NULL;
CREATE INDEX chain_events_name ON chain_events (name);

CREATE TABLE chain_cursor (
  chain_id      bigint NOT NULL,
  ledger        text NOT NULL,
  block_number  bigint NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chain_id, ledger)
);

CREATE TABLE chain_blocks (
  chain_id      bigint NOT NULL,
  block_number  bigint NOT NULL,
  block_hash    text NOT NULL,
  PRIMARY KEY (chain_id, block_number)
)`;
