/**
 * Chain client (issue 4): reserved for pending transactions and the event index. Until it lands this
 * migration creates nothing; it must be filled in before its first release and never edited after.
 */
export const sql = `SELECT 1`;
