import { createPool } from "@vod/db";
import type { Logger } from "@vod/log";
import { prepareDemoData, startInfra, stopInfra } from "./demo-infra.ts";
import { DemoProcesses } from "./demo-processes.ts";
import { showProgress } from "./demo-progress.ts";
import { startApi, startServices, startSimulator } from "./demo-services.ts";

export interface DemoOptions {
  root: string;
  log: Logger;
  /** Stop by itself after this long (real ms); otherwise run until Ctrl-C. */
  forMs?: number;
  simPort: number;
  /** Where the API and its web page listen. */
  apiPort: number;
  /** Simulated clock speed: 60 runs one simulated hour (one mute run) per real minute. */
  speed: number;
  streams: number;
  seed: number;
  /**
   * Instances of each service that may run several in one group: writers and delays (the delay's
   * state is partitioned). The live-poller is one (the single producer of sweeps).
   */
  instances?: number;
  print: (line: string) => void;
  /** Environment handed to the processes it starts. */
  env: Record<string, string | undefined>;
}

export interface DemoResult {
  vods: number;
  found: number;
  notFound: number;
  failed: number;
}

/**
 * The whole system against the simulator on this machine: local Kafka and PostgreSQL, migrations,
 * topics, the simulator at `speed`, the four services and the API, with a progress line until stopped.
 * Everything it started, it stops (the infra too, when it was not running before).
 *
 * The wiring: `startInfra` and `prepareDemoData` (infra, database, topics), `DemoProcesses` (the
 * supervised processes), `startSimulator`, `startServices`, `startApi` (what runs), `showProgress`
 * (the printout).
 */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const infra = await startInfra(o.root);
  const pool = createPool({ url: infra.databaseUrl, max: 2, applicationName: "vods-demo" });
  const processes = new DemoProcesses(o);

  const stopAll = async () => {
    await processes.stop();
    await pool.end().catch(() => undefined);
    stopInfra(o.root, infra);
  };

  try {
    const prefix = await prepareDemoData(pool, infra.brokers, o.log);
    const sim = await startSimulator(processes, o);
    const clock = {
      CLOCK_SPEED: String(o.speed),
      CLOCK_ORIGIN: sim.now,
      CLOCK_REAL_ORIGIN: new Date().toISOString(),
    };
    startServices(processes, {
      instances: o.instances ?? 1,
      brokers: infra.brokers,
      databaseUrl: infra.databaseUrl,
      redisUrl: infra.redisUrl,
      prefix,
      simUrl: sim.simUrl,
      configuredDomains: sim.configuredDomains,
      clock,
      print: o.print,
    });
    const apiUrl = await startApi(processes, {
      apiPort: o.apiPort,
      apiDatabaseUrl: infra.apiDatabaseUrl,
      clock,
      simUrl: sim.simUrl,
      configuredDomains: sim.configuredDomains,
      redisUrl: infra.redisUrl,
      brokers: infra.brokers,
      prefix,
    });
    o.print(`archive: open ${apiUrl}/ (web page), ${apiUrl}/v1/vods (API), ${apiUrl}/openapi.json`);
    o.print(
      `demo running: simulator ${sim.simUrl} at ${o.speed}x (one mute run per ${60 / o.speed} real min), topics ${prefix}*, database vod_demo; logs in .infra/demo/`,
    );
    o.print("Ctrl-C stops everything.");

    const last = await showProgress({ ...o, pool, children: processes.children, simUrl: sim.simUrl, apiUrl });
    o.print("stopping…");
    return last;
  } finally {
    await stopAll();
  }
}
