#!/usr/bin/env node
// `npm run bench`: runs scripts/bench.ts from the TypeScript sources (Sucrase transpile, no type-check).
"use strict";
const path = require("node:path");
require("sucrase/register/ts");
require(path.join(__dirname, "..", "scripts", "bench.ts"))
  .main(process.argv.slice(2))
  .then(
    (code) => (process.exitCode = code),
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
