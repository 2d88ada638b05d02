import type { Logger } from "@vod/log";
import { RealClock, VirtualClock, type Clock } from "./clock.ts";
import type { FaultSpecInput } from "./faults.ts";
import { scenarioSchema, toStreamerSpec, type Scenario, type StreamerInput } from "./scenario.ts";
import { parseOptionalSpan, parseWhen } from "./times.ts";
import {
  DEFAULT_RATES,
  DEFAULT_WORLD,
  REALISTIC_DOMAINS,
  REALISTIC_RATES,
  UNCONFIGURED_DOMAIN,
  type WorldKind,
  type WorldOptions,
  type WorldRates,
} from "./world-options.ts";

/** Virtual clocks start here unless told otherwise, so a seed alone fixes every timestamp. */
export const DEFAULT_START = Date.UTC(2025, 0, 6, 12, 0, 0);

export interface SimulatorOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  seed?: number;
  /**
   * `realistic`: Twitch's shape (REALISTIC_RATES, REALISTIC_DOMAINS with a host the services are not configured
   * with); `default`: the older, gentler world most tests were written against. `rates` and `domains` override either.
   */
  world?: WorldKind;
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
  /** The body of every CDN segment (default: one MPEG-TS packet); a real one makes archived playlists playable. */
  segment?: Buffer;
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

/** Options from a parsed scenario file; flags given on the command line override them. */
export function optionsFromScenario(raw: unknown): SimulatorOptions {
  const s: Scenario = scenarioSchema.parse(raw);
  return {
    seed: s.seed,
    streams: s.streams,
    start: s.start,
    speed: s.clock && s.clock !== "virtual" ? s.clock.speed : undefined,
    muteIntervalMs: parseOptionalSpan(s.muteInterval),
    viewerTickMs: parseOptionalSpan(s.viewerTick),
    retainMs: parseOptionalSpan(s.retain),
    playlistGraceMs: parseOptionalSpan(s.playlistGrace),
    domains: s.domains,
    deadDomains: s.deadDomains,
    rates: s.rates,
    streamers: s.streamers,
    faults: s.faults,
  };
}

/** The clock given, or a real-time one when `speed` is given, else a virtual one. */
export function clockFor(options: SimulatorOptions): Clock {
  const start =
    options.start !== undefined
      ? parseWhen(options.start, options.speed !== undefined ? Date.now() : DEFAULT_START)
      : options.speed !== undefined
        ? Date.now()
        : DEFAULT_START;
  return options.clock ?? (options.speed !== undefined ? new RealClock(options.speed, start) : new VirtualClock(start));
}

/** The world to simulate; scripted session times relative to `base` (the start) are resolved here. */
export function worldOptionsFor(options: SimulatorOptions, base: number): WorldOptions {
  const realistic = options.world === "realistic";
  const domains = options.domains ?? (realistic ? REALISTIC_DOMAINS : DEFAULT_WORLD.domains);
  return {
    ...DEFAULT_WORLD,
    kind: realistic ? "realistic" : "default",
    seed: options.seed ?? 1,
    streams: options.streams ?? 20,
    muteIntervalMs: options.muteIntervalMs ?? DEFAULT_WORLD.muteIntervalMs,
    viewerTickMs: options.viewerTickMs ?? DEFAULT_WORLD.viewerTickMs,
    retainMs: options.retainMs ?? DEFAULT_WORLD.retainMs,
    domains,
    configuredDomains: realistic ? domains.filter((d) => d !== UNCONFIGURED_DOMAIN) : domains,
    playlistGraceMs: options.playlistGraceMs ?? DEFAULT_WORLD.playlistGraceMs,
    rates: { ...(realistic ? REALISTIC_RATES : DEFAULT_RATES), ...options.rates },
    streamers: (options.streamers ?? []).map((s) => toStreamerSpec(s, base)),
  };
}
