// Runs `scripts/<name>.ts` from the TypeScript sources (Sucrase, cached; no type-check): its
// `main(argv)` resolves to the exit code. Shared by `npm run bench` and `npm run demo`.
"use strict";
const path = require("node:path");
require("./register-ts");

module.exports = function runScript(name) {
  require(path.join(__dirname, "..", "scripts", `${name}.ts`))
    .main(process.argv.slice(2))
    .then(
      (code) => (process.exitCode = code),
      (error) => {
        // The node's errors carry a short message and details for people; anything else is a bug: its stack.
        console.error(
          error && typeof error.shortMessage === "string"
            ? `${name}: ${error.shortMessage}${error.details ? `: ${error.details}` : ""}`
            : error,
        );
        process.exitCode = 1;
      },
    );
};
