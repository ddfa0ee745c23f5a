// Loads TypeScript for mocha through ts-node's SWC transpiler: no type-checking here (`npm run
// typecheck` does that), so the suites start in well under a second.
require("ts-node").register({
  transpileOnly: true,
  swc: true,
  project: require("node:path").join(__dirname, "..", "..", "tsconfig.json"),
});
