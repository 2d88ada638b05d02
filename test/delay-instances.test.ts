// Several delay instances in one consumer group, against the simulator on a compressed clock. Two
// pipelines watch the same world: A with one delay, B with two delays in one group (child
// processes). B's instances are then taken through a kill -9 of one of them, its return, and a
// rolling restart with overlap (a new instance joins before each old one stops). B must release
// exactly what A releases: the same VODs, none early, none twice.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AssignerProtocol } from "kafkajs";
import { until, untilClock, type Child } from "@vod/testing";
import { spawnService } from "./fixtures/services.ts";
import { compareTwins, expectOnceNotEarly, expectSameReleases, MIN, twinPipelines } from "./fixtures/delay-pipeline.ts";
import type { Compared, Twin } from "./fixtures/delay-pipeline.ts";

let twin: Twin;
const instances: Child[] = [];

// 30 streamers, so every partition holds some; ends spread over the whole run, two same-id restarts, two stay live.
const streamers = Array.from({ length: 30 }, (_, i) => ({
  login: `m_${i}`,
  id: String(3100 + i * 7),
  viewers: 900 - i * 20,
  sessions:
    i % 15 === 10
      ? [
          { start: "+0s", duration: "2m" },
          { start: "+2m20s", duration: "5m", sameStreamId: true },
        ]
      : i % 15 === 11
        ? [{ start: "+0s" }]
        : [{ start: "+0s", duration: `${40 + i * 23}s` }],
}));

/** Each member's partitions of the snapshots topic, as the coordinator has them. */
async function members(): Promise<{ state: string; partitions: number[][] }> {
  const admin = twin.kafka().admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([twin.groupB]);
    const g = groups[0]!;
    return {
      state: g.state,
      partitions: g.members.map((m) =>
        (
          AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[
            `${twin.prefixB}twitch.stream-snapshots`
          ] ?? []
        )
          .slice()
          .sort(),
      ),
    };
  } finally {
    await admin.disconnect();
  }
}
let lastSettled: number[][] = [];
const settledWith = (n: number) => async () => {
  const m = await members();
  const settled =
    m.state === "Stable" &&
    m.partitions.length === n &&
    m.partitions.every((p) => p.length > 0) &&
    m.partitions.flat().length === 6;
  if (settled) lastSettled = m.partitions;
  return settled;
};

const events: string[] = [];
let split: number[][] = [];
let run: Compared;

beforeAll(async () => {
  twin = await twinPipelines("di", 20, { streams: 0, streamers });
  const { shared, t0 } = twin;
  const spawn = () => {
    const c = spawnService("delay", twin.envB);
    instances.push(c);
    return c;
  };
  const stop = async (c: Child, signal: "SIGKILL" | "SIGTERM") => {
    c.child.kill(signal);
    await c.exited;
    events.push(`${signal}:${c.exitCode()}`);
  };
  const first = spawn();
  const second = spawn();
  await until(settledWith(2), 60_000, "two instances sharing the partitions");
  // The split as the settled check saw it: a rebalance may begin again right after (a loaded machine, a late heartbeat).
  split = lastSettled;
  await twin.startPollers();

  // kill -9 of one of the two with ended VODs pending; the other takes its partitions over.
  await untilClock(shared, t0 + 5 * MIN);
  await stop(first, "SIGKILL");
  await until(settledWith(1), 60_000, "the survivor holding every partition");
  // It comes back: the partitions are split again.
  const third = spawn();
  await until(settledWith(2), 60_000, "two instances again");
  // Rolling restart with overlap: each new instance joins before an old one stops.
  await untilClock(shared, t0 + 9 * MIN);
  spawn();
  await until(settledWith(3), 60_000, "three instances during the roll");
  await stop(second, "SIGTERM");
  await until(settledWith(2), 60_000, "two after the first stop");
  spawn();
  await until(settledWith(3), 60_000, "three again");
  await stop(third, "SIGTERM");
  await until(settledWith(2), 60_000, "two after the roll");

  await untilClock(shared, t0 + 17 * MIN);
  await twin.stopPollers();
  // The last streams end near 12 min: ended by absence by 16, due at the 22-minute boundary.
  await untilClock(shared, t0 + 24 * MIN);
  // Nothing more may follow B's catching up (a duplicate would come late).
  run = await compareTwins(twin, 2_000);
}, 300_000);

afterAll(async () => {
  for (const c of instances) c.child.kill("SIGTERM");
  await Promise.all(instances.map((c) => c.exited));
  await twin?.close();
});

describe("several delay instances in one group", () => {
  it("shared the partitions between them, and went through a kill -9 and a rolling restart", () => {
    expect(split).toHaveLength(2);
    expect(split.flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(events).toEqual(["SIGKILL:-1", "SIGTERM:0", "SIGTERM:0"]);
  });

  it("released the same VODs as one instance did", () => {
    expect(run.expected.length).toBeGreaterThanOrEqual(20);
    expectSameReleases(run);
  });

  it("released nothing twice and nothing early", () => {
    expectOnceNotEarly(run.b);
  });
});
