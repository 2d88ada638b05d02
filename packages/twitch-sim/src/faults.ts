import { z } from "zod";
import type { Clock } from "./clock.ts";
import { Rng, mix32 } from "./prng.ts";
import { iso, parseSpan, parseWhen } from "./times.ts";

const when = z.union([z.number(), z.string()]);
const span = z.union([z.number().nonnegative(), z.string()]);

/** When a fault applies, in simulated time: from..until, or from..from+for. Open-ended by default. */
const windowFields = {
  id: z.string().min(1).optional(),
  from: when.optional(),
  until: when.optional(),
  for: span.optional(),
};

/** Which requests a fault hits: GQL, or CDN requests to some domains (all unless listed; minus `except`). */
const targetFields = {
  target: z.enum(["cdn", "gql"]).default("cdn"),
  domains: z.array(z.string()).optional(),
  except: z.array(z.string()).optional(),
};

export const faultSpecSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("down"),
    ...windowFields,
    ...targetFields,
    /** `status` answers with that code; `reset` drops the connection with a TCP RST. */
    mode: z.enum(["status", "reset"]).default("status"),
    status: z.number().int().min(400).max(599).default(503),
  }),
  z.object({ kind: z.literal("blackhole"), ...windowFields, ...targetFields }),
  z.object({ kind: z.literal("latency"), ...windowFields, ...targetFields, ms: z.number().nonnegative() }),
  z.object({
    kind: z.literal("rateLimit"),
    ...windowFields,
    ...targetFields,
    /** Requests per client address per window; blocked requests count too, as in a WAF rate rule. */
    limit: z.number().int().positive().default(2000),
    windowMs: span.default(300_000),
    status: z.number().int().min(400).max(599).default(429),
  }),
  z.object({
    kind: z.literal("errors"),
    ...windowFields,
    target: z.literal("gql").default("gql"),
    /** Fields whose resolver fails (query fields, or `videos` / `subscriptionProducts` of a user); HTTP 200, `errors`, a null field. */
    fields: z
      .array(z.enum(["streams", "game", "user", "users", "video", "videos", "subscriptionProducts"]))
      .default(["streams"]),
    /** Fail every Nth call, or each call with this probability (seeded), or every call if neither. */
    every: z.number().int().positive().optional(),
    rate: z.number().min(0).max(1).optional(),
    message: z.string().default("service error"),
  }),
  z.object({
    kind: z.literal("malformed"),
    ...windowFields,
    target: z.literal("cdn").default("cdn"),
    domains: z.array(z.string()).optional(),
    except: z.array(z.string()).optional(),
    /** Only the playlists of these streamers (all if absent). */
    logins: z.array(z.string()).optional(),
    /**
     * `broken`: the first segment URI no parser resolves. `hostile`: that, plus URIs of other schemes
     * and hosts (`file:`, `//elsewhere/`, the cloud metadata address) a stored copy must not carry.
     * `bloated`: short segment lines appended until the body is `bytes` long.
     */
    mode: z.enum(["broken", "hostile", "bloated"]).default("broken"),
    /** For `bloated`: the body's size; 2.5 MiB by default. */
    bytes: z
      .number()
      .int()
      .positive()
      .max(64 * 1024 * 1024)
      .default(2.5 * 1024 * 1024),
  }),
  z.object({
    kind: z.literal("oversized"),
    ...windowFields,
    target: z.literal("gql").default("gql"),
    /** Streamers whose GQL answers carry the oversized text (all if absent). */
    logins: z.array(z.string()).optional(),
    /** The text made long: the broadcaster's login, its title, language, or its category's name. */
    field: z.enum(["login", "title", "language", "game"]).default("title"),
    /** Characters of the text (ASCII, so bytes too): 1.1 MB by default, over Kafka's 1 MB message default. */
    bytes: z
      .number()
      .int()
      .positive()
      .max(16 * 1024 * 1024)
      .default(1_100_000),
  }),
  z.object({
    kind: z.literal("empty"),
    ...windowFields,
    target: z.literal("gql").default("gql"),
    /** Stream lists (`streams`: Query.streams and Game.streams) that answer `edges: []` and no next page. */
    fields: z.array(z.enum(["streams"])).default(["streams"]),
  }),
]);

