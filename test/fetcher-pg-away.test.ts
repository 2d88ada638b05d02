// The fetcher's PostgreSQL tables go away while it runs (they are renamed, which fails every query on
// them as an outage would, without stopping the server other tests share): VODs are still fetched and
// their outcomes published, in a worse order; what it learned meanwhile reaches PostgreSQL once the
// tables are back. A VOD that owes a follow-up row waits for it rather than lose it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cdnDomains,
  parseResults,
  readTopic,
  resultsByKey,
  scriptedSimulator,
  streamersLike,
  vodKey as keyOf,
  vodRequest as request,
} from "@vod/testing";
import type { Simulator } from "@vod/twitch-sim";
import { EXHAUSTIVE, fetcherWorld, type FetcherWorld } from "./fixtures/fetcher.ts";

const DOMAINS = cdnDomains(3);
const TABLES = ["cdn_streamer_domains", "cdn_domain_health", "fetch_followups"];

let world: FetcherWorld;
let sim: Simulator;

const away = (on: boolean) =>
  Promise.all(
    TABLES.map((t) =>
      world.db.pool.query(on ? `ALTER TABLE ${t} RENAME TO ${t}_away` : `ALTER TABLE ${t}_away RENAME TO ${t}`),
    ),
  );

beforeAll(async () => {
  sim = await scriptedSimulator(
    7,
    DOMAINS,
    [
      ...streamersLike(5, "kept_", 3300, DOMAINS, [{ start: "+10m", duration: "30m" }]),
      {
        login: "none_saved",
        id: "3310",
        viewers: 100,
        domain: DOMAINS[0],
        sessions: [{ start: "+10m", duration: "30m", saved: false }],
      },
    ],
    { rates: { otherDomain: 0 } },
  );
  sim.clock.advance(2 * 3_600_000);
  world = await fetcherWorld("pgaway", sim);
  await world.start({ ...world.vars(DOMAINS, 20), ...EXHAUSTIVE });
}, 60_000);

afterAll(async () => {
  await world?.close();
});

describe("hls-fetcher while its PostgreSQL tables are away", () => {
  it("fetches and publishes VODs that owe nothing; learns them once the tables are back", async () => {
    const kept = sim.vods({ state: "ended" }).filter((v) => v.login.startsWith("kept_"));
    await away(true);
    try {
      await world.producer.send(
        world.catalog.vodFetchRequests,
        kept.map((v) => request(v)),
      );
      const results = resultsByKey(
        await readTopic(world.kafka, world.catalog.vodFetchResults.name, kept.length, 30_000),
      );
      for (const v of kept) expect(results.get(keyOf(v))?.outcome, v.login).toBe("found");
    } finally {
      await away(false);
    }
    // The next flush (after any batch, or the follow-up loop's round) writes what was learned while away.
    let rows = 0;
    for (let i = 0; i < 40 && rows < kept.length; i++) {
      await new Promise((r) => setTimeout(r, 250));
      rows = (await world.db.pool.query("select 1 from cdn_streamer_domains where found_count > 0")).rowCount ?? 0;
    }
    expect(rows).toBe(kept.length);
  }, 60_000);

  it("a VOD whose outcome needs a follow-up row waits for PostgreSQL instead of being published without it", async () => {
    sim.faults.add({ id: "down", kind: "down", domains: DOMAINS, status: 503 });
    const failing = sim.vods({ login: "none_saved" })[0]!;
    await away(true);
    let published = 0;
    try {
      await world.producer.send(world.catalog.vodFetchRequests, [request(failing)]);
      await new Promise((r) => setTimeout(r, 4_000));
      published = (await readTopic(world.kafka, world.catalog.vodFetchResults.name, 6, 2_000)).length;
    } finally {
      await away(false);
    }
    // Five results from the first test, none yet for the failed VOD: its retry row could not be written.
    expect(published).toBe(5);
    const records = await readTopic(world.kafka, world.catalog.vodFetchResults.name, 6, 30_000);
    expect(records).toHaveLength(6);
    const last = parseResults(records).find((r) => r.login === "none_saved")!;
    expect(last.outcome).toBe("failed");
    const { rows } = await world.db.pool.query("select kind from fetch_followups where stream_id = $1", [
      failing.streamId,
    ]);
    expect(rows).toEqual([{ kind: "retry" }]);
    sim.faults.clear(["down"]);
  }, 60_000);
});
