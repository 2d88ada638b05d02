import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { DEAD_VOD_DOMAINS } from "@vod/twitch";
import { NotFound, adminApi } from "./admin.ts";
import { cdnOptions } from "./cdn.ts";
import type { Clock } from "./clock.ts";
import { endpoints } from "./endpoints.ts";
import { FaultGate } from "./fault-gate.ts";
import { FaultSet } from "./faults.ts";
import { GqlService } from "./gql.ts";
import { router } from "./router.ts";
import { toStreamerSpec, type StreamerInput } from "./scenario.ts";
import { clockFor, worldOptionsFor, type SimulatorOptions } from "./simulator-options.ts";
import { Stats, type StatsSnapshot } from "./stats.ts";
import { iso } from "./times.ts";
import { queryVods, truthOf, type VodFilter, type VodTruth } from "./truth.ts";
import { World } from "./world.ts";

export interface Simulator {
  /** Base URL, e.g. http://127.0.0.1:8900 */
  readonly url: string;
  readonly gqlUrl: string;
  /** Template for CDN roots by path prefix: `{url}/cdn/{domain}/`. */
  readonly cdnUrlTemplate: string;
  /** Root URL of one CDN domain; a VOD's playlist is this plus its path. */
  cdnBaseUrl(domain: string): string;
  /** Full URL of a VOD's playlist on its own domain. */
  playlistUrl(vod: Pick<VodTruth, "domain" | "path">): string;
  readonly domains: readonly string[];
  readonly deadDomains: readonly string[];
  readonly clock: Clock;
  readonly world: World;
  readonly faults: FaultSet;
  stats(): StatsSnapshot;
  resetStats(): void;
  vods(filter?: VodFilter): VodTruth[];
  /** Scripted control of streams, the same as the admin routes. */
  goLive(login: string, session?: Parameters<World["goLive"]>[1]): VodTruth;
  endStream(login: string): VodTruth;
  addStreamer(spec: StreamerInput): void;
  deleteVod(videoId: string): VodTruth;
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const log = options.logger;
  const clock = clockFor(options);
  const base = clock.now();
  const world = new World(worldOptionsFor(options, base), clock);
  const { seed, streams, domains } = world.options;
  const deadDomains = options.deadDomains ?? DEAD_VOD_DOMAINS;
  const faults = new FaultSet(clock, seed);
  if (options.faults?.length) faults.add(options.faults, base);
  const stats = new Stats();
  const gate = new FaultGate(faults, stats, options.schedule);

  const sim: Simulator = {
    url: "",
    gqlUrl: "",
    cdnUrlTemplate: "",
    cdnBaseUrl: (domain) => `${sim.url}/cdn/${domain}/`,
    playlistUrl: (vod) => `${sim.url}/cdn/${vod.domain}/${vod.path}`,
    domains,
    deadDomains,
    clock,
    world,
    faults,
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    vods: (filter) => queryVods(world, filter).vods,
    goLive: (login, session) => truthOf(world, world.goLive(login, session)),
    endStream: (login) => truthOf(world, world.endStream(login)),
    addStreamer: (spec) => void world.addStreamer(toStreamerSpec(spec, clock.now())),
    deleteVod: (videoId) => {
      const vod = world.vodByVideoId(videoId);
      if (!vod) throw new NotFound(`no VOD with video id ${videoId}`);
      world.deleteVod(vod);
      return truthOf(world, vod);
    },
    close: async () => {
      gate.close();
      stats.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server = createServer(
    router({
      cdnHosts: new Set([...domains, ...deadDomains]),
      endpoints: endpoints({
        world,
        cdnOptions: cdnOptions(deadDomains, options.playlistGraceMs ?? 120_000, options.segment),
        gqlService: new GqlService(world, faults),
        gate,
        malformed: (domain, login) => faults.malformedPlaylist(domain, login),
        stats,
        log,
      }),
      admin: adminApi(sim),
      stats,
      clock,
      log,
    }),
  );
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.address.includes(":") ? `[${address.address}]` : address.address}:${address.port}`;
  Object.assign(sim, { url, gqlUrl: `${url}/gql`, cdnUrlTemplate: `${url}/cdn/{domain}/` });
  log?.info(
    { url, seed, streams, clock: clock.kind, now: iso(clock.now()), live: world.liveCount },
    "twitch simulator listening",
  );
  return sim;
}
