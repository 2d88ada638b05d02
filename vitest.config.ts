import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "packages/*/src/**/*.test.ts",
      "services/*/src/**/*.test.ts",
      "test/**/*.test.ts",
      "scripts/**/*.test.ts",
    ],
    // Run alone (vitest.alone.config.ts): the whole-system tests, whose service processes on a compressed
    // clock must not share two cores with the suite's parallel files. `npm test` runs the fleet test after
    // this suite; the short soak is `npm run test:soak`.
    exclude: [
      "**/node_modules/**",
      "test/soak.test.ts",
      "test/fleet-kill.test.ts",
      "test/brokers-kill.test.ts",
      // Chromium: two browsers at once on two cores miss their timeouts.
      "services/api/src/playback.test.ts",
      "services/api/src/find-browser.test.ts",
    ],
    globalSetup: ["packages/testing/src/global-setup.ts"],
    // Integration tests share one broker and one PostgreSQL on a 2-core machine.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
