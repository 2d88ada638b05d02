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
    // Streamers are read when their VODs come, not at start.
    expect(loaded.streamersKnown).toBe(0);
    await loaded.warm(["42", "43"]);
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
    expect((await DomainKnowledge.load(t.db, options)).score("e.example", T0 + 2_000)).toBeCloseTo(
      k.score("e.example", T0 + 2_000),
      5,
    );
  });

  it("a streamer moving to another domain is remembered there", async () => {
    const k = await DomainKnowledge.load(t.db, options);
    k.found("42", "d.example", "start", T0 + 5_000);
    await k.flush(t.db);
    const again = await DomainKnowledge.load(t.db, options);
    await again.warm(["42"]);
    expect(again.streamerDomain("42")).toBe("d.example");
  });

  it("two fetchers' learning is merged in Postgres, not overwritten: counts add up, the latest find's domain wins", async () => {
    const a = await DomainKnowledge.load(t.db, options);
    const b = await DomainKnowledge.load(t.db, options);
    await Promise.all([a.warm(["70"]), b.warm(["70"])]);
    a.found("70", "a.example", "start", T0 + 10_000);
    b.notFound("70", true, T0 + 11_000);
    b.found("70", "b.example", "start", T0 + 12_000, true);
    a.found("70", "a.example", "start", T0 + 9_000);
    a.failed("f.example", T0);
    b.failed("f.example", T0 + 1);
    await a.flush(t.db);
    await b.flush(t.db);
    const c = await DomainKnowledge.load(t.db, options);
    await c.warm(["70"]);
    expect(c.history("70")).toMatchObject({
      found: 3,
      notFound: 1,
      unlistedFound: 2,
      domain: "b.example",
      foundAt: T0 + 12_000,
    });
    // Two failures, one seen by each: the domain is open for both (threshold 2), as it is for a third.
    expect(c.state("f.example", T0 + 2)).toBe("open");
    // Each fetcher reads the domains back after a flush that wrote something: a sees b's failure too.
    a.answered("h.example", T0 + 1);
    await a.flush(t.db);
    expect(a.state("f.example", T0 + 2)).toBe("open");
    // Scores add: a found two on a.example, b one on b.example.
    expect(c.score("a.example", T0 + 10_000)).toBeGreaterThan(c.score("b.example", T0 + 12_000));
  });

  it("bounded: streamers beyond the cache size are dropped from memory and read again when needed", async () => {
    const small = await DomainKnowledge.load(t.db, { ...options, streamerCacheSize: 10 });
    for (let i = 0; i < 50; i++) small.found(String(1_000 + i), "a.example", "start", T0);
    expect(small.streamersKnown).toBe(10);
    await small.flush(t.db);
    expect(small.history("1000")).toBeUndefined();
    await small.warm(["1000"]);
    expect(small.history("1000")).toMatchObject({ found: 1, domain: "a.example" });
  });

  it("Postgres away: lookups and flushes fail quietly or keep their deltas, and the search order degrades instead of stopping", async () => {
    const gone = await freshDatabase();
    const k = await DomainKnowledge.load(gone.db, options);
    await gone.pool.query("ALTER TABLE cdn_streamer_domains RENAME TO cdn_streamer_domains_away");
    await gone.pool.query("ALTER TABLE cdn_domain_health RENAME TO cdn_domain_health_away");
    await expect(k.warm(["80"])).resolves.toBeUndefined();
    expect(k.history("80")).toBeUndefined();
    k.found("80", "a.example", "start", T0);
    k.failed("g.example", T0);
    expect(k.streamerDomain("80")).toBe("a.example");
    await expect(k.flush(gone.db)).rejects.toThrow();
    await gone.pool.query("ALTER TABLE cdn_streamer_domains_away RENAME TO cdn_streamer_domains");
    await gone.pool.query("ALTER TABLE cdn_domain_health_away RENAME TO cdn_domain_health");
    k.found("80", "a.example", "start", T0 + 1_000);
    k.failed("g.example", T0 + 1_000);
    await k.flush(gone.db);
    const back = await DomainKnowledge.load(gone.db, options);
    await back.warm(["80"]);
    expect(back.history("80")).toMatchObject({ found: 2 });
    expect(back.state("g.example", T0 + 1_001)).toBe("open");
    await gone.drop();
  });
});
