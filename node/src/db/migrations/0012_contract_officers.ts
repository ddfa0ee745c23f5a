/**
 * Officers that are contract wallets (ERC-1271): the officer approvals and fast-path signatures this node
 * keeps may be a contract officer's `abi.encode(address officer, bytes signature)` (protocol/signatures.ts),
 * a whole number of 32-byte words and at least three, besides a 65-byte ECDSA signature (the shape
 * protocol/signatures.ts `OFFICER_SIGNATURE_HEX` checks).
 */
export const sql = `
ALTER TABLE officer_approvals DROP CONSTRAINT officer_approvals_signature_check;
ALTER TABLE officer_approvals ADD CONSTRAINT officer_approvals_signature_check
  CHECK (signature ~ '^0x([0-9a-f]{130}|([0-9a-f]{64}){3,})$');
ALTER TABLE fast_path_signatures DROP CONSTRAINT fast_path_signatures_signature_check;
ALTER TABLE fast_path_signatures ADD CONSTRAINT fast_path_signatures_signature_check
  CHECK (signature ~ '^0x([0-9a-f]{130}|([0-9a-f]{64}){3,})$');
`;
