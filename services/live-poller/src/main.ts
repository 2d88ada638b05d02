import { createLogger } from "@vod/log";
import { onShutdown } from "@vod/service";
import { readEnv } from "./env.ts";
import { start } from "./start.ts";

const env = readEnv();
const log = createLogger({ service: "live-poller", level: env.LOG_LEVEL });
const shutdown = onShutdown({ log });
log.info({ endpoint: env.GQL_ENDPOINT, brokers: env.KAFKA_BROKERS, prefix: env.TOPIC_PREFIX, interval: env.SWEEP_INTERVAL }, "starting live-poller");
const poller = await start(env, log);
shutdown.add("poller", () => poller.close());
