import { randomUUID } from "node:crypto";

/** A VOD found, as the page shows it. */
export interface FindResult {
  source: "archive" | "seen" | "listing" | "cdn";
  login: string;
  streamId: string;
  startTime: string;
  /** Where the API serves its playlist (a path): the archive's route, or the find's own. */
  playlist: string;
  /** The playlist on the CDN, when known. */
  cdnUrl: string | null;
  live: boolean;
  /** CDN requests the find spent (0 from the archive). */
  requests: number;
  seconds: number;
  segments: number | null;
  /** Segments checked and found dead; null when none were checked (an archived VOD: no CDN request). */
  checkedSegments: number | null;
  deadSegments: { uri: string; status: string }[] | null;
}

export type FindEvent =
  | { type: "progress"; message: string | null; requests: number; seconds: number }
  | { type: "found"; result: FindResult }
  | { type: "failed"; message: string; requests: number; seconds: number };

/** One search under way or done: its events in order (replayed to a late or reconnecting listener). */
export class FindJob {
  readonly id = randomUUID();
  readonly startedAt = performance.now();
  readonly events: FindEvent[] = [];
  readonly abort = new AbortController();
  /** The playlist found on the CDN, made playable, served at /v1/finds/{id}/index.m3u8. */
  playlist: string | null = null;
  requests = 0;
  readonly #listeners = new Set<(event: FindEvent, index: number) => void>();

  constructor(readonly client: string) {}

  get done(): boolean {
    const last = this.events.at(-1);
    return last !== undefined && last.type !== "progress";
  }

  seconds(): number {
    return Math.round(performance.now() - this.startedAt) / 1000;
  }

  progress(message: string | null): void {
    this.emit({ type: "progress", message, requests: this.requests, seconds: this.seconds() });
  }

  emit(event: FindEvent): void {
    if (this.done) return;
    this.events.push(event);
    for (const l of this.#listeners) l(event, this.events.length - 1);
  }

  /** Hears every event from now on; returns the unsubscribe. */
  subscribe(listener: (event: FindEvent, index: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/**
 * The searches of this process, in memory (the API never writes the archive): running ones, and
 * finished ones for `keepMs` (their playlists are what Play and mpv open), at most `maxKept`.
 */
export class FindJobs {
  readonly #jobs = new Map<string, FindJob>();
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(private readonly o: { keepMs: number; maxKept: number }) {}

  create(client: string): FindJob {
    const job = new FindJob(client);
    this.#jobs.set(job.id, job);
    const unsubscribe = job.subscribe(() => {
      if (!job.done) return;
      unsubscribe();
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#jobs.delete(job.id);
      }, this.o.keepMs);
      timer.unref();
      this.#timers.add(timer);
      this.#trim();
    });
    return job;
  }

  get(id: string): FindJob | undefined {
    return this.#jobs.get(id);
  }

  /** The client's search still running, if any. */
  runningOf(client: string): FindJob | undefined {
    for (const j of this.#jobs.values()) if (j.client === client && !j.done) return j;
    return undefined;
  }

  running(): FindJob[] {
    return [...this.#jobs.values()].filter((j) => !j.done);
  }

  /** Past `maxKept`, the oldest finished searches go first (Map keeps insertion order). */
  #trim(): void {
    let over = this.#jobs.size - this.o.maxKept;
    for (const [id, j] of this.#jobs) {
      if (over <= 0) break;
      if (!j.done) continue;
      this.#jobs.delete(id);
      over--;
    }
  }

  /** Ends every running search (shutdown). */
  close(): void {
    for (const j of this.#jobs.values()) j.abort.abort(new Error("the API is shutting down"));
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
