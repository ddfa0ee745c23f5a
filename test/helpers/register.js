// Loads TypeScript for mocha through Sucrase: a pure-JS transpile with no type-checking (`npm run
// typecheck` does that), so the suites start in well under a second.
require("sucrase/register/ts");
