import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { DEAD_VOD_DOMAINS, LIVE_VOD_DOMAINS } from "@vod/twitch";
import type { Logger } from "@vod/log";
import { ZodError } from "zod";
import { kindOf, serveCdn, type CdnOptions, type CdnResponse } from "./cdn.ts";
import { RealClock, VirtualClock, type Clock } from "./clock.ts";
import { FaultSet, type FaultSpecInput } from "./faults.ts";
import { GqlService, type GqlRequest } from "./gql.ts";
import { scenarioSchema, toStreamerSpec, type Scenario, type StreamerInput } from "./scenario.ts";
import { Stats, type PathKind, type StatsSnapshot } from "./stats.ts";
import { iso, parseSpan, parseWhen } from "./times.ts";
import { queryVods, truthOf, type VodFilter, type VodTruth } from "./truth.ts";
import { DEFAULT_RATES, DEFAULT_WORLD, World, pathOf, type Vod, type WorldRates } from "./world.ts";

export const CLIENT_ID_MISSING = {
  error: "Bad Request",
  status: 400,
  message: 'The "Client-ID" header is missing from the request.',
};

/** Virtual clocks start here unless told otherwise, so a seed alone fixes every timestamp. */
export const DEFAULT_START = Date.UTC(2025, 0, 6, 12, 0, 0);

const LISTING_DOMAINS = ["d3aqoihi2n8ty8.cloudfront.net"];

export interface SimulatorOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  seed?: number;
  /** About this many random streams live at any time. */
  streams?: number;
  /** A clock to use; otherwise a real-time clock when `speed` is given, else a virtual one. */
  clock?: Clock;
  speed?: number;
  /** Start of simulated time (Unix ms or ISO): default 2025-01-06T12:00:00Z virtual, now for real time. */
  start?: number | string;
  muteIntervalMs?: number;
  viewerTickMs?: number;
  retainMs?: number;
  playlistGraceMs?: number;
  /** Domains VODs live on (default: the live list in @vod/twitch). */
  domains?: readonly string[];
  /** Hosts that answer 403 for everything (default: the dead list in @vod/twitch). */
  deadDomains?: readonly string[];
  rates?: Partial<WorldRates>;
  /** Scripted streamers; session times may be relative ("+10m") to the start. */
  streamers?: StreamerInput[];
  faults?: FaultSpecInput[];
  logger?: Logger;
  /** Runs `fn` after `ms` of wall time, for latency faults; tests pass their own to avoid waiting. */
  schedule?: (ms: number, fn: () => void) => void;
}

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

