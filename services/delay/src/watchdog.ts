import type { Partitions } from "./partitions.ts";

export interface WatchdogDeps {
  /** Real time without a good release tick, or with a partition's releases failing, that is fatal. */
  limitMs: number;
  consumer: { healthy(): boolean };
  loop: { lastGoodTick: number };
  partitions: Pick<Partitions, "owned">;
  die: (reason: string) => void;
}

/**
 * kafkajs gives up on a consumer after non-retriable errors; nothing would be consumed again. A tick
 * that hangs (a send past every timeout) or partitions whose releases keep failing are fatal as well:
 * measured as time since the last good tick, not as failures counted. Returns the timer (unref'd).
 */
export function startWatchdog({ limitMs, consumer, loop, partitions, die }: WatchdogDeps): NodeJS.Timeout {
  const timer = setInterval(
    () => {
      if (!consumer.healthy()) return die("consumer stopped");
      const now = performance.now();
      if (now - loop.lastGoodTick >= limitMs)
        return die(`release loop without a good tick for ${Math.round(now - loop.lastGoodTick)} ms`);
      for (const o of partitions.owned.values())
        if (o.failingSince !== undefined && now - o.failingSince >= limitMs)
          return die(`releases of partition ${o.partition} failing for ${Math.round(now - o.failingSince)} ms`);
    },
    Math.min(1_000, limitMs / 4),
  );
  timer.unref();
  return timer;
}
