import { createLogger } from "@vod/log";
import { exitAfter, onShutdown } from "@vod/service";
import { readEnv } from "./env.ts";
import { start } from "./start.ts";

const env = readEnv();
const log = createLogger({ service: "writer", level: env.LOG_LEVEL });
const shutdown = onShutdown({ log });
// A dead consumer: /healthz fails at once, the process exits 1 shortly after.
const writer = await start(env, log, exitAfter(env.FATAL_EXIT_DELAY));
shutdown.add("writer", () => writer.close());
