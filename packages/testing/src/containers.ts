import { randomBytes } from "node:crypto";
import pg from "pg";
import { GenericContainer, Wait } from "testcontainers";
import type { InfraEndpoints } from "./infra.ts";

/** Kafka (KRaft), PostgreSQL and Redis in containers, for machines with a Docker engine. */
export async function startContainers(): Promise<{ endpoints: InfraEndpoints; stop: () => Promise<void> }> {
  const kafkaPort = 19092;
  const [kafka, postgres, redis] = await Promise.all([
    new GenericContainer("apache/kafka:3.9.2")
      .withExposedPorts({ container: kafkaPort, host: kafkaPort })
      .withEnvironment({
        KAFKA_NODE_ID: "1",
        KAFKA_PROCESS_ROLES: "broker,controller",
        KAFKA_LISTENERS: `PLAINTEXT://:${kafkaPort},CONTROLLER://:9093`,
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${kafkaPort}`,
        KAFKA_CONTROLLER_LISTENER_NAMES: "CONTROLLER",
        KAFKA_CONTROLLER_QUORUM_VOTERS: "1@localhost:9093",
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: "1",
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: "1",
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: "1",
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: "0",
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: "false",
      })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .start(),
    new GenericContainer("postgres:15")
      .withExposedPorts(5432)
      .withEnvironment({ POSTGRES_USER: "vod", POSTGRES_PASSWORD: "vod", POSTGRES_DB: "vod" })
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start(),
    new GenericContainer("redis:7")
      .withExposedPorts(6379)
      .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
      .start(),
  ]);
  const databaseUrl = `postgres://vod:vod@127.0.0.1:${postgres.getMappedPort(5432)}/vod`;
  const apiPassword = randomBytes(18).toString("hex");
  await setApiPassword(databaseUrl, apiPassword);
  return {
    endpoints: {
      kafkaBrokers: [`127.0.0.1:${kafkaPort}`],
      databaseUrl,
      apiDatabaseUrl: `postgres://vod_api:${apiPassword}@127.0.0.1:${postgres.getMappedPort(5432)}/vod`,
      redisUrl: `redis://127.0.0.1:${redis.getMappedPort(6379)}`,
    },
    stop: async () => {
      await Promise.all([kafka.stop(), postgres.stop(), redis.stop()]);
    },
  };
}

/** What infra/lib.sh's pg_bootstrap does: the API's login exists with a password of its own; the migrations do the rest. */
async function setApiPassword(url: string, password: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(
      "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vod_api') THEN CREATE ROLE vod_api NOLOGIN NOINHERIT; END IF; END $$",
    );
    await c.query(`ALTER ROLE vod_api PASSWORD ${c.escapeLiteral(password)}`);
  } finally {
    await c.end();
  }
}
