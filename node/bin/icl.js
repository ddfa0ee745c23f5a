#!/usr/bin/env node
// `npx icl` lands here (npm links workspace bins into node_modules/.bin); the real entry is bin/icl.js.
"use strict";
require("../../bin/icl.js");
