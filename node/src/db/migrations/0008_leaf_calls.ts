/**
 * The calls behind one summary leaf (a partner, destination and day: db/calls.ts `callsOfLeaf`) by
 * index. The comparison asks for them leaf by leaf on both sides; with only (partner, time) a month of
 * 1 000 000 CDRs made every leaf read its partner's whole day, and the peer's answers outlasted their
 * 30-second timeout.
 */
export const sql = `
CREATE INDEX cdrs_leaf ON cdrs (partner_id, destination, start_time);
`;
