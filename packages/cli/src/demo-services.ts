import { onDatabase } from "./demo-infra.ts";
import type { DemoProcesses } from "./demo-processes.ts";
import { waitForHttp } from "./launch.ts";

const SERVICES = ["writer", "hls-fetcher", "delay", "live-poller"] as const;
type Service = (typeof SERVICES)[number];
/** Ops ports of the first instance; instance i listens 10·i above. */
const OPS_PORTS: Record<Service, number> = {
  writer: 9104,
  "hls-fetcher": 9103,
  delay: 9102,
  "live-poller": 9101,
};
/** The API's /healthz and /metrics. */
const API_OPS_PORT = 9105;

/**
 * How many of each service `--instances n` runs. One live-poller whatever n: sweeps have one
 * producer. The hls-fetchers share one CDN budget in Redis, so n of them stay at its rate together.
 */
export function instancesOf(n: number): Record<Service, number> {
  return { writer: n, "hls-fetcher": n, delay: n, "live-poller": 1 };
}

/** The simulated clock every process runs on, as their environment says it. */
export interface ClockEnv {
  CLOCK_SPEED: string;
  CLOCK_ORIGIN: string;
  CLOCK_REAL_ORIGIN: string;
}

/** Starts the Twitch simulator and waits for it; returns its URL, its clock now and its configured domains. */
export async function startSimulator(
  processes: DemoProcesses,
  o: { simPort: number; seed: number; streams: number; speed: number },
): Promise<{ simUrl: string; now: string; configuredDomains: string[] }> {
  const simUrl = `http://127.0.0.1:${o.simPort}`;
  processes.start(
    "twitch-sim",
    "packages/twitch-sim/src/main.ts",
    [
      "--port",
      String(o.simPort),
      "--seed",
      String(o.seed),
      "--streams",
      String(o.streams),
      "--speed",
      String(o.speed),
      "--world",
      "realistic",
      "--log-level",
      "warn",
    ],
    {},
  );
  await waitForHttp(`${simUrl}/healthz`, 60_000);
  const clock = (await (await fetch(`${simUrl}/admin/clock`)).json()) as { now: string };
  const world = (await (await fetch(`${simUrl}/admin/world`)).json()) as { configuredDomains: string[] };
  return { simUrl, now: clock.now, configuredDomains: world.configuredDomains };
}

/** Starts the four services, `instances` of those that may run several, against the simulator. */
export function startServices(
  processes: DemoProcesses,
  o: {
    instances: number;
    brokers: string;
    databaseUrl: string;
    redisUrl: string;
    prefix: string;
    simUrl: string;
    configuredDomains: string[];
    clock: ClockEnv;
    print: (line: string) => void;
  },
): void {
  const common = {
    KAFKA_BROKERS: o.brokers,
    DATABASE_URL: o.databaseUrl,
    TOPIC_PREFIX: o.prefix,
    LOG_LEVEL: "info",
    ...o.clock,
  };
  const perService: Record<Service, Record<string, string>> = {
    writer: {},
    // Configured like production: the realistic world also serves VODs on a domain this list lacks, learned from GQL.
    // The budget is in Redis, shared by every fetcher and by the page's searches (the API's Find).
    "hls-fetcher": { ...simulatorEnv(o), REDIS_URL: o.redisUrl },
    delay: {},
    "live-poller": { GQL_ENDPOINT: `${o.simUrl}/gql` },
  };
  const counts = instancesOf(o.instances);
  for (const name of SERVICES) {
    for (let i = 0; i < counts[name]; i++) {
      const label = counts[name] > 1 ? `${name}-${i + 1}` : name;
      processes.start(label, `services/${name}/src/main.ts`, [], {
        ...common,
        ...perService[name],
        OPS_PORT: String(OPS_PORTS[name] + 10 * i),
      });
    }
  }
  if (o.instances > 1) {
    o.print(
      `instances: ${SERVICES.map((s) => `${counts[s]} ${s}`).join(", ")} (the fetchers share one CDN budget in Redis; one live-poller: sweeps have one producer)`,
    );
  }
}

/** Where the simulator serves GQL and the CDN, for the fetchers and the API's Find. */
function simulatorEnv(o: { simUrl: string; configuredDomains: string[] }): Record<string, string> {
  return {
    CDN_URL_TEMPLATE: `${o.simUrl}/cdn/{domain}/`,
    GQL_ENDPOINT: `${o.simUrl}/gql`,
    CDN_DOMAINS: o.configuredDomains.join(","),
  };
}

/** Starts the API and waits for it; returns its URL. Its Find searches the simulator in the fetchers' budget. */
export async function startApi(
  processes: DemoProcesses,
  o: {
    apiPort: number;
    apiDatabaseUrl: string;
    clock: ClockEnv;
    simUrl: string;
    configuredDomains: string[];
    redisUrl: string;
    /** Where it asks the fetchers to check that an opened VOD still plays. */
    brokers: string;
    prefix: string;
  },
): Promise<string> {
  const apiUrl = `http://127.0.0.1:${o.apiPort}`;
  processes.start("api", "services/api/src/main.ts", [], {
    // Its own login, read-only, as in compose.
    DATABASE_URL: onDatabase(o.apiDatabaseUrl, "vod_demo"),
    PORT: String(o.apiPort),
    OPS_PORT: String(API_OPS_PORT),
    LOG_LEVEL: "info",
    ...simulatorEnv(o),
    REDIS_URL: o.redisUrl,
    KAFKA_BROKERS: o.brokers,
    TOPIC_PREFIX: o.prefix,
    ...o.clock,
  });
  await waitForHttp(`http://127.0.0.1:${API_OPS_PORT}/healthz`, 60_000);
  return apiUrl;
}
