import { Kafka, logLevel, type KafkaConfig, type LogEntry } from "kafkajs";
import type { Logger } from "@vod/log";

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  log: Logger;
  /** Connection and request timeouts, so a broker that never answers costs seconds. */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

const LEVEL: Record<number, "error" | "warn" | "info" | "debug"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

export function createKafka({
  brokers,
  clientId,
  log,
  connectionTimeoutMs = 3_000,
  requestTimeoutMs = 30_000,
}: KafkaOptions): Kafka {
  const kafkaLog = log.child({ component: "kafkajs" });
  const config: KafkaConfig = {
    brokers,
    clientId,
    connectionTimeout: connectionTimeoutMs,
    requestTimeout: requestTimeoutMs,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        // Every heartbeat answered during a rebalance is logged by kafkajs as an error; it is how a
        // member learns of the rebalance, and with several instances in a group it is routine.
        const routine =
          level === logLevel.ERROR &&
          typeof rest.error === "string" &&
          rest.error.startsWith("The group is rebalancing");
        kafkaLog[routine ? "debug" : (LEVEL[level] ?? "info")](rest, message);
      },
  };
  return new Kafka(config);
}
