// What an operator sees with Debian's kcat: every pipeline message is one readable JSON line.
import { execFile } from "node:child_process";
import { gunzipSync, gzipSync } from "node:zlib";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  createCatalog,
  createProducer,
  dlqName,
  vodFetchResult,
  type TypedProducer,
  type VodFetchResult,
} from "@vod/kafka";
import { createTestTopics, testKafka, testLog, uniqueName } from "@vod/testing";

const run = promisify(execFile);
const kafka = testKafka();
const catalog = createCatalog(`${uniqueName("kcat")}.`);
let producer: TypedProducer;

const playlist =
  "#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:10.000,\nhttps://vod-secure.twitch.tv/abc/chunked/0.ts\n#EXT-X-ENDLIST\n";
const base = {
  v: 1 as const,
  startTime: "2026-11-01T10:00:00.000Z",
  login: "malek_04",
  firstSeen: "2026-11-01T10:01:00.000Z",
  lastSeen: "2026-11-01T12:00:00.000Z",
  maxViewers: 120,
  fetchedAt: "2026-11-01T13:10:00.000Z",
};
const results: VodFetchResult[] = [
  {
    ...base,
    streamId: "318688040160",
    streamerId: "1001",
    outcome: "found",
    requests: 2,
    error: null,
    found: {
      domain: "vod-secure.twitch.tv",
      url: "https://vod-secure.twitch.tv/e8f4a8b5b2c874439c8c_kuzma671_318688040160_1778857092/chunked/index-dvr.m3u8",
      variant: "start",
      ts: 1778857092,
      durationSeconds: 10,
      segments: 1,
      mutedSegments: 0,
      playlistGzipBase64: gzipSync(playlist).toString("base64"),
    },
  },
  {
    ...base,
    streamId: "318688040161",
    streamerId: "1002",
    outcome: "not_found",
    requests: 42,
    error: null,
    found: null,
  },
];

async function kcat(...args: string[]): Promise<string[]> {
  const { stdout } = await run("kcat", ["-b", inject("kafkaBrokers").join(","), "-q", ...args], { timeout: 30_000 });
  return stdout.split("\n").filter((l) => l.length > 0);
}

beforeAll(async () => {
  await createTestTopics(kafka, [catalog.vodFetchResults]);
  producer = await createProducer(kafka, testLog);
  await producer.send(catalog.vodFetchResults, results);
  await producer.sendRaw(dlqName(catalog.vodFetchResults.name), [
    { key: "1003", value: "{broken", headers: { "dlq-reason": "invalid JSON" } },
  ]);
});
afterAll(async () => producer.disconnect());

describe("kcat", () => {
  it("prints each fetch result as one JSON line that passes the topic's schema, playlist included", async () => {
    const lines = await kcat("-C", "-t", catalog.vodFetchResults.name, "-e");
    expect(lines).toHaveLength(2);
    const parsed = lines.map((l) => vodFetchResult.parse(JSON.parse(l)));
    const found = parsed.find((r) => r.outcome === "found")!;
    expect(gunzipSync(Buffer.from(found.found!.playlistGzipBase64, "base64")).toString()).toBe(playlist);
    expect(parsed.map((r) => r.outcome).sort()).toEqual(["found", "not_found"]);
  });

  it("finds one streamer's messages by key", async () => {
    const lines = await kcat("-C", "-t", catalog.vodFetchResults.name, "-e", "-f", "%k\t%s\n");
    const mine = lines.filter((l) => l.startsWith("1002\t"));
    expect(mine).toHaveLength(1);
    expect(JSON.parse(mine[0]!.split("\t")[1]!)).toMatchObject({ streamId: "318688040161", outcome: "not_found" });
  });

  it("counts DLQ entries and shows why each was rejected", async () => {
    const lines = await kcat("-C", "-t", dlqName(catalog.vodFetchResults.name), "-e", "-f", "%h\n");
    expect(lines).toEqual(["dlq-reason=invalid JSON"]);
  });

  it("lists the topics with their partition counts", async () => {
    const lines = await kcat("-L", "-t", catalog.vodFetchResults.name);
    expect(lines.join("\n")).toMatch(
      new RegExp(
        `topic "${catalog.vodFetchResults.name.replace(/\./g, "\\.")}" with ${catalog.vodFetchResults.partitions} partitions`,
      ),
    );
  });
});
