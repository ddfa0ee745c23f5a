// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import prettier from "eslint-config-prettier";
import globals from "globals";

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "dist/",
      "artifacts/",
      "cache/",
      "typechain-types/",
      "coverage/",
      "test-artifacts/",
      "bench-out/",
      "gateway/public/vendor/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-unused-expressions": "off",
      eqeqeq: ["error", "always"],
      "no-console": "off",
    },
  },
  {
    // Product code never leans on the tests' fixtures or the scripts' scenarios.
    files: ["node/src/**/*.ts", "gateway/src/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["**/test/helpers/*"], message: "test helpers are for tests only" },
            { group: ["**/scripts/*", "**/scripts/lib/*"], message: "product code does not import scripts/" },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.js", "**/*.cjs"],
    languageOptions: {
      sourceType: "commonjs",
      globals: {
        require: "readonly",
        module: "writable",
        process: "readonly",
        __dirname: "readonly",
        console: "readonly",
      },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // The web console: ES modules in the browser, with Chart.js and ethers as globals (vendored UMD).
    files: ["gateway/console/**/*.js"],
    languageOptions: {
      sourceType: "module",
      globals: { ...globals.browser },
    },
    rules: { eqeqeq: ["error", "always"] },
  },
  prettier,
);
