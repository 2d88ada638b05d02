// A restarted poller cuts its first sweep at the cursors its predecessor saved, instead of paging
// each shard from the top as one chain (minutes longer at Twitch's size).
import { afterAll, describe, expect, inject, it } from "vitest";
import { createKafka, createCatalog } from "@vod/kafka";
import { testLog, uniqueName } from "@vod/testing";
import { createGqlBatchClient, type GqlBatchClient } from "@vod/twitch";
import { startSimulator, type Simulator } from "@vod/twitch-sim";
import { loadCursors } from "./cursors.ts";
import { readEnv } from "./env.ts";
import { start } from "./start.ts";

let sim: Simulator | undefined;
afterAll(async () => sim?.close());

/** A GQL client that records the `after` of every page it is asked for. */
function recording(endpoint: string): { gql: GqlBatchClient; afters: (string | null)[][] } {
  const inner = createGqlBatchClient({ endpoint, clientId: "test" });
  const afters: (string | null)[][] = [];
  return {
    afters,
    gql: {
      batch: (operations, signal) => {
        afters.push(operations.map((o) => (o.variables as { after?: string | null }).after ?? null));
        return inner.batch(operations, signal);
      },
    },
  };
}

describe("saved sweep cursors", () => {
  it("are saved per shard after a sweep and cut the first sweep of the next poller into segments", async () => {
    // Frozen clock: every sweep sees the same list, so the second poller's plan is exactly the first's pages.
    sim = await startSimulator({ streams: 600, seed: 3 });
    const prefix = `${uniqueName("cur")}.`;
    const env = readEnv({
      KAFKA_BROKERS: inject("kafkaBrokers").join(","),
      TOPIC_PREFIX: prefix,
      OPS_PORT: "0",
      LOG_LEVEL: "silent",
      GQL_ENDPOINT: sim.gqlUrl,
      GQL_RATE: "100",
      TRACK_MIN_VIEWERS: "0",
      MIN_VIEWERS: "0",
      SWEEP_SHARDS: "EN",
      PAGE_SIZE: "10",
      SEGMENT_PAGES: "5",
      SWEEP_INTERVAL: "1h",
    });

    const first = recording(sim.gqlUrl);
    const a = await start(env, testLog, undefined, { gql: first.gql });
    await expect.poll(() => a.sweeps, { timeout: 30_000, interval: 50 }).toBe(1);
    await a.close();
    // One chain per shard with nothing saved: every POST's first operation continues a chain.
    expect(first.afters[0]).toEqual([null, null]);

    const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: "cursors-test", log: testLog });
    const saved = await loadCursors(kafka, createCatalog(prefix), uniqueName("read"), Date.now(), 60 * 60_000, testLog);
    expect([...saved.pages.keys()].sort()).toEqual(["EN", "rest"]);
    expect(saved.pages.get("EN")!.length).toBeGreaterThan(10);
    // And whom it published, for the next poller to look up what its pages miss.
    expect(saved.published.size).toBe(sim.world.liveCount);
    // Too old: ignored.
    const stale = await loadCursors(
      kafka,
      createCatalog(prefix),
      uniqueName("read"),
      Date.now() + 2 * 60 * 60_000,
      60 * 60_000,
      testLog,
    );
    expect(stale.pages.size).toBe(0);
    expect(stale.published.size).toBe(0);

    // Twenty minutes on: some streams ended, so the new poller's pages miss streamers the saved sweep published.
    sim.clock.advance(20 * 60_000);
    const gone = [...saved.published].filter((id) => !sim!.world.streamerById(id)?.live).length;
    expect(gone).toBeGreaterThan(0);
    const second = recording(sim.gqlUrl);
    const rechecks: number[] = [];
    const b = await start(env, testLog, undefined, {
      gql: second.gql,
      onSweep: (info) => rechecks.push(info.recheck.asked),
    });
    await expect.poll(() => b.sweeps, { timeout: 30_000, interval: 50 }).toBe(1);
    await b.close();
    // The first POST already reads from saved cursors, several segments side by side.
    const startedAt = second.afters[0]!.filter((after) => after !== null);
    expect(startedAt.length).toBeGreaterThanOrEqual(2);
    const savedCursors = new Set(saved.pages.get("EN")!.map((m) => m.after));
    expect(startedAt.every((after) => savedCursors.has(after))).toBe(true);
    // ... and looks up by id the saved sweep's streamers its pages did not show.
    expect(rechecks[0]).toBeGreaterThanOrEqual(gone);
  }, 90_000);
});
