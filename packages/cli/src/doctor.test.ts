import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cdnDomainHealth, fetchFollowups, vods } from "@vod/db";
import { createCatalog, createProducer, type TypedProducer, type VodFetchRequest } from "@vod/kafka";
import { createTestTopics, freshDatabase, testKafka, testLog, uniqueName, type TestDatabase } from "@vod/testing";
import { doctor, failureWindows, formatDoctor } from "./doctor.ts";

const kafka = testKafka();
const catalog = createCatalog(`${uniqueName("doctor")}.`);
let producer: TypedProducer;
let t: TestDatabase;
const now = new Date("2026-11-01T12:00:00Z");
const min = 60_000;

function request(streamId: string): VodFetchRequest {
  return {
    v: 1,
    streamId,
    startTime: "2026-11-01T08:00:00.000Z",
    streamerId: `9${streamId}`,
    login: `user${streamId}`,
    firstSeen: "2026-11-01T08:01:00.000Z",
    lastSeen: "2026-11-01T09:00:00.000Z",
    maxViewers: 10,
    releaseAt: "2026-11-01T10:10:00.000Z",
  };
}
const row = (streamId: string, outcome: "found" | "failed" | null) => ({
  streamId: Number(streamId),
  startTime: new Date("2026-11-01T08:00:00.000Z"),
  streamerId: Number(`9${streamId}`),
  login: `user${streamId}`,
  firstSeen: new Date("2026-11-01T08:01:00Z"),
  lastSeen: new Date("2026-11-01T09:00:00Z"),
  outcome,
  fetchedAt: outcome ? new Date("2026-11-01T10:15:00Z") : null,
});

beforeAll(async () => {
  t = await freshDatabase();
  await createTestTopics(kafka, [catalog.vodFetchRequests]);
  producer = await createProducer(kafka, testLog);
  // Released at: 1 overdue, 2 found, 3+4 failed 5 min apart, 5 failed an hour later, 6 recent without outcome (not overdue yet).
  const at = (id: string, ms: number) => ({ key: `9${id}`, value: JSON.stringify(request(id)), timestamp: String(ms) });
  await producer.sendRaw(catalog.vodFetchRequests.name, [
    at("1", now.getTime() - 120 * min),
    at("2", now.getTime() - 110 * min),
    at("3", now.getTime() - 100 * min),
    at("4", now.getTime() - 95 * min),
    at("5", now.getTime() - 30 * min),
    at("6", now.getTime() - 5 * min),
    { key: "x", value: "{not json", timestamp: String(now.getTime() - 4 * min) },
  ]);
  await t.db
    .insert(vods)
    .values([row("1", null), row("2", "found"), row("3", "failed"), row("4", "failed"), row("5", "failed")]);
  await t.db.insert(cdnDomainHealth).values([
    { domain: "vod-secure.twitch.tv", score: 3.5, scoredAt: now, consecutiveFailures: 2 },
    {
      domain: "d1ndex63qxojbr.cloudfront.net",
      score: 1,
      scoredAt: now,
      discoveredAt: now,
      discoveredFrom: "abc_user7_7_1700000000",
    },
  ]);
  await t.db
    .insert(fetchFollowups)
    .values({ streamId: 3, startTime: now, kind: "retry", request: request("3"), nextAt: now, deadline: now });
});
afterAll(async () => {
  await producer.disconnect();
  await t.drop();
});

describe("doctor", () => {
  it("reports overdue releases, failed windows with their replay commands, and domain health", async () => {
    const report = await doctor({
      kafka,
      db: t.db,
      requestsTopic: catalog.vodFetchRequests.name,
      fetcherGroup: "hls-fetcher",
      now,
      sinceMs: 24 * 60 * min,
      overdueAfterMs: 15 * min,
      windowGapMs: 10 * min,
    });
    expect(report.releases).toBe(6);
    expect(report.overdue.map((r) => r.streamId)).toEqual(["1"]);
    expect(report.failedWindows.map((w) => [w.from.toISOString(), w.to.toISOString(), w.vods])).toEqual([
      ["2026-11-01T10:20:00.000Z", "2026-11-01T10:25:01.000Z", 2],
      ["2026-11-01T11:30:00.000Z", "2026-11-01T11:30:01.000Z", 1],
    ]);
    expect(report.failedWindows[0]!.command).toBe(
      `npm run replay -- --group hls-fetcher --topic ${catalog.vodFetchRequests.name} --from 2026-11-01T10:20:00.000Z --to 2026-11-01T10:25:01.000Z`,
    );
    expect(report.domains).toMatchObject([
      { domain: "d1ndex63qxojbr.cloudfront.net" },
      { domain: "vod-secure.twitch.tv", consecutiveFailures: 2 },
    ]);
    expect(report.followUps).toEqual({ retry: 1, deep: 0 });
    expect(formatDoctor(report)).toMatch(
      /d1ndex63qxojbr\.cloudfront\.net .* learned from GQL 2026-11-01T12:00:00\.000Z \(abc_user7_7_1700000000\)/,
    );
    expect(formatDoctor(report)).toMatch(/1 waiting for a retry, 0 in the deep search/);
    expect(formatDoctor(report)).toMatch(/overdue \(released, no outcome\): 1\n {2}user1 stream 1/);
  });

  it("groups failures into windows split by gaps", () => {
    const d = (m: number) => new Date(m * min);
    expect(failureWindows([d(30), d(0), d(5), d(12)], 10).length).toBe(4);
    expect(failureWindows([d(30), d(0), d(5), d(12)], 10 * min).map((w) => w.count)).toEqual([3, 1]);
  });
});
