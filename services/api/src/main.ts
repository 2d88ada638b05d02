import { createLogger } from "@vod/log";
import { onShutdown } from "@vod/service";
import { readEnv } from "./env.ts";
import { start } from "./start.ts";

const env = readEnv();
const log = createLogger({ service: "api", level: env.LOG_LEVEL });
const shutdown = onShutdown({ log });
const api = await start(env, log);
shutdown.add("http", () => api.app.close());
shutdown.add("kafka", () => api.stopChecks());
shutdown.add("ops", () => api.ops.close());
shutdown.add("postgres", () => api.db.close());
