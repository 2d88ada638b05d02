import { GAMES } from "./games.ts";
import { Rng, hashUnit, mix32 } from "./prng.ts";
import type { Vod } from "./vod.ts";
import type { SessionSpec, StreamerSpec, WorldOptions } from "./world-options.ts";

export interface Streamer {
  readonly idx: number;
  readonly id: string;
  readonly login: string;
  readonly displayName: string;
  readonly createdAtMs: number;
  readonly popularity: number;
  /** Constant viewers: a scripted streamer's, or a random one's during a false start (null otherwise). */
  fixedViewers: number | null;
  /** Home domain: where its VODs go unless scattered; changes for good when the streamer migrates. */
  domain: string;
  readonly hidden: boolean;
  readonly subOnly: boolean;
  readonly savesVods: boolean;
  readonly language: string;
  readonly gameIdx: number;
  readonly isMature: boolean;
  readonly rng: Rng;
  /** Remaining scripted sessions; null for random streamers. */
  readonly script: SessionSpec[] | null;
  live: Vod | null;
  nextStartMs: number;
  pendingSameId: boolean;
  lastStreamId: string | null;
  sessions: number;
  /** How often the home domain changed for good. */
  migrations: number;
  vods: Vod[];
  livePos: number;
}

type Profile = Omit<
  Streamer,
  "live" | "nextStartMs" | "pendingSameId" | "lastStreamId" | "sessions" | "migrations" | "vods" | "livePos"
>;

const LANGUAGES: readonly [string, number][] = [
  ["EN", 45],
  ["ES", 10],
  ["PT", 7],
  ["DE", 6],
  ["RU", 6],
  ["FR", 5],
  ["JA", 5],
  ["KO", 4],
  ["IT", 3],
  ["ZH", 2],
  ["PL", 2],
  ["TR", 2],
  ["OTHER", 3],
];
const LANGUAGE_TOTAL = LANGUAGES.reduce((sum, [, w]) => sum + w, 0);

const SYLLABLES = ["ka", "zu", "mi", "ro", "xx", "lo", "ne", "tv", "gg", "pro", "ba", "shi", "doo", "kek", "vi", "ra"];

/** Each streamer draws from its own generator, so the world does not depend on the order of events. */
const streamerRng = (seed: number, idx: number): Rng => new Rng(mix32(seed, idx, 0x5c817));
const defaultId = (idx: number): string => String(20_000_000 + idx * 37);

/**
 * A new streamer: offline, nothing scheduled, no VODs yet. Field by field, not a spread: V8 builds spread
 * objects many times slower and larger, which shows at a few hundred thousand streamers.
 */
function offline(p: Profile): Streamer {
  return {
    idx: p.idx,
    id: p.id,
    login: p.login,
    displayName: p.displayName,
    createdAtMs: p.createdAtMs,
    popularity: p.popularity,
    fixedViewers: p.fixedViewers,
    domain: p.domain,
    hidden: p.hidden,
    subOnly: p.subOnly,
    savesVods: p.savesVods,
    language: p.language,
    gameIdx: p.gameIdx,
    isMature: p.isMature,
    rng: p.rng,
    script: p.script,
    live: null,
    nextStartMs: Infinity,
    pendingSameId: false,
    lastStreamId: null,
    sessions: 0,
    migrations: 0,
    vods: [],
    livePos: -1,
  };
}

/** A streamer from a scenario: constant viewers, the sessions it was given. */
export function scriptedStreamer(
  spec: StreamerSpec,
  idx: number,
  options: Pick<WorldOptions, "seed" | "domains">,
): Streamer {
  const login = spec.login.toLowerCase();
  const rng = streamerRng(options.seed, idx);
  const gameIdx = spec.game
    ? GAMES.findIndex((g) => g.name === spec.game || g.id === spec.game)
    : rng.int(0, GAMES.length - 1);
  return offline({
    idx,
    id: spec.id ?? defaultId(idx),
    login,
    displayName: spec.displayName ?? login,
    createdAtMs: Date.UTC(2015, 0, 1) + idx * 60_000,
    popularity: spec.viewers,
    fixedViewers: spec.viewers,
    domain: spec.domain ?? (options.domains[0] as string),
    hidden: spec.hidden ?? false,
    subOnly: spec.subOnly ?? false,
    savesVods: spec.savesVods ?? true,
    language: spec.language ?? "EN",
    gameIdx: Math.max(0, gameIdx),
    isMature: false,
    rng,
    script: [...(spec.sessions ?? [])].sort((a, b) => a.startMs - b.startMs),
  });
}

