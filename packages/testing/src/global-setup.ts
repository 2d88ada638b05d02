import "./context.ts";
import type { TestProject } from "vitest/node";
import { testEnv } from "./env.ts";
import { deleteRunTopics } from "./cleanup.ts";
import { dockerReachable, infraScript, readInfraEnv, redisAnswers, type InfraEndpoints } from "./infra.ts";
import { newRunToken } from "./names.ts";

/**
 * Starts the real broker and PostgreSQL once per test run: endpoints from KAFKA_BROKERS/DATABASE_URL
 * when both are set, containers when a Docker engine is reachable, else the local infra scripts.
 * Whatever this run started, it stops; the topics and groups its tests named (uniqueName) it deletes.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let endpoints: InfraEndpoints;
  let teardown = async () => {};
  if (testEnv.KAFKA_BROKERS.length > 0 && testEnv.DATABASE_URL) {
    endpoints = {
      kafkaBrokers: testEnv.KAFKA_BROKERS,
      databaseUrl: testEnv.DATABASE_URL,
      redisUrl: testEnv.REDIS_URL ?? readInfraEnv().redisUrl,
    };
    const apiDatabaseUrl = testEnv.API_DATABASE_URL ?? readInfraEnv().apiDatabaseUrl;
    if (apiDatabaseUrl) endpoints.apiDatabaseUrl = apiDatabaseUrl;
    // Kafka and PostgreSQL run elsewhere; Redis is started alone unless it answers already.
    if (!testEnv.REDIS_URL && !(await redisAnswers(endpoints.redisUrl))) {
      await infraScript("up", ["redis"]);
      if (!testEnv.VOD_KEEP_INFRA) teardown = async () => void (await infraScript("down", ["redis"]));
    }
  } else if (dockerReachable() && testEnv.VOD_TEST_INFRA !== "local") {
    const { startContainers } = await import("./containers.ts");
    const started = await startContainers();
    endpoints = started.endpoints;
    teardown = started.stop;
  } else {
    const wasUp = await infraScript("status");
    if (!wasUp) await infraScript("up");
    endpoints = readInfraEnv();
    // Infra started before the API had a login of its own: up again sets its password and writes its URL.
    if (wasUp && !endpoints.apiDatabaseUrl) {
      await infraScript("up");
      endpoints = readInfraEnv();
    }
    if (!wasUp && !testEnv.VOD_KEEP_INFRA) teardown = async () => void (await infraScript("down"));
  }
  project.provide("kafkaBrokers", endpoints.kafkaBrokers);
  project.provide("databaseUrl", endpoints.databaseUrl);
  project.provide("apiDatabaseUrl", endpoints.apiDatabaseUrl ?? "");
  project.provide("redisUrl", endpoints.redisUrl);
  const run = newRunToken();
  project.provide("testRun", run);
  const brokers = endpoints.kafkaBrokers;
  const stop = teardown;
  return async () => {
    // A broker that cannot be reached now fails no test: the topics stay, as they did before.
    await deleteRunTopics(brokers, run).catch((err: unknown) =>
      console.warn(`could not delete this run's topics (${run}): ${(err as Error).message}`),
    );
    await stop();
  };
}
