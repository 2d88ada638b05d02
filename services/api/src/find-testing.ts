import type { FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { inject } from "vitest";
import { systemClock } from "@vod/clock";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { LIVE_VOD_DOMAINS, processPlaylist } from "@vod/twitch";
import { startSimulator, type Simulator, type SimulatorOptions, type VodTruth } from "@vod/twitch-sim";
import { buildApp } from "./app.ts";
import { createReadPool } from "./db.ts";
import type { FindEvent } from "./find-jobs.ts";
import type { FindOptions } from "./find-search.ts";
import { insertVods } from "./testing.ts";

export const DOMAINS = LIVE_VOD_DOMAINS.slice(0, 4);
const [D0, D1, D2] = DOMAINS as [string, string, string];

/** Streamers whose VODs Twitch no longer lists (`hidden`): only a CDN search finds them. */
export const STREAMERS: NonNullable<SimulatorOptions["streamers"]> = [
  { login: "archived_one", id: "4001", viewers: 900, domain: D1, sessions: [{ start: "+10m", duration: "40m" }] },
  {
    login: "hidden_one",
    id: "4002",
    viewers: 800,
    domain: D2,
    hidden: true,
    sessions: [{ start: "+12m", duration: "40m" }],
  },
  {
    login: "hidden_two",
    id: "4003",
    viewers: 700,
    domain: D0,
    hidden: true,
    sessions: [{ start: "+14m", duration: "40m" }],
  },
  {
    login: "hidden_three",
    id: "4004",
    viewers: 600,
    domain: D1,
    hidden: true,
    sessions: [{ start: "+16m", duration: "40m" }],
  },
];

/** Find's settings against the simulator, on a budget of its own in the test Redis. */
export function findOptions(sim: Simulator, over: Partial<FindOptions> & { perSecond?: number } = {}): FindOptions {
  const { perSecond = 10, ...rest } = over;
  return {
    keepMs: 600_000,
    perClientPerHour: 10,
    maxRunning: 4,
    budget: {
      redisUrl: inject("redisUrl"),
      id: `find-test-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
      perSecond,
      slackMsPerSecond: 30,
      share: 0.2,
      commandTimeoutMs: 2_000,
    },
    recover: {
      domains: DOMAINS,
      urlTemplate: sim.cdnUrlTemplate,
      discoverable: /^$/,
      scoreHalfLifeMs: 6 * 3_600_000,
      cdn: {
        concurrency: 4,
        budget: 300,
        windowMs: 300_000,
        connectTimeoutMs: 1_000,
        headersTimeoutMs: 2_000,
        bodyTimeoutMs: 2_000,
        requestTimeoutMs: 4_000,
      },
    },
    checkSegments: 3,
    gql: { endpoint: sim.gqlUrl, clientId: "test", timeoutMs: 3_000 },
    ...rest,
  };
}

export interface FindWorld {
  sim: Simulator;
  tdb: TestDatabase;
  truth(login: string): VodTruth;
  /** Archives `login`'s VOD as the fetcher does, with its Twitch video id. */
  archive(login: string): Promise<VodTruth>;
  close(): Promise<void>;
}

export async function findWorld(o: Partial<SimulatorOptions> = {}): Promise<FindWorld> {
  const sim = await startSimulator({ seed: 22, streams: 4, domains: DOMAINS, streamers: STREAMERS, ...o });
  sim.clock.advance(3 * 3_600_000);
  const tdb = await freshDatabase();
  const truth = (login: string) => sim.vods({ login, state: "ended" })[0]!;
  return {
    sim,
    tdb,
    truth,
    async archive(login) {
      const vod = truth(login);
      const url = sim.playlistUrl(vod);
      const processed = processPlaylist(await (await fetch(url)).text(), url);
      await insertVods(tdb.pool, [
        {
          streamId: Number(vod.streamId),
          startTime: vod.startTime,
          streamerId: Number(vod.streamerId),
          login: vod.login,
          playlist: processed.text,
          durationSeconds: processed.durationSeconds,
          segmentCount: processed.segments,
          mutedCount: processed.mutedSegments,
        },
      ]);
      await tdb.pool.query("update vods set video_id = $1 where stream_id = $2", [vod.videoId, vod.streamId]);
      return vod;
    },
    async close() {
      await sim.close();
      await tdb.drop();
    },
  };
}

export interface FindApi {
  app: FastifyInstance;
  base: string;
  close(): Promise<void>;
}

/** The API with Find on the test database, listening on a free port. */
export async function findApi(world: FindWorld, find: FindOptions, trustProxy = false): Promise<FindApi> {
  const db = createReadPool({
    url: world.tdb.url,
    max: 4,
    queueMax: 32,
    acquireTimeoutMs: 2_000,
    statementTimeoutMs: 5_000,
  });
  const app = await buildApp({
    log: false,
    registry: new Registry(),
    clock: systemClock,
    aggregateTtlMs: 0,
    // Shedding is not what these tests are about; on a loaded machine a late sample would shed their requests.
    maxEventLoopDelayMs: 10_000,
    dbQueueMax: 32,
    retryAfterSeconds: 1,
    listCacheTtlMs: 0,
    playlistCacheTtlMs: 0,
    db,
    find,
    trustProxy,
  });
  const base = await app.listen({ host: "127.0.0.1", port: 0 });
  return {
    app,
    base,
    async close() {
      await app.close();
      await db.close();
    },
  };
}

/** A wall time as the browser's datetime-local field holds it, in `zone`. */
export function localTime(iso: string, zone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    })
      .formatToParts(new Date(iso))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
}

/** Reads a find's server-sent events until its last (`found` or `failed`). */
export async function readEvents(url: string, headers: Record<string, string> = {}): Promise<FindEvent[]> {
  const res = await fetch(url, { headers: { accept: "text/event-stream", ...headers } });
  if (res.status !== 200) throw new Error(`events: HTTP ${res.status}`);
  const events: FindEvent[] = [];
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      const frame = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = frame.split("\n").find((l) => l.startsWith("data: "));
      if (data) events.push(JSON.parse(data.slice(6)) as FindEvent);
    }
    if (events.at(-1) && events.at(-1)!.type !== "progress") break;
  }
  return events;
}

/** Cancels a find (retrying a shed request, as a client would) and waits until it has ended. */
export async function cancelFind(base: string, id: string, headers: Record<string, string> = {}): Promise<number> {
  let status = 503;
  for (let i = 0; i < 20 && status === 503; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 250));
    status = (await fetch(`${base}/v1/finds/${id}`, { method: "DELETE", headers })).status;
  }
  if (status !== 204) return status;
  for (let i = 0; i < 100; i++) {
    const state = (await (await fetch(`${base}/v1/finds/${id}`)).json()) as { status: string };
    if (state.status !== "running") return status;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`find ${id} did not end after its cancel`);
}