/**
 * Some streams have no category on Twitch (game null). Decided by a hash, not a draw from the
 * streamer's generator, so worlds built before this existed keep every other property.
 */
function categoryOf(drawn: number, seed: number, idx: number, noCategory: number): number {
  return noCategory > 0 && hashUnit(seed, idx, 0xca7e) < noCategory ? -1 : drawn;
}

/** Home domains fall along the list with this power: `floor(u^DOMAIN_SKEW * n)` (low-index hosts are the big ones). */
const DOMAIN_SKEW = 1.6;

/** Share of streamers whose home is `domains[i]`: what "weighted by domain popularity" means here. */
export function domainWeight(i: number, n: number): number {
  return Math.pow((i + 1) / n, 1 / DOMAIN_SKEW) - Math.pow(i / n, 1 / DOMAIN_SKEW);
}

/** A domain other than `current`, drawn with `u` in [0, 1) by popularity. */
export function otherDomainByPopularity(u: number, domains: readonly string[], current: string): string {
  const n = domains.length;
  let total = 0;
  for (let i = 0; i < n; i++) if (domains[i] !== current) total += domainWeight(i, n);
  if (total === 0) return current;
  let left = u * total;
  for (let i = 0; i < n; i++) {
    if (domains[i] === current) continue;
    left -= domainWeight(i, n);
    if (left < 0) return domains[i] as string;
  }
  return domains.findLast((d) => d !== current) as string;
}

/**
 * A streamer of the random population, drawn from the seed and its index alone. `arrivedAtMs` marks one who
 * joins during the run: a new account.
 */
export function randomStreamer(
  idx: number,
  options: Pick<WorldOptions, "seed" | "rates" | "domains">,
  arrivedAtMs?: number,
): Streamer {
  const { seed, rates, domains } = options;
  const rng = streamerRng(seed, idx);
  const word = `${rng.pick(SYLLABLES)}${rng.pick(SYLLABLES)}${rng.chance(0.5) ? rng.pick(SYLLABLES) : ""}`;
  const sep = rng.chance(0.12) ? "_" : "";
  const login = `${word}${sep}${idx.toString(36)}`.padEnd(4, "0");
  // Pareto: about half the streamers have 0-1 viewers, a handful have six figures.
  const popularity = Math.min(rates.maxViewers, Math.floor(Math.pow(1 - rng.next(), -1 / rates.viewerAlpha)) - 1);
  let lang = rng.next() * LANGUAGE_TOTAL;
  let language = "EN";
  for (const [code, weight] of LANGUAGES) {
    if ((lang -= weight) < 0) {
      language = code;
      break;
    }
  }
  // Drawn even for a new account, so the draws after it stay in order.
  const displayName = rng.chance(0.3) ? login.toUpperCase() : login;
  const oldAccount = Date.UTC(2012, 0, 1) + Math.floor(rng.next() * 12 * 365 * 86_400) * 1000;
  return offline({
    idx,
    id: defaultId(idx),
    login,
    displayName,
    createdAtMs: arrivedAtMs ?? oldAccount,
    popularity,
    fixedViewers: null,
    // Low-index domains get most streamers, as the big Twitch hosts do.
    domain: domains[
      Math.min(domains.length - 1, Math.floor(Math.pow(rng.next(), DOMAIN_SKEW) * domains.length))
    ] as string,
    hidden: rng.chance(rates.hidden),
    subOnly: rng.chance(rates.subOnly),
    savesVods: !rng.chance(rates.noSaveStreamer),
    language,
    gameIdx: categoryOf(rng.int(0, GAMES.length - 1), seed, idx, rates.noCategory),
    isMature: rng.chance(0.15),
    rng,
    script: null,
  });
}
