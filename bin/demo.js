#!/usr/bin/env node
// `npm run demo`: scripts/demo.ts, the consortium on a local chain.
"use strict";
require("./run-script")("demo");
