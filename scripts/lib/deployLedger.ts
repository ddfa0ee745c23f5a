/** The deployment of the contracts lives with the node's chain code (node/src/chain/deploy-ledger.ts); scripts import it through here. */
export * from "../../node/src/chain/deploy-ledger";
