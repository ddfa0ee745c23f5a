/**
 * Usage summaries (issue 4): reserved for the summaries work. Until it lands this migration creates
 * nothing; it must be filled in before its first release and never edited after.
 */
export const sql = `SELECT 1`;
