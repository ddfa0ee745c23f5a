#!/usr/bin/env node
// `npm run bench`: scripts/bench.ts.
"use strict";
require("./run-script")("bench");
