import { createLogger } from "@vod/log";
import { exitAfter, onShutdown } from "@vod/service";
import { readEnv } from "./env.ts";
import { InstanceRefused } from "./instances.ts";
import { start } from "./start.ts";

const env = readEnv();
const log = createLogger({ service: "hls-fetcher", level: env.LOG_LEVEL });
const shutdown = onShutdown({ log });
// A dead consumer: /healthz fails at once, the process exits 1 shortly after.
const started = await start(env, log, undefined, exitAfter(env.FATAL_EXIT_DELAY)).catch((err: unknown) => {
  // A configuration that would break the one CDN budget stops the service at start, saying why.
  log.fatal(err instanceof InstanceRefused ? { reason: err.message } : { err }, "hls-fetcher refused to start");
  process.exit(1);
});
shutdown.add("hls-fetcher", () => started.stop());
