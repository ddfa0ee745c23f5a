/**
 * Mediation v2: every call attempt with its traffic facts, and ingests from any source.
 * - cdrs: the attempt's setup, answer and end times (start_time stays the start of the billable
 *   interval), the switch's whole length, trunk, SIP code, Q.850 cause, post-dial delay, the
 *   plausibility warnings it was stored with, and `late`: stored after the summary of its
 *   period was committed (`bill_period` is the period that counts it, by the late policy).
 * - rejects: the plausibility rule behind an IMPLAUSIBLE reject; the OTHER_LEG reason.
 * - ingest_files: a source is a file, a database table or a stream; `incomplete` is an ingest that
 *   stopped with a known reason, `live` a table or stream read as it grows; `position` is where a
 *   table or stream source resumes; `first_start`/`last_start` the span of the CDRs stored so far,
 *   which tells whether an unfinished ingest may touch a period.
 */
export const sql = `
ALTER TABLE cdrs ADD COLUMN setup_time timestamptz;
ALTER TABLE cdrs ADD COLUMN answer_time timestamptz;
ALTER TABLE cdrs ADD COLUMN end_time timestamptz;
ALTER TABLE cdrs ADD COLUMN total_seconds integer;
ALTER TABLE cdrs ADD COLUMN trunk text;
ALTER TABLE cdrs ADD COLUMN sip_code smallint;
ALTER TABLE cdrs ADD COLUMN q850_cause smallint;
ALTER TABLE cdrs ADD COLUMN pdd_ms integer;
ALTER TABLE cdrs ADD COLUMN warnings text[];
ALTER TABLE cdrs ADD COLUMN late boolean NOT NULL DEFAULT false;
ALTER TABLE cdrs ADD COLUMN bill_period integer;
CREATE INDEX cdrs_late ON cdrs (partner_id, bill_period) WHERE late;

ALTER TABLE rejects DROP CONSTRAINT rejects_reason_check;
ALTER TABLE rejects ADD CONSTRAINT rejects_reason_check
  CHECK (reason IN ('INVALID', 'DUPLICATE', 'NO_RATE', 'UNKNOWN_PARTNER', 'IMPLAUSIBLE', 'OTHER_LEG'));
ALTER TABLE rejects ADD COLUMN rule text;

ALTER TABLE ingest_files DROP CONSTRAINT ingest_files_status_check;
ALTER TABLE ingest_files ADD CONSTRAINT ingest_files_status_check
  CHECK (status IN ('ingesting', 'incomplete', 'done', 'live', 'discarded'));
ALTER TABLE ingest_files ADD COLUMN kind text NOT NULL DEFAULT 'file' CHECK (kind IN ('file', 'table', 'stream'));
ALTER TABLE ingest_files ADD COLUMN source text;
ALTER TABLE ingest_files ADD COLUMN position jsonb;
ALTER TABLE ingest_files ADD COLUMN incomplete_reason text;
ALTER TABLE ingest_files ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE ingest_files ADD COLUMN first_start timestamptz;
ALTER TABLE ingest_files ADD COLUMN last_start timestamptz;
`;
