import { describe, expect, it } from "vitest";
import { ConfigError } from "@vod/config";
import { readEnv } from "./env.ts";

describe("api environment", () => {
  it("has defaults that serve on 127.0.0.1:8080", () => {
    const env = readEnv({});
    expect(env).toMatchObject({
      HOST: "127.0.0.1",
      PORT: 8080,
      DB_POOL_MAX: 8,
      DB_QUEUE_MAX: 32,
      STATEMENT_TIMEOUT: 2_000,
      MAX_EVENT_LOOP_DELAY: 100,
    });
  });

  it("refuses bad values at start, naming each field", () => {
    let err: unknown;
    try {
      readEnv({ PORT: "http", DB_POOL_MAX: "0", STATEMENT_TIMEOUT: "soon" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => p.field).sort()).toEqual([
      "DB_POOL_MAX",
      "PORT",
      "STATEMENT_TIMEOUT",
    ]);
  });
});
