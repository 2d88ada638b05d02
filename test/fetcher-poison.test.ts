// One VOD that cannot be handled must not hold its batch: a URI no parser resolves is left out of
// its playlist, and a playlist over a cap or whose result would be larger than a Kafka message may
// be gives that VOD `failed` with the reason; the rest of the batch is archived and committed.
import { ConfigResourceTypes } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCatalog, type VodFetchResult } from "@vod/kafka";
import {
  caughtUp,
  cdnDomains,
  createTestTopics,
  readTopic,
  resultsByKey,
  scriptedSimulator,
  streamersLike,
  uniqueName,
  vodKey as keyOf,
  vodRequest,
} from "@vod/testing";
import type { VodTruth } from "@vod/twitch-sim";
import { EXHAUSTIVE, fetcherWorld, type FetcherWorld } from "./fixtures/fetcher.ts";

const DOMAINS = cdnDomains(2);
const [D0, D1] = DOMAINS;
const MAX_BYTES = 16_384;

const groupId = uniqueName("fetcher-poison");
let world: FetcherWorld;
let results: Map<string, VodFetchResult>;
let vods: VodTruth[];

beforeAll(async () => {
  const sim = await scriptedSimulator(
    13,
    DOMAINS,
    [
      { login: "broken_uri", id: "3101", viewers: 300, domain: D0, sessions: [{ start: "+48h", duration: "30m" }] },
      { login: "bloated", id: "3103", viewers: 300, domain: D0, sessions: [{ start: "+48h", duration: "30m" }] },
      // Two days of 10-second segments: its gzipped playlist is far over the cap set below.
      { login: "very_long", id: "3102", viewers: 300, domain: D1, sessions: [{ start: "+10m", duration: "48h" }] },
      ...streamersLike(6, "fine_", 3110, DOMAINS, [{ start: "+48h", duration: "30m" }]),
    ],
    { rates: { otherDomain: 0 } },
  );
  sim.clock.advance(49 * 3_600_000);
  world = await fetcherWorld("poison", sim);
  const { producer, catalog, kafka } = world;
  sim.faults.add({ kind: "malformed", logins: ["broken_uri"] });
  sim.faults.add({ kind: "malformed", mode: "bloated", logins: ["bloated"] });
  await world.start({
    ...world.vars(DOMAINS, 20, groupId),
    ...EXHAUSTIVE,
    RESULT_MAX_BYTES: String(MAX_BYTES),
    BATCH_MAX_MESSAGES: "32",
    RETRY_INITIAL: "1h",
    RETRY_MAX: "1h",
  });
  vods = sim.vods({ state: "ended" });
  expect(vods).toHaveLength(9);
  // One send: the poison VODs share their partitions' batches with fine ones.
  await producer.send(
    catalog.vodFetchRequests,
    vods.map((v) => vodRequest(v)),
  );
  results = resultsByKey(await readTopic(kafka, catalog.vodFetchResults.name, vods.length, 60_000));
}, 120_000);

afterAll(async () => {
  await world?.close();
});

describe("poison stays one VOD's problem", () => {
  it("a malformed URI in a playlist is left out and counted: that VOD is archived without it", async () => {
    const v = vods.find((x) => x.login === "broken_uri")!;
    const r = results.get(keyOf(v))!;
    expect(r).toMatchObject({ outcome: "found", error: null, found: { segments: v.segments - 1, skippedLines: 1 } });
    const { rows } = await world.db.pool.query("select 1 from fetch_followups where stream_id = $1", [v.streamId]);
    expect(rows).toHaveLength(0);
  });

  it("a playlist over the segment cap (2.5 MiB of segment lines): failed for good naming the cap, never retried", async () => {
    const v = vods.find((x) => x.login === "bloated")!;
    const r = results.get(keyOf(v))!;
    expect(r).toMatchObject({ outcome: "failed", terminal: true, found: null });
    expect(r.error).toMatch(/playlist has more than 50000 segments \(the cap\); not retried/);
    const { rows } = await world.db.pool.query("select 1 from fetch_followups where stream_id = $1", [v.streamId]);
    expect(rows).toHaveLength(0);
  });

  it("a result over RESULT_MAX_BYTES: that VOD is failed naming its size, and not retried (it would be as large again)", async () => {
    const v = vods.find((x) => x.login === "very_long")!;
    const r = results.get(keyOf(v))!;
    expect(r.outcome).toBe("failed");
    expect(r.found).toBeNull();
    expect(r.error).toMatch(new RegExp(`result of \\d+ bytes is over RESULT_MAX_BYTES \\(${MAX_BYTES}\\)`));
    expect(r.requests).toBeGreaterThanOrEqual(1);
    const { rows } = await world.db.pool.query("select 1 from fetch_followups where stream_id = $1", [v.streamId]);
    expect(rows).toHaveLength(0);
  });

  it("the rest of the batch is archived, every result under the cap, and the offsets are committed", async () => {
    for (const v of vods.filter((x) => x.login.startsWith("fine_"))) {
      const r = results.get(keyOf(v))!;
      expect(r.outcome, v.login).toBe("found");
    }
    const records = await readTopic(world.kafka, world.catalog.vodFetchResults.name, vods.length, 5_000);
    for (const rec of records) expect(Buffer.byteLength(rec.value!)).toBeLessThanOrEqual(MAX_BYTES);
    let committed = false;
    for (let i = 0; i < 40 && !committed; i++) {
      committed = await caughtUp(world.kafka, groupId, [world.catalog.vodFetchRequests.name]);
      if (!committed) await new Promise((r) => setTimeout(r, 250));
    }
    expect(committed).toBe(true);
  });

  it("a RESULT_MAX_BYTES that leaves no room under the results topic's max.message.bytes stops the fetcher at start, naming it", async () => {
    const other = createCatalog(`${uniqueName("poisoncap")}.`);
    await createTestTopics(world.kafka, [other.vodFetchRequests, other.vodFetchResults]);
    const admin = world.kafka.admin();
    await admin.connect();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: other.vodFetchResults.name,
          configEntries: [{ name: "max.message.bytes", value: "100000" }],
        },
      ],
    });
    await admin.disconnect();
    await expect(
      world.start({
        ...world.vars(DOMAINS, 20),
        TOPIC_PREFIX: other.vodFetchRequests.name.replace("twitch.vod-fetch-requests", ""),
        RESULT_MAX_BYTES: "200000",
      }),
    ).rejects.toThrow(/RESULT_MAX_BYTES: 200000 leaves no room under .*max\.message\.bytes \(100000\)/);
  });
});
