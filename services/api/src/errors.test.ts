import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { installErrorHandlers, isDatabaseTimeout } from "./errors.ts";

describe("error answers", () => {
  it("answers 503 with Retry-After when the database timed out, either side, and 500 for other faults", async () => {
    const app = Fastify({ logger: false });
    installErrorHandlers(app, 2);
    app.get("/client-timeout", async () => {
      throw new Error("Query read timeout");
    });
    app.get("/cancelled", async () => {
      throw Object.assign(new Error("canceling statement due to statement timeout"), { code: "57014" });
    });
    app.get("/fault", async () => {
      throw new Error("boom");
    });
    for (const url of ["/client-timeout", "/cancelled"]) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(503);
      expect(res.headers["retry-after"], url).toBe("2");
    }
    expect((await app.inject({ url: "/fault" })).statusCode).toBe(500);
    expect(isDatabaseTimeout(null)).toBe(false);
    await app.close();
  });
});
