import { describe, expect, it } from "vitest";
import { BROKER_FAULTS } from "../bench/soak/broker-faults.ts";
import { faultSchedule } from "../bench/soak/run.ts";

describe("the soak's broker faults (--brokers 3)", () => {
  it("schedules a broker's kill -9 for 10 minutes, a rolling restart and a wipe, in that order, instead of the shared broker's restart", () => {
    const day = faultSchedule(24, true, ["a", "b"], 3);
    const broker = day.filter((f) => f.kind.startsWith("broker-"));
    expect(broker.map((f) => f.kind)).toEqual(["broker-kill", "broker-roll", "broker-wipe"]);
    expect(broker[0]!.forMs).toBe(10 * 60_000);
    expect(broker.map((f) => f.at)).toEqual([...broker.map((f) => f.at)].sort((x, y) => x - y));
    expect(day.some((f) => f.kind === "kafka-restart")).toBe(false);
    expect(day.some((f) => f.kind === "postgres-restart")).toBe(true);
    // Every fault inside the day, after its first hour.
    for (const f of day) expect(f.at).toBeGreaterThanOrEqual(60 * 60_000);
    for (const f of day) expect(f.at + f.forMs).toBeLessThan(24 * 3_600_000);
  });

  it("keeps one broker's schedule as it was", () => {
    const one = faultSchedule(24, true, ["a", "b"]);
    expect(one.some((f) => BROKER_FAULTS.some((b) => b.kind === f.kind))).toBe(false);
    expect(one.filter((f) => f.kind === "kafka-restart")).toHaveLength(1);
    expect(faultSchedule(24, true, ["a", "b"], 3)).toHaveLength(one.length + 2);
  });
});
