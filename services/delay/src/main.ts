import { createLogger } from "@vod/log";
import { onShutdown } from "@vod/service";
import { readEnv } from "./env.ts";
import { start } from "./start.ts";

const env = readEnv();
const log = createLogger({ service: "delay", level: env.LOG_LEVEL });
const shutdown = onShutdown({ log });
log.info(
  { brokers: env.KAFKA_BROKERS, prefix: env.TOPIC_PREFIX, endAfter: env.END_AFTER, muteInterval: env.MUTE_INTERVAL },
  "starting delay",
);
// A dead consumer or release loop: /healthz fails at once, the process exits 1 shortly after.
const delay = await start(env, log, undefined, () => setTimeout(() => process.exit(1), env.FATAL_EXIT_DELAY));
shutdown.add("delay", () => delay.close());
