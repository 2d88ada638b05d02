import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, bool, duration, list, parseDuration, parseEnv, port } from "./index.ts";

const schema = z.object({
  ENABLED: bool(true),
  END_AFTER: duration("15m"),
  DOMAINS: list(["a.example", "b.example"]),
  PORT: port(8080),
  NAME: z.string().min(1),
});

describe("parseEnv", () => {
  it("applies defaults and parses each kind of field", () => {
    const env = parseEnv(schema, { NAME: "x", ENABLED: "false", DOMAINS: " c.example, ,d.example" });
    expect(env).toEqual({
      ENABLED: false,
      END_AFTER: 900_000,
      DOMAINS: ["c.example", "d.example"],
      PORT: 8080,
      NAME: "x",
    });
  });

  it("names every bad field and its problem", () => {
    try {
      parseEnv(schema, { ENABLED: "maybe", END_AFTER: "soon", PORT: "99999", DOMAINS: " , " });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const fields = (err as ConfigError).problems.map((p) => p.field).sort();
      expect(fields).toEqual(["DOMAINS", "ENABLED", "END_AFTER", "NAME", "PORT"]);
      expect((err as Error).message).toMatch(/END_AFTER: expected a duration/);
      expect((err as Error).message).toMatch(/ENABLED: expected a boolean/);
    }
  });
});

describe("duration", () => {
  it("refuses zero unless allowed", () => {
    expect(duration("1s").safeParse("0").success).toBe(false);
    expect(duration("1s").safeParse("0ms").error?.issues[0]?.message).toMatch(/longer than zero/);
    expect(duration("1s", { allowZero: true }).parse("0")).toBe(0);
  });
});

describe("parseDuration", () => {
  it.each([
    ["250", 250],
    ["250ms", 250],
    ["30s", 30_000],
    ["1h30m", 5_400_000],
    ["1.5s", 1_500],
    ["2d", 172_800_000],
  ])("%s is %d ms", (raw, ms) => expect(parseDuration(raw)).toBe(ms));

  it.each(["", "abc", "10 minutes", "5x", "1h junk"])("rejects %j", (raw) =>
    expect(parseDuration(raw)).toBeUndefined(),
  );
});
