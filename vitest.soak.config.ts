import { defineConfig } from "vitest/config";

/** The short soak (`npm run test:soak`) runs alone: its five service processes at 60x must not share two cores with the suite's parallel files. */
export default defineConfig({
  test: {
    include: ["test/soak.test.ts"],
    globalSetup: ["packages/testing/src/global-setup.ts"],
    pool: "forks",
    maxWorkers: 1,
    testTimeout: 600_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