export type FaultSpecInput = z.input<typeof faultSpecSchema>;

/** What a `malformed` fault does to a playlist. */
export interface Malformation {
  mode: "broken" | "hostile" | "bloated";
  bytes: number;
}
export type FaultSpec = z.output<typeof faultSpecSchema>;

export interface Fault {
  readonly id: string;
  readonly spec: FaultSpec;
  readonly fromMs: number;
  readonly untilMs: number;
  /** Calls seen by an `errors` fault, for `every`. */
  calls: number;
  readonly rng: Rng;
  /** Per client address: arrival times (wall ms) inside the window, for `rateLimit`. */
  readonly hits: Map<string, number[]>;
  readonly rateWindowMs: number;
}

export type CdnVerdict =
  | { action: "pass"; delayMs: number }
  | { action: "status"; status: number; delayMs: number }
  | { action: "reset"; delayMs: number }
  | { action: "blackhole" };

/** The faults in force; decisions depend on simulated time, except rate limits and latency (wall time). */
export class FaultSet {
  #faults: Fault[] = [];
  #serial = 0;

  constructor(
    private readonly clock: Clock,
    private readonly seed: number,
    private readonly wall: () => number = () => performance.now(),
  ) {}

  /** Adds faults; relative times ("+5m") count from `base` (now by default). */
  add(inputs: FaultSpecInput | FaultSpecInput[], base = this.clock.now()): Fault[] {
    const added: Fault[] = [];
    for (const input of Array.isArray(inputs) ? inputs : [inputs]) {
      const spec = faultSpecSchema.parse(input);
      const serial = ++this.#serial;
      const fromMs = spec.from === undefined ? -Infinity : parseWhen(spec.from, base);
      const startForSpan = Number.isFinite(fromMs) ? fromMs : base;
      const untilMs =
        spec.until !== undefined
          ? parseWhen(spec.until, base)
          : spec.for !== undefined
            ? startForSpan + parseSpan(spec.for)
            : Infinity;
      const id = spec.id ?? `f${serial}`;
      this.#faults = this.#faults.filter((f) => f.id !== id);
      const fault: Fault = {
        id,
        spec,
        fromMs,
        untilMs,
        calls: 0,
        rng: new Rng(mix32(this.seed, serial, 0xfa017)),
        hits: new Map(),
        rateWindowMs: spec.kind === "rateLimit" ? parseSpan(spec.windowMs) : 0,
      };
      this.#faults.push(fault);
      added.push(fault);
    }
    return added;
  }

  /** Removes the given faults, or all of them. */
  clear(ids?: string[]): number {
    const before = this.#faults.length;
    this.#faults = ids ? this.#faults.filter((f) => !ids.includes(f.id)) : [];
    return before - this.#faults.length;
  }

