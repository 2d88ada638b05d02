import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { DomainKnowledge } from "./knowledge.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(async () => {
  await t.drop();
});

const options = { halfLifeMs: 3_600_000, failureThreshold: 2, cooldownMs: 60_000 };
const T0 = Date.UTC(2025, 0, 6, 12);

describe("DomainKnowledge", () => {
  it("survives a restart: streamer domains, scores and failure counts are loaded back from Postgres", async () => {
    const k = new DomainKnowledge(options);
    k.found("42", "a.example", "minus1", T0);
    k.found("43", "a.example", "start", T0);
    k.failed("b.example", T0);
    k.failed("b.example", T0 + 1_000);
    await k.flush(t.db);

    const loaded = await DomainKnowledge.load(t.db, options);
    expect(loaded.streamerDomain("42")).toBe("a.example");
    expect(loaded.streamersKnown).toBe(2);
    expect(loaded.score("a.example", T0)).toBeCloseTo(2, 5);
    expect(loaded.score("a.example", T0 + 3_600_000)).toBeCloseTo(1, 5);
    expect(loaded.state("b.example", T0 + 2_000)).toBe("open");
  });

  it("a failing domain opens after the threshold, lets one probe through after the cooldown, closes on an answer", () => {
    const k = new DomainKnowledge(options);
    k.failed("c.example", T0);
    expect(k.state("c.example", T0)).toBe("closed");
    k.failed("c.example", T0);
    expect(k.state("c.example", T0 + 59_000)).toBe("open");
    expect(k.state("c.example", T0 + 61_000)).toBe("probe");
    expect(k.state("c.example", T0 + 61_500)).toBe("probing");
    k.answered("c.example", T0 + 62_000);
    expect(k.state("c.example", T0 + 62_000)).toBe("closed");
  });

  it("callers that find a probe in flight wait for its verdict instead of skipping the domain", async () => {
    const k = new DomainKnowledge(options);
    k.failed("c.example", T0);
    k.failed("c.example", T0);
    expect(k.state("c.example", T0 + 61_000)).toBe("probe");
    expect(k.state("c.example", T0 + 61_100)).toBe("probing");
    let settled = false;
    const waiting = k.probeSettled("c.example").then(() => void (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    k.answered("c.example", T0 + 61_200);
    await waiting;
    expect(k.state("c.example", T0 + 61_300)).toBe("closed");

    k.failed("c.example", T0 + 70_000);
    k.failed("c.example", T0 + 70_000);
    expect(k.state("c.example", T0 + 131_000)).toBe("probe");
    k.endProbe("c.example");
    // A probe ended without a verdict lets the next caller probe again.
    expect(k.state("c.example", T0 + 131_100)).toBe("probe");
  });

  it("a hit within a minute of the last one still saves the higher score", async () => {
    const k = new DomainKnowledge(options);
    k.found("50", "e.example", "start", T0);
    await k.flush(t.db);
    k.found("51", "e.example", "start", T0 + 1_000);
    k.found("50", "e.example", "start", T0 + 2_000);
    await k.flush(t.db);
    expect((await DomainKnowledge.load(t.db, options)).score("e.example", T0 + 2_000)).toBeCloseTo(k.score("e.example", T0 + 2_000), 5);
  });

  it("a streamer moving to another domain is remembered there", async () => {
    const k = await DomainKnowledge.load(t.db, options);
    k.found("42", "d.example", "start", T0 + 5_000);
    await k.flush(t.db);
    expect((await DomainKnowledge.load(t.db, options)).streamerDomain("42")).toBe("d.example");
  });
});
