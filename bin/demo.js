#!/usr/bin/env node
// `npm run demo`: runs scripts/demo.ts (the consortium on a local chain) from the TypeScript sources.
"use strict";
const path = require("node:path");
require("./register-ts");
require(path.join(__dirname, "..", "scripts", "demo.ts"))
  .main(process.argv.slice(2))
  .then(
    (code) => (process.exitCode = code),
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
