/**
 * The CDR table partitioned by month (PostgreSQL declarative partitioning, on PGlite as on PostgreSQL):
 * one partition `cdrs_pYYYYMM` per UTC month of `start_time` (db/cdr-partitions.ts creates them as
 * CDRs arrive), so a closed and settled month can be detached and archived (`icl cdrs archive`) and
 * queries of a month touch only its partition.
 *
 * A partitioned table's unique keys must hold the partition key, so the CDR key's uniqueness over all
 * months moves to `cdr_keys` (one small row per CDR ever stored, kept when its month is archived: a
 * re-sent CDR of an archived month is still a DUPLICATE). Existing CDRs move into their months'
 * partitions.
 */
export const sql = `
CREATE TABLE cdr_keys (
  source_key  text PRIMARY KEY,
  file_id     integer NOT NULL,
  line        bigint NOT NULL,
  period      integer NOT NULL
);
INSERT INTO cdr_keys (source_key, file_id, line, period)
  SELECT source_key, file_id, line, to_char(start_time AT TIME ZONE 'UTC', 'YYYYMM')::integer FROM cdrs;
CREATE INDEX cdr_keys_file ON cdr_keys (file_id);

ALTER TABLE cdrs RENAME TO cdrs_unpartitioned;
DROP INDEX cdrs_partner_time;
DROP INDEX cdrs_leaf;
DROP INDEX cdrs_late;
ALTER TABLE cdrs_unpartitioned DROP CONSTRAINT cdrs_pkey;
CREATE TABLE cdrs (LIKE cdrs_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (start_time);
ALTER TABLE cdrs ADD PRIMARY KEY (source_key, start_time);
CREATE INDEX cdrs_partner_time ON cdrs (partner_id, start_time);
CREATE INDEX cdrs_leaf ON cdrs (partner_id, destination, start_time);
CREATE INDEX cdrs_late ON cdrs (partner_id, bill_period) WHERE late;

DO $$
DECLARE
  month date;
BEGIN
  FOR month IN SELECT DISTINCT date_trunc('month', start_time AT TIME ZONE 'UTC')::date FROM cdrs_unpartitioned LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF cdrs FOR VALUES FROM (%L) TO (%L)',
      'cdrs_p' || to_char(month, 'YYYYMM'),
      month::timestamp AT TIME ZONE 'UTC',
      (month + interval '1 month')::timestamp AT TIME ZONE 'UTC');
  END LOOP;
END
$$;
INSERT INTO cdrs SELECT * FROM cdrs_unpartitioned;
DROP TABLE cdrs_unpartitioned;

CREATE TABLE cdr_archives (
  period       integer PRIMARY KEY CHECK (period BETWEEN 101 AND 999912 AND period % 100 BETWEEN 1 AND 12),
  file         text NOT NULL,
  records      bigint NOT NULL CHECK (records >= 0),
  sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  archived_at  timestamptz NOT NULL DEFAULT now()
);
`;
