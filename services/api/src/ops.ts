import type { Logger } from "@vod/log";
import { startOpsServer, type OpsServer } from "@vod/service";
import type { Registry } from "prom-client";
import type { ReadPool } from "./db.ts";

export interface ApiOpsOptions {
  port: number;
  host: string;
  log: Logger;
  registry: Registry;
  db: ReadPool;
}

/**
 * `/healthz` and `/metrics` on the ops port, as every service has them: not on the public port, where any
 * client could read the metrics or spend connections on health checks.
 */
export function startApiOps(o: ApiOpsOptions): Promise<OpsServer> {
  return startOpsServer({
    port: o.port,
    host: o.host,
    log: o.log,
    registry: o.registry,
    checks: {
      postgres: () =>
        o.db
          .read("select 1", [], AbortSignal.timeout(2_000))
          .then(() => true)
          .catch(() => false),
    },
  });
}
