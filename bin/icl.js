#!/usr/bin/env node
// Entry point of the `icl` command. Runs the compiled CLI from dist/ (built by `npm install` through
// the `prepare` script, or `npm run build`) when it is at least as new as every source file; otherwise,
// or with ICL_FROM_SOURCE=1 (what the tests do), runs the TypeScript sources through Sucrase.
"use strict";
const path = require("node:path");
const fs = require("node:fs");

const root = path.join(__dirname, "..");
const compiled = path.join(root, "dist", "node", "src", "cli", "main.js");

/** Newest modification time of the .ts files under `dir` (a few dozen files: about a millisecond). */
function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function useCompiled() {
  if (process.env.ICL_FROM_SOURCE === "1" || !fs.existsSync(compiled)) return false;
  const newest = Math.max(
    newestSource(path.join(root, "node", "src")),
    newestSource(path.join(root, "gateway")),
  );
  return fs.statSync(compiled).mtimeMs >= newest;
}

// `icl … | head` closes the pipe early: stop quietly, as command-line tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
}

let entry;
if (useCompiled()) {
  entry = require(compiled);
} else {
  require("./register-ts");
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
