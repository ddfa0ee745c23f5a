/**
 * Rates that change within a call: a tariff row's `interval_start`, the second of the billable
 * interval from which its rate and increments apply (0 for every row of a deck imported before).
 * The rows of one tariff share service, prefix, period and band and differ in it.
 */
export const sql = `
ALTER TABLE tariff_rows ADD COLUMN interval_start integer NOT NULL DEFAULT 0;
`;
