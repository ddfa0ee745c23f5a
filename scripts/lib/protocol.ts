/** The protocol's one TypeScript copy lives in node/src/protocol; scripts import it through here. */
export * from "../../node/src/protocol";
