// Loads TypeScript through Sucrase (a pure-JS transpile with no type-checking: `npm run typecheck` does
// that) and keeps each file's output in node_modules/.cache/icl-ts/, keyed by the file's path and
// content and Sucrase's version: every `icl` process the tests spawn would otherwise transpile the
// same hundred files again (about 0.6 s each time).
"use strict";
const { Buffer } = require("node:buffer");
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const { addHook } = require("pirates");
const { transform } = require("sucrase");

const VERSION = require("sucrase/package.json").version;
const CACHE = path.join(__dirname, "..", "node_modules", ".cache", "icl-ts");
let cacheUsable = true;

function compile(code, filePath) {
  const { code: output, sourceMap } = transform(code, {
    transforms: ["imports", "typescript"],
    sourceMapOptions: { compiledFilename: filePath },
    filePath,
  });
  const map = Buffer.from(JSON.stringify(sourceMap)).toString("base64");
  return `${output}\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${map}`;
}

function cached(code, filePath) {
  if (!cacheUsable) return compile(code, filePath);
  const key = crypto.createHash("sha256").update(`${VERSION}\0${filePath}\0${code}`).digest("hex");
  const file = path.join(CACHE, `${key}.js`);
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    // Not cached yet (or unreadable): compile, then store it for the next process.
  }
  const output = compile(code, filePath);
  try {
    fs.mkdirSync(CACHE, { recursive: true });
    // Written aside and renamed: a process reading concurrently sees the whole file or none.
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, output);
    fs.renameSync(temp, file);
  } catch {
    cacheUsable = false; // a read-only install: transpile every time, as Sucrase alone would
  }
  return output;
}

addHook(cached, { exts: [".ts"] });
