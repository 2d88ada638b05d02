// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", ".infra/**", "infra/kafka/lib/**", "drizzle/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      // Configuration is parsed once per service in env.ts; everything else gets values passed in.
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read the environment only in env.ts or a config module." },
      ],
    },
  },
  // Modules with one job each: a file or a function past these has grown a second job. Comments and
  // blank lines are not counted, so saying why costs nothing.
  {
    files: ["services/*/src/**/*.ts", "packages/*/src/**/*.ts"],
    ignores: ["**/*.test.ts", "**/__fixtures__/**", "**/bench/**", "**/scripts/**"],
    rules: {
      "max-lines": ["error", { max: 400, skipBlankLines: true, skipComments: true }],
      "max-lines-per-function": ["error", { max: 120, skipBlankLines: true, skipComments: true, IIFEs: true }],
    },
  },
  {
    files: [
      "**/env.ts",
      "packages/config/**",
      "packages/testing/**",
      "**/*.config.ts",
      "**/scripts/**",
      "**/__fixtures__/**",
      "test/**",
      "**/*.test.ts",
    ],
    rules: { "no-restricted-properties": "off" },
  },
);
