import { createLogger } from "@vod/log";
import { onShutdown } from "@vod/service";
import { readEnv } from "./env.ts";
import { start, type StartOptions } from "./start.ts";

/**
 * The process: sweeps until a signal. If the sweep loop dies, /healthz answers unhealthy for
 * CRASH_EXIT_DELAY, then the process exits 1 so its supervisor restarts it. `options` is for a
 * fixture that runs the real process with a GQL client of its own.
 */
export async function runPoller(options: Pick<StartOptions, "gql"> = {}): Promise<void> {
  const env = readEnv();
  const log = createLogger({ service: "live-poller", level: env.LOG_LEVEL });
  const shutdown = onShutdown({ log });
  log.info(
    {
      endpoint: env.GQL_ENDPOINT,
      brokers: env.KAFKA_BROKERS,
      prefix: env.TOPIC_PREFIX,
      interval: env.SWEEP_INTERVAL,
      shards: env.SWEEP_SHARDS.map((s) => s.name),
    },
    "starting live-poller",
  );
  const poller = await start(env, log, undefined, {
    ...options,
    onCrash: () => {
      log.error({ exitInMs: env.CRASH_EXIT_DELAY }, "sweep loop died; exiting so the supervisor restarts the poller");
      setTimeout(() => {
        void poller
          .close()
          .catch((err: unknown) => log.error({ err }, "close after crash failed"))
          .finally(() => process.exit(1));
      }, env.CRASH_EXIT_DELAY);
    },
  });
  shutdown.add("poller", () => poller.close());
}
