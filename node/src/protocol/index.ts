/**
 * The settlement protocol as the contracts define it, in one TypeScript copy: period states, the
 * EIP-712 types and domains, the commitment, the limits and flag bits, the officers' signature
 * encoding, the fast path's rules. The node, the gateway, the scripts and the tests import it from
 * here; protocol.test.ts checks it against a deployed ledger.
 */
export * from "./commitment";
export * from "./eip712";
export * from "./evaluation";
export * from "./fast-path";
export * from "./limits";
export * from "./signatures";
export * from "./states";
