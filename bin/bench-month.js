#!/usr/bin/env node
// `npm run bench:month`: scripts/bench-month.ts.
"use strict";
require("./run-script")("bench-month");