  list(): { id: string; from: string | null; until: string | null; active: boolean; spec: FaultSpec }[] {
    const now = this.clock.now();
    return this.#faults.map((f) => ({
      id: f.id,
      from: Number.isFinite(f.fromMs) ? iso(f.fromMs) : null,
      until: Number.isFinite(f.untilMs) ? iso(f.untilMs) : null,
      active: this.#active(f, now),
      spec: f.spec,
    }));
  }

  /** What happens to a request: `domain` is the CDN host, or null for GQL. */
  verdict(domain: string | null, client: string): CdnVerdict {
    const now = this.clock.now();
    let delayMs = 0;
    let outcome: CdnVerdict | null = null;
    for (const f of this.#faults) {
      if (!this.#active(f, now) || !this.#hits(f, domain)) continue;
      const spec = f.spec;
      switch (spec.kind) {
        case "blackhole":
          return { action: "blackhole" };
        case "latency":
          delayMs += spec.ms;
          break;
        case "down":
          outcome ??=
            spec.mode === "reset"
              ? { action: "reset", delayMs: 0 }
              : { action: "status", status: spec.status, delayMs: 0 };
          break;
        case "rateLimit":
          if (this.#overLimit(f, spec.limit, client)) outcome ??= { action: "status", status: spec.status, delayMs: 0 };
          break;
        case "errors":
        case "empty":
        case "malformed":
        case "oversized":
          break;
      }
    }
    return outcome ? { ...outcome, delayMs } : { action: "pass", delayMs };
  }

  /** An `errors` fault's message if this call of a GQL query field should fail. */
  gqlError(field: string): string | null {
    const now = this.clock.now();
    for (const f of this.#faults) {
      const spec = f.spec;
      if (spec.kind !== "errors" || !this.#active(f, now) || !(spec.fields as string[]).includes(field)) continue;
      f.calls++;
      const fail =
        spec.every !== undefined
          ? f.calls % spec.every === 0
          : spec.rate !== undefined
            ? f.rng.next() < spec.rate
            : true;
      if (fail) return spec.message;
    }
    return null;
  }

  /** Whether a stream list should answer empty now (an `empty` fault), as a failing resolver sometimes does. */
  gqlEmpty(field: "streams"): boolean {
    const now = this.clock.now();
    return this.#faults.some((f) => f.spec.kind === "empty" && this.#active(f, now) && f.spec.fields.includes(field));
  }

  /** How a playlist of `login` served from `domain` should be spoilt (the first `malformed` fault that hits it), or null. */
  malformedPlaylist(domain: string, login: string): Malformation | null {
    const now = this.clock.now();
    for (const f of this.#faults) {
      const spec = f.spec;
      if (spec.kind !== "malformed" || !this.#active(f, now)) continue;
      if (spec.domains && !spec.domains.includes(domain)) continue;
      if (spec.except?.includes(domain)) continue;
      if (!spec.logins || spec.logins.includes(login)) return { mode: spec.mode, bytes: spec.bytes };
    }
    return null;
  }

  /** The text fields of `login`'s GQL answers to make `bytes` long (`oversized` faults), by field. */
  oversized(login: string): Partial<Record<"login" | "title" | "language" | "game", number>> {
    const now = this.clock.now();
    const out: Partial<Record<"login" | "title" | "language" | "game", number>> = {};
    for (const f of this.#faults) {
      const spec = f.spec;
      if (spec.kind !== "oversized" || !this.#active(f, now)) continue;
      if (!spec.logins || spec.logins.includes(login)) out[spec.field] ??= spec.bytes;
    }
    return out;
  }

  #active(f: Fault, now: number): boolean {
    return now >= f.fromMs && now < f.untilMs;
  }

  #hits(f: Fault, domain: string | null): boolean {
    const spec = f.spec;
    if (spec.kind === "errors" || spec.kind === "empty" || spec.kind === "malformed" || spec.kind === "oversized")
      return false;
    if (spec.target === "gql") return domain === null;
    if (domain === null) return false;
    if (spec.domains && !spec.domains.includes(domain)) return false;
    return !spec.except?.includes(domain);
  }

  #overLimit(f: Fault, limit: number, client: string): boolean {
    const t = this.wall();
    let times = f.hits.get(client);
    if (!times) f.hits.set(client, (times = []));
    let drop = 0;
    while (drop < times.length && (times[drop] as number) <= t - f.rateWindowMs) drop++;
    if (drop > 0) times.splice(0, drop);
    const over = times.length >= limit;
    // Bounded so a client hammering a blocked window cannot grow memory without end.
    if (times.length < limit * 2) times.push(t);
    return over;
  }
}
