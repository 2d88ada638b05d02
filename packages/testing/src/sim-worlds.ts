// Scripted streamers of the simulator's world, one line each: a test names who streams when, on which
// CDN domain, and what is special about them.
import {
  startSimulator,
  type Simulator,
  type SimulatorOptions,
  type StreamerInput,
  type VodTruth,
} from "@vod/twitch-sim";

type SessionInput = NonNullable<StreamerInput["sessions"]>[number];

/** A streamer with 100 viewers (unless `extra` says) streaming `sessions` on `domain`. */
export const streamer = (
  login: string,
  id: string,
  domain: string | undefined,
  sessions: SessionInput[],
  extra: Omit<Partial<StreamerInput>, "login" | "id" | "domain" | "sessions"> = {},
): StreamerInput => ({ login, id, viewers: 100, ...(domain === undefined ? {} : { domain }), sessions, ...extra });

/** A stream that ends and goes live again under the same stream id (the later paths use the seconds field). */
export const restarted = (first: SessionInput, ...again: SessionInput[]): SessionInput[] => [
  first,
  ...again.map((s) => ({ ...s, sameStreamId: true })),
];

/** What an archived playlist must be: the simulator's own body, segment URIs resolved against its URL. */
export async function absolutePlaylist(sim: Simulator, v: VodTruth): Promise<string> {
  const url = sim.playlistUrl(v);
  const body = await (await fetch(url)).text();
  const base = url.slice(0, url.lastIndexOf("/") + 1);
  return body
    .split("\n")
    .map((l) => (l === "" || l.startsWith("#") ? l : base + l))
    .join("\n");
}

/** A simulator whose only streamers are `streamers` (no random streams unless `more` says), on `domains`. */
export const scriptedSimulator = (
  seed: number,
  domains: readonly string[],
  streamers: StreamerInput[],
  more: Omit<SimulatorOptions, "seed" | "domains" | "streamers"> = {},
): Promise<Simulator> => startSimulator({ seed, streams: 0, domains, streamers, ...more });

/** `n` alike streamers `${prefix}${i}`, ids counting up from `firstId`, taking `domains` in turn. */
export const streamersLike = (
  n: number,
  prefix: string,
  firstId: number,
  domains: readonly string[],
  sessions: SessionInput[],
  extra: Omit<Partial<StreamerInput>, "login" | "id" | "domain" | "sessions"> = {},
): StreamerInput[] =>
  Array.from({ length: n }, (_, i) =>
    streamer(`${prefix}${i}`, String(firstId + i), domains[i % domains.length], sessions, extra),
  );
