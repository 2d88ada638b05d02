import { describe, expect, it } from "vitest";
import { LANGUAGES } from "@vod/twitch";
import { subsetSchema } from "@vod/twitch-sim";
import { parseShards } from "./shards.ts";

describe("language shards", () => {
  it("know every value of the schema's Language enum, the type of StreamOptions.languages", () => {
    const schema = subsetSchema();
    const enumType = schema.getType("Language") as unknown as { getValues(): { name: string }[] };
    expect([...LANGUAGES].sort()).toEqual(
      enumType
        .getValues()
        .map((v) => v.name)
        .sort(),
    );
    const options = schema.getType("StreamOptions") as unknown as {
      getFields(): Record<string, { type: { toString(): string } }>;
    };
    expect(options.getFields().languages?.type.toString()).toBe("[Language!]");
  });

  it("partition the Language enum whatever the configuration: the rest go to one more shard", () => {
    for (const spec of ["", "EN", "EN,ES,PT+IT", "en, es"]) {
      const shards = parseShards(spec);
      const all = shards.flatMap((s) => s.languages);
      expect(all.sort()).toEqual([...LANGUAGES].sort());
      expect(new Set(all).size).toBe(all.length);
    }
    expect(parseShards("EN,ES+PT").map((s) => s.name)).toEqual(["EN", "ES+PT", "rest"]);
    expect(parseShards([...LANGUAGES].join(",")).some((s) => s.name === "rest")).toBe(false);
  });

  it("refuse a language outside the enum, or one named twice", () => {
    expect(() => parseShards("EN,XX")).toThrow(/not a value of Twitch's Language enum/);
    expect(() => parseShards("EN,ES+EN")).toThrow(/in two shards/);
  });
});
