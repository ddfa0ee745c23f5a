#!/usr/bin/env node
// Entry point of the `icl` command. Runs the compiled CLI from dist/ (built by `npm install` through
// the `prepare` script); falls back to the TypeScript sources through ts-node when dist/ is missing
// or ICL_FROM_SOURCE=1 is set (what the test suite does, so it always exercises the sources).
"use strict";
const path = require("node:path");
const fs = require("node:fs");

const root = path.join(__dirname, "..");
const compiled = path.join(root, "dist", "node", "src", "cli", "main.js");
let entry;
if (process.env.ICL_FROM_SOURCE !== "1" && fs.existsSync(compiled)) {
  entry = require(compiled);
} else {
  require("ts-node").register({ transpileOnly: true, swc: true, project: path.join(root, "tsconfig.json") });
  entry = require(path.join(root, "node", "src", "cli", "main.ts"));
}
if (process.env.ICL_REPORT_RSS === "1") {
  // For `npm run bench`: the peak resident set of this process, read by the benchmark from stderr.
  process.on("exit", () => process.stderr.write(`icl-max-rss-kb=${process.resourceUsage().maxRSS}\n`));
}
entry.runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 70;
  },
);
