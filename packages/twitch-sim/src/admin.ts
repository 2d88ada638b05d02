import type { IncomingMessage, ServerResponse } from "node:http";
import { ZodError } from "zod";
import type { FaultSpecInput } from "./faults.ts";
import { readBody, sendJson } from "./http-io.ts";
import type { StreamerInput } from "./scenario.ts";
import type { Simulator } from "./server.ts";
import { iso, parseOptionalSpan, parseSpan, parseWhen } from "./times.ts";
import { queryVods } from "./truth.ts";

/** Answered with 404; any other error with 400. */
export class NotFound extends Error {}

async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  if (raw.trim() === "") return {};
  const parsed: unknown = JSON.parse(raw);
  if (!parsed || typeof parsed !== "object") throw new Error("expected a JSON object");
  return parsed as Record<string, unknown>;
}

/** The admin API under /admin/ (README.md): ground truth, faults, clock and scripted control of streams. */
export function adminApi(sim: Simulator): (req: IncomingMessage, res: ServerResponse, url: URL) => void {
  return (req, res, url) =>
    void route(sim, req, res, url).catch((err: unknown) => {
      const status = err instanceof NotFound ? 404 : err instanceof ZodError || err instanceof Error ? 400 : 500;
      const message = err instanceof ZodError ? err.issues : err instanceof Error ? err.message : String(err);
      if (!res.headersSent) sendJson(res, status, { error: message });
    });
}

async function route(sim: Simulator, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const { world, faults, clock } = sim;
  const path = url.pathname;
  const method = req.method ?? "GET";
  const body = () => readJsonObject(req);
  const num = (name: string) => {
    const v = url.searchParams.get(name);
    return v === null ? undefined : Number(v);
  };
  const when = (name: string) => {
    const v = url.searchParams.get(name);
    return v === null ? undefined : parseWhen(/^\d+$/.test(v) ? Number(v) : v, clock.now());
  };
  let m: RegExpExecArray | null;
  if (method === "GET" && path === "/admin/stats") return sendJson(res, 200, sim.stats());
  if (method === "POST" && path === "/admin/stats/reset") {
    sim.resetStats();
    return sendJson(res, 200, { ok: true });
  }
  if (method === "GET" && path === "/admin/vods") {
    const state = url.searchParams.get("state");
    const result = queryVods(world, {
      login: url.searchParams.get("login") ?? undefined,
      streamId: url.searchParams.get("streamId") ?? undefined,
      state: state === "live" || state === "ended" ? state : undefined,
      endedFrom: when("endedFrom"),
      endedBefore: when("endedBefore"),
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
  if (method === "DELETE" && path === "/admin/faults")
    return sendJson(res, 200, { cleared: faults.clear(), faults: [] });
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
      if (b.advance !== undefined) clock.advance(parseSpan(b.advance as string | number));
      if (b.set !== undefined) clock.set(parseWhen(b.set as string | number, clock.now()));
    }
    // Catch the world up now rather than on the next request.
    world.sync();
    return sendJson(res, 200, { now: iso(clock.now()), nowMs: clock.now(), kind: clock.kind });
  }
  if (method === "GET" && path === "/admin/world") {
    return sendJson(res, 200, {
      now: iso(world.sync()),
      live: world.liveCount,
      streamers: world.streamers.length,
      indexBuilds: world.indexBuilds,
      muteIntervalMs: world.options.muteIntervalMs,
      world: world.options.kind,
      domains: sim.domains,
      configuredDomains: world.options.configuredDomains,
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
        durationMs: parseOptionalSpan(b.duration as string | number | undefined),
        sameStreamId: b.sameStreamId === true,
        variant: b.variant as "start" | "minus1" | "seconds" | undefined,
        domain: b.domain as string | undefined,
        saved: b.saved as boolean | undefined,
        deleteAfterMs: parseOptionalSpan(b.deleteAfter as string | number | undefined),
        muted: b.muted as [number, number][] | undefined,
      }),
    );
  }
  throw new NotFound(`no admin route ${method} ${path}`);
}
