/**
 * Partners and their match rules, tariff decks, ingested files, CDRs with their rating result, and
 * rejects. Money is integer micro-units (bigint); tariff rates keep 12 decimals as pico-units.
 */
export const sql = `
CREATE TABLE partners (
  id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE match_rules (
  id          serial PRIMARY KEY,
  partner_id  text NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
  direction   text NOT NULL CHECK (direction IN ('in', 'out')),
  field       text NOT NULL,
  pattern     text NOT NULL,
  position    integer NOT NULL
);

CREATE TABLE tariff_decks (
  id            serial PRIMARY KEY,
  partner_id    text NOT NULL REFERENCES partners(id),
  direction     text NOT NULL CHECK (direction IN ('in', 'out')),
  name          text NOT NULL,
  currency      text NOT NULL,
  content_hash  text NOT NULL,
  active        boolean NOT NULL DEFAULT true,
  imported_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tariff_decks_one_active ON tariff_decks (partner_id, direction) WHERE active;

CREATE TABLE tariff_rows (
  deck_id          integer NOT NULL REFERENCES tariff_decks(id) ON DELETE CASCADE,
  line             integer NOT NULL,
  service          text NOT NULL CHECK (service IN ('voice', 'sms', 'data')),
  prefix           text NOT NULL,
  destination      text NOT NULL,
  rate_pico        bigint NOT NULL CHECK (rate_pico >= 0),
  connect_fee_pico bigint NOT NULL CHECK (connect_fee_pico >= 0),
  first_increment  integer NOT NULL,
  next_increment   integer NOT NULL,
  effective_from   timestamptz,
  effective_to     timestamptz,
  time_band        text,
  days             text,
  time_from        integer,
  time_to          integer,
  timezone         text,
  PRIMARY KEY (deck_id, line)
);

CREATE TABLE ingest_files (
  id               serial PRIMARY KEY,
  file_name        text NOT NULL,
  content_hash     text NOT NULL,
  format           text NOT NULL,
  byte_size        bigint NOT NULL,
  status           text NOT NULL CHECK (status IN ('ingesting', 'done')),
  checkpoint_line  bigint NOT NULL DEFAULT 0,
  records          bigint NOT NULL DEFAULT 0,
  rated            bigint NOT NULL DEFAULT 0,
  unbilled         bigint NOT NULL DEFAULT 0,
  rejected         bigint NOT NULL DEFAULT 0,
  started_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz,
  UNIQUE (content_hash, format),
  CHECK (records = rated + unbilled + rejected)
);

-- One row per distinct source CDR key: rated, unbilled, or (NO_RATE) rejected after mediation.
-- file_id has no foreign key on purpose: a per-row RI trigger would cost more than the insert on the
-- bulk path, and the ingest transaction only ever writes ids it has just read from ingest_files.
CREATE TABLE cdrs (
  source_key    text PRIMARY KEY,
  file_id       integer NOT NULL,
  line          bigint NOT NULL,
  partner_id    text NOT NULL,
  direction     text NOT NULL,
  service       text NOT NULL,
  start_time    timestamptz NOT NULL,
  duration      integer NOT NULL,
  volume        bigint NOT NULL,
  a_number      text NOT NULL,
  b_number      text NOT NULL,
  disposition   text NOT NULL,
  outcome       text NOT NULL CHECK (outcome IN ('rated', 'unbilled', 'rejected')),
  destination   text,
  prefix        text,
  band          text,
  billed        bigint NOT NULL DEFAULT 0,
  amount_micro  bigint NOT NULL DEFAULT 0,
  tariff_deck_id integer,
  tariff_line   integer
);
CREATE INDEX cdrs_partner_time ON cdrs (partner_id, start_time);

CREATE TABLE rejects (
  id          bigserial PRIMARY KEY,
  file_id     integer NOT NULL REFERENCES ingest_files(id),
  line        bigint NOT NULL,
  reason      text NOT NULL CHECK (reason IN ('INVALID', 'DUPLICATE', 'NO_RATE', 'UNKNOWN_PARTNER')),
  field       text,
  message     text NOT NULL,
  raw         text NOT NULL,
  source_key  text,
  UNIQUE (file_id, line)
);
CREATE INDEX rejects_reason ON rejects (reason);
`;
