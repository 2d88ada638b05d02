import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "test/**/*.test.ts"],
    // Runs alone: `npm run test:soak` (vitest.soak.config.ts).
    exclude: ["**/node_modules/**", "test/soak.test.ts"],
    globalSetup: ["packages/testing/src/global-setup.ts"],
    // Integration tests share one broker and one PostgreSQL on a 2-core machine.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