/** Options from a parsed scenario file; flags given on the command line override them. */
export function optionsFromScenario(raw: unknown): SimulatorOptions {
  const s: Scenario = scenarioSchema.parse(raw);
  return {
    seed: s.seed,
    streams: s.streams,
    start: s.start,
    speed: s.clock && s.clock !== "virtual" ? s.clock.speed : undefined,
    muteIntervalMs: s.muteInterval === undefined ? undefined : parseSpan(s.muteInterval),
    viewerTickMs: s.viewerTick === undefined ? undefined : parseSpan(s.viewerTick),
    retainMs: s.retain === undefined ? undefined : parseSpan(s.retain),
    playlistGraceMs: s.playlistGrace === undefined ? undefined : parseSpan(s.playlistGrace),
    domains: s.domains,
    deadDomains: s.deadDomains,
    rates: s.rates,
    streamers: s.streamers,
    faults: s.faults,
  };
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const log = options.logger;
  const start =
    options.start !== undefined
      ? parseWhen(options.start, options.speed !== undefined ? Date.now() : DEFAULT_START)
      : options.speed !== undefined
        ? Date.now()
        : DEFAULT_START;
  const clock = options.clock ?? (options.speed !== undefined ? new RealClock(options.speed, start) : new VirtualClock(start));
  const seed = options.seed ?? 1;
  const domains = options.domains ?? LIVE_VOD_DOMAINS;
  const deadDomains = options.deadDomains ?? DEAD_VOD_DOMAINS;
  const base = clock.now();
  const world = new World(
    {
      ...DEFAULT_WORLD,
      seed,
      streams: options.streams ?? 20,
      muteIntervalMs: options.muteIntervalMs ?? DEFAULT_WORLD.muteIntervalMs,
      viewerTickMs: options.viewerTickMs ?? DEFAULT_WORLD.viewerTickMs,
      retainMs: options.retainMs ?? DEFAULT_WORLD.retainMs,
      domains,
      rates: { ...DEFAULT_RATES, ...options.rates },
      streamers: (options.streamers ?? []).map((s) => toStreamerSpec(s, base)),
    },
    clock,
  );
  const faults = new FaultSet(clock, seed);
  if (options.faults?.length) faults.add(options.faults, base);
  const stats = new Stats();
  const gql = new GqlService(world, faults);
  const cdnOptions: CdnOptions = {
    deadDomains: new Set(deadDomains),
    listingDomains: new Set(LISTING_DOMAINS.filter((d) => deadDomains.includes(d))),
    playlistGraceMs: options.playlistGraceMs ?? 120_000,
  };
  const cdnHosts = new Set([...domains, ...deadDomains]);
  const held = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const later = (ms: number, fn: () => void) => {
    if (ms <= 0) return fn();
    if (options.schedule) return options.schedule(ms, fn);
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  /** Applies the faults in force to a request; `proceed` runs only if it is to be answered normally. */
  const gate = (
    req: IncomingMessage,
    res: ServerResponse,
    domain: string | null,
    kind: PathKind,
    proceed: () => void,
  ): void => {
    const statsDomain = domain ?? "gql";
    const verdict = faults.verdict(domain, req.socket.remoteAddress ?? "?");
    if (verdict.action === "blackhole") {
      stats.record(statsDomain, kind, "blackhole");
      held.add(req.socket);
      req.socket.once("close", () => held.delete(req.socket));
      return;
    }
    later(verdict.delayMs, () => {
      if (verdict.action === "reset") {
        stats.record(statsDomain, kind, "reset");
        req.socket.resetAndDestroy();
      } else if (verdict.action === "status") {
        stats.record(statsDomain, kind, verdict.status);
        const body = verdict.status === 429 ? "Too Many Requests" : "Service Unavailable";
        send(res, verdict.status, { "content-type": "text/plain" }, body, req.method === "HEAD");
      } else proceed();
    });
  };

  const handleCdn = (req: IncomingMessage, res: ServerResponse, domain: string, path: string) => {
    stats.cdnArrival();
    const kind = kindOf(path);
    gate(req, res, domain, kind, () => {
      let answer: CdnResponse;
      if (req.method !== "GET" && req.method !== "HEAD") {
        answer = { status: 405, kind, headers: { "content-type": "text/plain" }, body: "method not allowed" };
      } else {
        world.sync();
        answer = serveCdn(world, cdnOptions, domain, path);
      }
      stats.record(domain, answer.kind, answer.status);
      send(res, answer.status, answer.headers, answer.body, req.method === "HEAD");
    });
  };

  const handleGql = async (req: IncomingMessage, res: ServerResponse) => {
    const clientId = req.headers["client-id"];
    if (typeof clientId !== "string" || clientId.trim() === "") {
      stats.gqlArrival(0);
      stats.record("gql", "gql", 400);
      return sendJson(res, 400, CLIENT_ID_MISSING);
    }
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      stats.gqlArrival(0);
      stats.record("gql", "gql", 400);
      return sendJson(res, 400, { error: "Bad Request", status: 400, message: "The request body is not valid JSON." });
    }
    const batch = Array.isArray(body);
    const requests = (batch ? body : [body]) as GqlRequest[];
    stats.gqlArrival(requests.length);
    gate(req, res, null, "gql", () => {
      void Promise.all(requests.map((r) => gql.run(r && typeof r === "object" ? r : {}))).then(
        (results) => {
          stats.record("gql", "gql", 200);
          sendJson(res, 200, batch ? results : results[0]);
        },
        (err: unknown) => {
          log?.error({ err }, "gql execution failed");
          stats.record("gql", "gql", 500);
          sendJson(res, 500, { error: "Internal Server Error", status: 500, message: "simulator error" });
        },
      );
    });
  };

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
      const vod: Vod | undefined = world.vodByVideoId(videoId);
      if (!vod) throw new NotFound(`no VOD with video id ${videoId}`);
      world.deleteVod(vod);
      return truthOf(world, vod);
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of held) s.destroy();
      held.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const admin = adminRoutes(sim, world, stats, faults);

  const server = createServer((req, res) => {
    try {
      route(req, res);
    } catch (err) {
      log?.warn({ err, url: req.url }, "bad request");
      if (!res.headersSent) send(res, 400, { "content-type": "text/plain" }, "bad request", false);
    }
  });
  server.keepAliveTimeout = 30_000;

  function route(req: IncomingMessage, res: ServerResponse): void {
    const host = (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
    const url = new URL(req.url ?? "/", "http://sim");
    const path = url.pathname;
    if (cdnHosts.has(host)) return handleCdn(req, res, host, decodeURIComponent(path.slice(1)));
    if (path.startsWith("/cdn/")) {
      const rest = path.slice(5);
      const slash = rest.indexOf("/");
      const domain = (slash < 0 ? rest : rest.slice(0, slash)).toLowerCase();
      if (!cdnHosts.has(domain)) {
        stats.record("sim", "other", 404);
        return send(res, 404, { "content-type": "text/plain" }, `unknown CDN domain ${domain}`, false);
      }
      return handleCdn(req, res, domain, decodeURIComponent(slash < 0 ? "" : rest.slice(slash + 1)));
    }
    if (path === "/gql") {
      if (req.method !== "POST") return send(res, 405, { "content-type": "text/plain", allow: "POST" }, "use POST", false);
      return void handleGql(req, res).catch((err: unknown) => {
        log?.error({ err }, "gql request failed");
        if (!res.headersSent) sendJson(res, 500, { error: "simulator error" });
      });
    }
    if (path === "/healthz") return sendJson(res, 200, { ok: true, now: iso(clock.now()) });
    if (path.startsWith("/admin/")) {
      return void admin(req, res, url).catch((err: unknown) => {
        const status = err instanceof NotFound ? 404 : err instanceof ZodError || err instanceof Error ? 400 : 500;
        const message = err instanceof ZodError ? err.issues : err instanceof Error ? err.message : String(err);
        if (!res.headersSent) sendJson(res, status, { error: message });
      });
    }
    stats.record("sim", "other", 404);
    send(res, 404, { "content-type": "text/plain" }, "not found", false);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.address.includes(":") ? `[${address.address}]` : address.address}:${address.port}`;
  Object.assign(sim, { url, gqlUrl: `${url}/gql`, cdnUrlTemplate: `${url}/cdn/{domain}/` });
  log?.info(
    { url, seed, streams: options.streams ?? 20, clock: clock.kind, now: iso(clock.now()), live: world.liveCount },
    "twitch simulator listening",
  );
  return sim;
}

class NotFound extends Error {}

function adminRoutes(sim: Simulator, world: World, stats: Stats, faults: FaultSet) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const path = url.pathname;
    const method = req.method ?? "GET";
    const body = async (): Promise<Record<string, unknown>> => {
      const raw = await readBody(req);
      if (raw.trim() === "") return {};
      const parsed: unknown = JSON.parse(raw);
      if (!parsed || typeof parsed !== "object") throw new Error("expected a JSON object");
      return parsed as Record<string, unknown>;
    };
    const num = (name: string) => {
      const v = url.searchParams.get(name);
      return v === null ? undefined : Number(v);
    };
    let m: RegExpExecArray | null;
    if (method === "GET" && path === "/admin/stats") return sendJson(res, 200, stats.snapshot());
    if (method === "POST" && path === "/admin/stats/reset") {
      stats.reset();
      return sendJson(res, 200, { ok: true });
    }
    if (method === "GET" && path === "/admin/vods") {
      const state = url.searchParams.get("state");
      const result = queryVods(world, {
        login: url.searchParams.get("login") ?? undefined,
        streamId: url.searchParams.get("streamId") ?? undefined,
        state: state === "live" || state === "ended" ? state : undefined,
        limit: num("limit"),
        offset: num("offset"),
      });
      return sendJson(res, 200, { now: iso(world.now), ...result });
    }
    if (method === "POST" && path === "/admin/vods/delete") {
      const { videoId } = await body();
      return sendJson(res, 200, sim.deleteVod(String(videoId)));
    }
    if (method === "GET" && path === "/admin/faults") return sendJson(res, 200, { faults: faults.list() });
    if (method === "DELETE" && path === "/admin/faults") return sendJson(res, 200, { cleared: faults.clear(), faults: [] });
    if (method === "POST" && path === "/admin/faults") {
      const b = await body();
      let cleared = 0;
      if (b.clear === "all" || b.clear === true) cleared = faults.clear();
      else if (Array.isArray(b.clear)) cleared = faults.clear(b.clear.map(String));
      const added = b.add === undefined ? [] : faults.add(b.add as FaultSpecInput | FaultSpecInput[]);
      return sendJson(res, 200, { added: added.map((f) => f.id), cleared, faults: faults.list() });
    }
    if (path === "/admin/clock") {
      if (method === "POST") {
        const b = await body();
        if (b.advance !== undefined) sim.clock.advance(parseSpan(b.advance as string | number));
        if (b.set !== undefined) sim.clock.set(parseWhen(b.set as string | number, sim.clock.now()));
      }
      world.sync();
      return sendJson(res, 200, { now: iso(sim.clock.now()), nowMs: sim.clock.now(), kind: sim.clock.kind });
    }
    if (method === "GET" && path === "/admin/world") {
      return sendJson(res, 200, {
        now: iso(world.sync()),
        live: world.liveCount,
        streamers: world.streamers.length,
        indexBuilds: world.indexBuilds,
        muteIntervalMs: world.options.muteIntervalMs,
        domains: sim.domains,
        deadDomains: sim.deadDomains,
        memory: process.memoryUsage(),
      });
    }
    if (method === "POST" && path === "/admin/streamers") {
      sim.addStreamer((await body()) as unknown as StreamerInput);
      return sendJson(res, 200, { ok: true });
    }
    if (method === "POST" && (m = /^\/admin\/streams\/([^/]+)\/(live|end)$/.exec(path))) {
      const login = decodeURIComponent(m[1] as string);
      if (!world.streamerByLogin(login)) throw new NotFound(`no streamer ${login}`);
      if (m[2] === "end") return sendJson(res, 200, sim.endStream(login));
      const b = await body();
      return sendJson(
        res,
        200,
        sim.goLive(login, {
          durationMs: b.duration === undefined ? undefined : parseSpan(b.duration as string | number),
          sameStreamId: b.sameStreamId === true,
          variant: b.variant as "start" | "minus1" | "seconds" | undefined,
          domain: b.domain as string | undefined,
          saved: b.saved as boolean | undefined,
          deleteAfterMs: b.deleteAfter === undefined ? undefined : parseSpan(b.deleteAfter as string | number),
          muted: b.muted as [number, number][] | undefined,
        }),
      );
    }
    throw new NotFound(`no admin route ${method} ${path}`);
  };
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer, head: boolean) {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, { ...headers, "content-length": String(bytes.length) });
  res.end(head ? undefined : bytes);
}

function sendJson(res: ServerResponse, status: number, value: unknown) {
  send(res, status, { "content-type": "application/json" }, JSON.stringify(value), false);
}

async function readBody(req: IncomingMessage, limit = 1 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error("request body too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export { pathOf };
