import { subtask, type HardhatUserConfig } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import "@nomicfoundation/hardhat-toolbox";

/**
 * The exact compiler release. It must equal the version of the npm package `solc` pinned in
 * package.json: no machine of ours reaches the compiler download site, so Hardhat is handed that
 * package's solcjs build instead (see the subtask override below).
 */
const SOLC_VERSION = "0.8.28";

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper(args);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solcPackage = require("solc/package.json") as { version: string };
  if (solcPackage.version !== SOLC_VERSION) {
    throw new Error(
      `npm package solc is ${solcPackage.version}; hardhat.config.ts needs exactly ${SOLC_VERSION}`,
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require("solc") as { version(): string };
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: args.solcVersion,
    longVersion: solc.version().replace(/\.Emscripten\.clang$/, ""),
  };
});

// `npm run coverage` compiles instrumented contracts (far over EIP-170) into artifacts/ and the typings;
// package.json then compiles again with --force, so every other command finds the build as it was.
const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "cancun",
      viaIR: false,
    },
  },
  paths: {
    sources: "contracts",
    tests: "test/contracts",
    cache: "cache",
    artifacts: "artifacts",
  },
  networks: {
    hardhat: {},
    localhost: { url: process.env.ICL_RPC_URL ?? "http://127.0.0.1:8545" },
  },
  typechain: { outDir: "typechain-types", target: "ethers-v6" },
  gasReporter: { enabled: process.env.REPORT_GAS === "true", offline: true },
  mocha: { timeout: 120000 },
};

export default config;
