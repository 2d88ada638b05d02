import { sql } from "drizzle-orm";
import { fetchFollowups, withTransaction, type Db } from "@vod/db";
import { vodFetchRequest, type VodFetchRequest, type VodFetchResult } from "@vod/kafka";
import { posterior, type Candidate } from "@vod/twitch";
import { candidateId, type FetchReport } from "./fetcher.ts";

export interface FollowUpOptions {
  /** First retry of a failed VOD this long (clock time) after it failed; doubling up to `retryMaxMs`. */
  retryInitialMs: number;
  retryMaxMs: number;
  /** A VOD still failing this long after its first failure keeps its `failed` outcome (replay is left). */
  retryForMs: number;
  /** How long after a search stopped early the deep search may go on. */
  deepForMs: number;
  /** The deep search gives a VOD up once it is on the CDN with less than this probability. */
  deepStopProbability: number;
  /** The same for a VOD whose finding decides its streamer's kind (hidden archives or none). */
  deepStopProbabilityStreamer: number;
}

interface Item {
  kind: "retry" | "deep";
  request: VodFetchRequest;
  attempts: number;
  nextAt: number;
  deadline: number;
  prior: number | null;
  stop: number | null;
  tried: Set<string>;
  /** Deep search: the candidates as ranked when it started (memory only; rebuilt after a restart). */
  candidates?: Candidate[];
  /**
   * Loaded from Postgres, where every fetcher of the group sees it: it is worked on only once this
   * process has claimed it (`claimLoaded`), so two fetchers never retry or deep-search the same VOD.
   * Absent: created here, from a request this process handled.
   */
  unclaimed?: { nextAt: number };
}

/** The next deep-search request worth making: the one likeliest to find its VOD. */
export interface DeepPick {
  key: string;
  request: VodFetchRequest;
  candidate: Candidate;
  /** Probability that this one request finds the VOD. */
  chance: number;
}

const keyOf = (r: Pick<VodFetchRequest, "streamId" | "startTime">) =>
  `${r.streamId}|${new Date(r.startTime).toISOString()}`;

/**
 * What the fetcher still owes after a VOD's outcome: failed VODs are retried with backoff until a
 * deadline, without anybody replaying anything; searches stopped early go on in the deep search,
 * one request at a time from leftover budget. Kept in memory and in Postgres (`fetch_followups`),
 * written before the outcomes that create them are published, so a crash loses none.
 */
export class FollowUps {
  readonly #items = new Map<string, Item>();
  readonly #dirty = new Set<string>();
  /** Flushes run one after another: a caller returns only once its changes are written, whoever took them. */
  #flushing: Promise<void> = Promise.resolve();

  constructor(private readonly options: FollowUpOptions) {}

