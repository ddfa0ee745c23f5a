/**
 * Each CDR's call key (reconciliation/call-key.ts) computed at ingest, with the period whose salt it
 * was computed under, so a comparison reads the keys instead of hashing every call of the month on
 * both sides. Null where the CDR's partner had no single agreement at ingest or the key could not be
 * computed: those are keyed when compared, as before.
 */
export const sql = `
ALTER TABLE cdrs ADD COLUMN call_key bytea CHECK (octet_length(call_key) = 32);
ALTER TABLE cdrs ADD COLUMN call_key_period integer;
`;
