#!/usr/bin/env node
// `npm run bench`: runs scripts/bench.ts from the TypeScript sources (SWC transpile, no type-check).
"use strict";
const path = require("node:path");
require("ts-node").register({
  transpileOnly: true,
  swc: true,
  project: path.join(__dirname, "..", "tsconfig.json"),
});
require(path.join(__dirname, "..", "scripts", "bench.ts"))
  .main(process.argv.slice(2))
  .then(
    (code) => (process.exitCode = code),
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
