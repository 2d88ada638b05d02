import { defineConfig } from "vitest/config";

/** Whole-system tests that run alone, after the suite in `npm test` (the fleet test, the short soak): their service processes on a compressed clock must not share two cores with the suite's parallel files. */
export default defineConfig({
  test: {
    include: [
      "test/soak.test.ts",
      "test/fleet-kill.test.ts",
      "test/brokers-kill.test.ts",
      // Chromium: two browsers at once on two cores miss their timeouts.
      "services/api/src/playback.test.ts",
      "services/api/src/find-browser.test.ts",
    ],
    globalSetup: ["packages/testing/src/global-setup.ts"],
    pool: "forks",
    maxWorkers: 1,
    testTimeout: 600_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
