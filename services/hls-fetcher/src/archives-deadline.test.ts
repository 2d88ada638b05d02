// A lookup that gave up (its deadline passed, its signal fired) while it waited for GQL's budget must
// not send its request afterwards: it would spend the budget on an answer nobody reads.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { testLog } from "@vod/testing";
import { ArchiveLookup } from "./archives.ts";

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A GQL stand-in answering every operation with a user that has no archives; records who was asked. */
async function gql(asked: string[][]): Promise<string> {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const ops = JSON.parse(body) as { variables: { id: string } }[];
      asked.push(ops.map((o) => o.variables.id));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(ops.map(() => ({ data: { user: null } }))));
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/gql`;
}

describe("archive lookups past their deadline", () => {
  it("are never sent once the limiter lets them go; the one still awaited is", async () => {
    const asked: string[][] = [];
    const endpoint = await gql(asked);
    // One POST a second, one streamer a POST: the second and third wait 1 s and 2 s for their turn.
    const lookup = new ArchiveLookup(
      { endpoint, clientId: "x", perSecond: 1, timeoutMs: 300, batchSize: 1, batchWaitMs: 0, cacheMs: 0 },
      testLog,
    );
    try {
      const aborted = new AbortController();
      const started = performance.now();
      const answers = await Promise.all([
        lookup.lookup("1", new AbortController().signal),
        lookup.lookup("2", new AbortController().signal),
        lookup.lookup("3", aborted.signal),
        new Promise((r) => setTimeout(r, 50)).then(() => aborted.abort()),
      ]);
      // Each gave up by its deadline (or signal), not when its turn came.
      expect(performance.now() - started).toBeLessThan(800);
      expect(answers.slice(0, 3)).toEqual([null, null, null]);
      // Past both later turns: only the first streamer's POST left.
      await new Promise((r) => setTimeout(r, 2_500));
      expect(asked).toEqual([["1"]]);
      expect(lookup.posts).toBe(1);
    } finally {
      await lookup.stop();
    }
  }, 20_000);
});
