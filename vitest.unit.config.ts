import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

/**
 * The tests that need no broker, database or Redis: those that neither ask the global setup for
 * an endpoint (`inject`) nor open one through @vod/testing or a rig built on it (`use*`, `find*`). They run under a second Node version
 * (`npm run test:node24`) without starting any infrastructure.
 */
const needsInfra =
  /\binject\(|\btestKafka\(|\bfreshDatabase\(|\btestApi\(|\buse(Database|Databases|Producer|KafkaAndDatabase|Api)\(|\bfind(World|Api)\(|REDIS_URL|KAFKA_BROKERS|DATABASE_URL/;
const unit = ["packages", "services"]
  .flatMap((root) => readdirSync(root).map((name) => join(root, name, "src")))
  .flatMap((src) => readdirSync(src, { recursive: true, encoding: "utf8" }).map((f) => join(src, f)))
  .filter((f) => f.endsWith(".test.ts") && !needsInfra.test(readFileSync(f, "utf8")));

export default defineConfig({
  test: {
    include: unit,
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
  },
});