  static async load(db: Db, options: FollowUpOptions): Promise<FollowUps> {
    const f = new FollowUps(options);
    for (const r of await db.select().from(fetchFollowups)) {
      const request = vodFetchRequest.safeParse(r.request);
      if (!request.success) continue;
      f.#items.set(keyOf(request.data), {
        kind: r.kind,
        request: request.data,
        attempts: r.attempts,
        nextAt: r.nextAt.getTime(),
        deadline: r.deadline.getTime(),
        prior: r.prior,
        stop: r.stopProbability,
        tried: new Set(r.tried),
        unclaimed: { nextAt: r.nextAt.getTime() },
      });
    }
    return f;
  }

  get size(): number {
    return this.#items.size;
  }

  count(kind: Item["kind"]): number {
    let n = 0;
    for (const i of this.#items.values()) if (i.kind === kind) n++;
    return n;
  }

  /**
   * Records what a VOD's outcome leaves to do: a retry, a deep search, or nothing any more. `retry`
   * false: a failure that fetching again would repeat (a result too large to publish) is not retried.
   */
  apply(request: VodFetchRequest, report: FetchReport, now: number, retry = true): void {
    const key = keyOf(request);
    const { result } = report;
    const current = this.#items.get(key);
    // A terminal failure (a playlist over a cap) would come back the same on every retry.
    if (result.outcome === "failed" && (!retry || result.terminal === true)) return this.#drop(key);
    if (result.outcome === "failed") {
      const first = current?.kind === "retry" ? current.deadline - this.options.retryForMs : now;
      const attempts = current?.kind === "retry" ? current.attempts + 1 : 1;
      const deadline = first + this.options.retryForMs;
      if (now >= deadline) return this.#drop(key);
      const wait = Math.min(this.options.retryMaxMs, this.options.retryInitialMs * 2 ** (attempts - 1));
      this.#set(key, {
        kind: "retry",
        request,
        attempts,
        nextAt: now + wait,
        deadline,
        prior: null,
        stop: null,
        tried: new Set(),
      });
      return;
    }
    const deep = report.deep;
    const stop = deep?.decidesStreamer ? this.options.deepStopProbabilityStreamer : this.options.deepStopProbability;
    if (result.outcome === "not_found" && deep && deep.prior >= stop) {
      this.#set(key, {
        kind: "deep",
        request,
        attempts: 0,
        nextAt: now,
        deadline: now + this.options.deepForMs,
        prior: deep.prior,
        stop,
        tried: new Set(deep.tried),
      });
      return;
    }
    this.#drop(key);
  }

  /**
   * Failed VODs whose retry is due, earliest first. Taken ones are not due again for a first
   * backoff, so a round that fails before `apply` (Kafka down, say) does not fetch them every poll.
   */
  dueRetries(now: number, limit: number): VodFetchRequest[] {
    const due = [...this.#items.values()]
      .filter((i) => i.kind === "retry" && !i.unclaimed && i.nextAt <= now)
      .sort((a, b) => a.nextAt - b.nextAt)
      .slice(0, limit);
    for (const i of due) i.nextAt = now + this.options.retryInitialMs;
    return due.map((i) => i.request);
  }

  /**
   * The deep-search request likeliest to find its VOD. `rank` gives a VOD's candidates (as the
   * search ranks them); VODs past their deadline or below the stop probability are dropped here.
   */
  nextDeep(
    now: number,
    rank: (r: VodFetchRequest) => Candidate[],
    skipDomains: ReadonlySet<string> = new Set(),
  ): DeepPick | null {
    let best: DeepPick | null = null;
    for (const [key, item] of this.#items) {
      if (item.kind !== "deep" || item.unclaimed) continue;
      if (now >= item.deadline) {
        this.#drop(key);
        continue;
      }
      const pick = this.#deepNext(key, item, rank, skipDomains);
      if (pick === "done") {
        this.#drop(key);
        continue;
      }
      if (pick && (!best || pick.chance > best.chance)) best = pick;
    }
    return best;
  }

  /**
   * Whether any of these VODs has a follow-up row still to write (a retry or a deep search). A row
   * still to delete does not count: a crash before it goes repeats a request, it loses no outcome.
   */
  owesWrite(requests: readonly Pick<VodFetchRequest, "streamId" | "startTime">[]): boolean {
    return requests.some((r) => {
      const key = keyOf(r);
      return this.#dirty.has(key) && this.#items.has(key);
    });
  }

  /**
   * Claims the rows loaded from Postgres that no fetcher has claimed since: a compare-and-set on
   * `next_at` (moved by a millisecond), so of two fetchers that loaded the same row exactly one wins;
   * the other forgets the item (its row is not its to write or delete). Postgres away: they wait.
   */
  async claimLoaded(db: Db): Promise<{ claimed: number; lost: number }> {
    const open = [...this.#items].filter(([, i]) => i.unclaimed);
    if (open.length === 0) return { claimed: 0, lost: 0 };
    const ids = open.map(([, i]) => Number(i.request.streamId));
    const starts = open.map(([, i]) => new Date(i.request.startTime));
    const nexts = open.map(([, i]) => new Date(i.unclaimed!.nextAt));
    const won = await db.execute<{ stream_id: string; start_time: Date }>(sql`
      UPDATE ${fetchFollowups} f SET next_at = f.next_at + interval '1 millisecond'
      FROM unnest(${sql.param(ids)}::bigint[], ${sql.param(starts)}::timestamptz[], ${sql.param(nexts)}::timestamptz[]) AS u(id, st, nx)
      WHERE f.stream_id = u.id AND f.start_time = u.st AND f.next_at = u.nx
      RETURNING f.stream_id::text AS stream_id, f.start_time`);
    const mine = new Set(
      won.rows.map((r) => keyOf({ streamId: String(r.stream_id), startTime: new Date(r.start_time).toISOString() })),
    );
    let lost = 0;
    for (const [key, item] of open) {
      if (this.#items.get(key) !== item) continue;
      if (mine.has(key)) {
        if (item.nextAt === item.unclaimed!.nextAt) item.nextAt += 1;
        delete item.unclaimed;
      } else {
        this.#items.delete(key);
        lost++;
      }
    }
    return { claimed: mine.size, lost };
  }

  /** Streamers of the VODs in the deep search (their knowledge is looked up before ranking candidates). */
  deepStreamers(): string[] {
    const ids = new Set<string>();
    for (const i of this.#items.values()) if (i.kind === "deep" && !i.candidates) ids.add(i.request.streamerId);
    return [...ids];
  }

  /** The deep search's request missed (403/404). */
  deepMissed(key: string, candidate: Candidate): void {
    const item = this.#items.get(key);
    if (item?.kind !== "deep") return;
    item.tried.add(candidateId(candidate));
    this.#dirty.add(key);
  }

  /** A VOD has its final outcome from elsewhere (the deep search found it). */
  settle(key: string): void {
    this.#drop(key);
  }

  /** The item's likeliest untried candidate off the skipped domains; "done" when nothing is worth a request any more. */
  #deepNext(
    key: string,
    item: Item,
    rank: (r: VodFetchRequest) => Candidate[],
    skipDomains: ReadonlySet<string>,
  ): DeepPick | "done" | null {
    item.candidates ??= rank(item.request);
    let mass = 0;
    let next: Candidate | undefined;
    let untried = false;
    for (const c of item.candidates) {
      if (item.tried.has(candidateId(c))) mass += c.p;
      else {
        untried = true;
        if (!skipDomains.has(c.domain)) next ??= c;
      }
    }
    if (!untried) return "done";
    const onCdn = posterior(item.prior ?? 0, mass);
    if (onCdn < (item.stop ?? this.options.deepStopProbability)) return "done";
    if (!next) return null;
    return { key, request: item.request, candidate: next, chance: (onCdn * next.p) / Math.max(1e-9, 1 - mass) };
  }

  #set(key: string, item: Item): void {
    this.#items.set(key, item);
    this.#dirty.add(key);
  }

  #drop(key: string): void {
    if (this.#items.delete(key) || !this.#dirty.has(key)) this.#dirty.add(key);
  }

  /** Writes what changed since the last flush (rows of dropped items are deleted); on failure it stays dirty. */
  flush(db: Db): Promise<void> {
    const run = this.#flushing.catch(() => undefined).then(() => this.#flushOnce(db));
    this.#flushing = run;
    return run;
  }

  async #flushOnce(db: Db): Promise<void> {
    const keys = [...this.#dirty];
    if (keys.length === 0) return;
    this.#dirty.clear();
    const rows = keys.flatMap((key) => {
      const i = this.#items.get(key);
      if (!i) return [];
      return [
        {
          streamId: Number(i.request.streamId),
          startTime: new Date(i.request.startTime),
          kind: i.kind,
          request: i.request,
          attempts: i.attempts,
          nextAt: new Date(i.nextAt),
          deadline: new Date(i.deadline),
          prior: i.prior,
          stopProbability: i.stop,
          tried: [...i.tried],
        },
      ];
    });
    const gone = keys.filter((k) => !this.#items.has(k));
    try {
      await withTransaction(db, async (tx) => {
        for (let i = 0; i < rows.length; i += 500) {
          await tx
            .insert(fetchFollowups)
            .values(rows.slice(i, i + 500))
            .onConflictDoUpdate({
              target: [fetchFollowups.streamId, fetchFollowups.startTime],
              set: {
                kind: sql`excluded.kind`,
                request: sql`excluded.request`,
                attempts: sql`excluded.attempts`,
                nextAt: sql`excluded.next_at`,
                deadline: sql`excluded.deadline`,
                prior: sql`excluded.prior`,
                stopProbability: sql`excluded.stop_probability`,
                tried: sql`excluded.tried`,
              },
            });
        }
        for (let i = 0; i < gone.length; i += 500) {
          const chunk = gone.slice(i, i + 500).map((k) => k.split("|") as [string, string]);
          const tuples = sql.join(
            chunk.map(([id, at]) => sql`(${id}::bigint, ${at}::timestamptz)`),
            sql`, `,
          );
          await tx
            .delete(fetchFollowups)
            .where(sql`(${fetchFollowups.streamId}, ${fetchFollowups.startTime}) in (${tuples})`);
        }
      });
    } catch (err) {
      for (const k of keys) this.#dirty.add(k);
      throw err;
    }
  }
}

/** The follow-up key of a result or request. */
export const followUpKey = (r: Pick<VodFetchResult, "streamId" | "startTime">): string => keyOf(r);
