// Loads TypeScript for mocha through Sucrase, with the transpile cache the `icl` command uses
// (bin/register-ts.js), so the suites start in well under a second.
require("../../bin/register-ts");
