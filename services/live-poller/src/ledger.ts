import type { StreamSnapshot } from "@vod/kafka";
import type { LiveStream } from "@vod/twitch";

/**
 * What one sweep has seen and published: each streamer once, with the shard it belongs to, and the
 * counts its marker and result report. `fatal` is the first failure that leaves the sweep incomplete
 * whatever follows (the page limit, a publish Kafka did not take).
 */
export class SweepLedger {
  /** Streamers published, and the shard each belongs to. */
  readonly published = new Map<string, string>();
  /** Snapshots Kafka acknowledged. */
  count = 0;
  pages = 0;
  posts = 0;
  /** Streams on the pages read, and how many of them were dropped as invalid. */
  edges = 0;
  dropped = 0;
  fatal: string | null = null;

  constructor(
    private readonly sweepId: string,
    private readonly trackMinViewers: number,
    private readonly send: (snapshots: StreamSnapshot[]) => Promise<void>,
  ) {}

  /** Publishes a stream at or above the tracking threshold, once per sweep. */
  take(s: LiveStream, shard: string, observedAt: string, fresh: StreamSnapshot[]): boolean {
    if (s.viewers < this.trackMinViewers || this.published.has(s.streamerId)) return false;
    this.published.set(s.streamerId, shard);
    fresh.push({
      v: 1,
      sweepId: this.sweepId,
      observedAt,
      streamId: s.streamId,
      startTime: s.startTime,
      streamerId: s.streamerId,
      login: s.login,
      viewers: s.viewers,
      title: s.title,
      gameId: s.gameId,
      gameName: s.gameName,
      language: s.language,
      mature: s.mature,
    });
    return true;
  }

  /** Sends one POST's new snapshots; false, with `fatal` set, if Kafka did not take them. */
  async publish(fresh: StreamSnapshot[]): Promise<boolean> {
    try {
      await this.send(fresh);
      this.count += fresh.length;
      return true;
    } catch (err) {
      this.fatal ??= `kafka: ${(err as Error).message}`;
      return false;
    }
  }
}
