export { onShutdown, type Shutdown, type ShutdownOptions } from "./shutdown.ts";
export { startOpsServer, createRegistry, type OpsServer, type OpsServerOptions } from "./http.ts";
export { consumerMetrics } from "./consumer-metrics.ts";
export { watchdog, exitAfter, type Watchdog, type WatchdogOptions } from "./watchdog.ts";
