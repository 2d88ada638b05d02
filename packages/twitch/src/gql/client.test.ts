import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createGqlBatchClient } from "./batch.ts";
import { createGqlClient, GQL_MAX_BODY_BYTES, GqlError } from "./client.ts";

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<string> {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => handler(req, res, body));
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/gql`;
}

const json = (res: ServerResponse, status: number, value: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
};

describe("GQL client", () => {
  it("sends the Client-ID and extra headers and returns data with partial errors", async () => {
    const seen: (string | undefined)[] = [];
    const endpoint = await serve((req, res, body) => {
      seen.push(req.headers["client-id"] as string, req.headers["x-extra"] as string, JSON.parse(body).variables.first);
      json(res, 200, { data: { ok: 1 }, errors: [{ message: "resolver down" }] });
    });
    const client = createGqlClient({ endpoint, clientId: "abc", headers: { "X-Extra": "1" } });
    expect(await client.query("query { ok }", { first: 3 })).toEqual({ data: { ok: 1 }, errors: ["resolver down"] });
    expect(seen).toEqual(["abc", "1", 3]);
  });

  it("retries 5xx and errors without data, then succeeds", async () => {
    let calls = 0;
    const endpoint = await serve((_req, res) => {
      calls++;
      if (calls === 1) return json(res, 503, { error: "unavailable" });
      if (calls === 2) return json(res, 200, { data: null, errors: [{ message: "service timeout" }] });
      json(res, 200, { data: { ok: 2 } });
    });
    const retries: string[] = [];
    const client = createGqlClient({
      endpoint,
      retries: 3,
      backoffInitialMs: 1,
      onRetry: (i) => retries.push(i.error.kind),
    });
    expect((await client.query("query { ok }", {})).data).toEqual({ ok: 2 });
    expect(retries).toEqual(["http", "graphql"]);
  });

  it("times out a server that never answers, retries, then fails with a timeout", async () => {
    let calls = 0;
    const endpoint = await serve(() => void calls++);
    const client = createGqlClient({ endpoint, timeoutMs: 100, retries: 1, backoffInitialMs: 1 });
    const err = await client.query("query { ok }", {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GqlError);
    expect((err as GqlError).kind).toBe("timeout");
    expect(calls).toBe(2);
    server?.closeAllConnections();
  });

  it("does not retry a 400 (missing Client-ID is our fault)", async () => {
    let calls = 0;
    const endpoint = await serve((_req, res) => {
      calls++;
      json(res, 400, {
        error: "Bad Request",
        status: 400,
        message: 'The "Client-ID" header is missing from the request.',
      });
    });
    const err = await createGqlClient({ endpoint, retries: 3, backoffInitialMs: 1 })
      .query("query { ok }", {})
      .catch((e: unknown) => e);
    expect((err as GqlError).kind).toBe("http");
    expect((err as GqlError).message).toMatch(/Client-ID/);
    expect(calls).toBe(1);
  });

  it("stops at once when the caller aborts", async () => {
    const endpoint = await serve(() => undefined);
    const ctrl = new AbortController();
    const p = createGqlClient({ endpoint, timeoutMs: 60_000, retries: 5 })
      .query("query { ok }", {}, ctrl.signal)
      .catch((e: unknown) => e);
    setTimeout(() => ctrl.abort(), 50);
    expect(((await p) as GqlError).kind).toBe("aborted");
    server?.closeAllConnections();
  });
});

describe("GQL client, failed resolvers", () => {
  it("retries an answer whose root field was nulled by an error, and keeps partial answers", async () => {
    let calls = 0;
    const endpoint = await serve((_req, res) => {
      calls++;
      if (calls === 1)
        return json(res, 200, { data: { streams: null }, errors: [{ message: "service timeout", path: ["streams"] }] });
      json(res, 200, {
        data: { streams: { edges: [null] } },
        errors: [{ message: "node failed", path: ["streams", "edges", 0] }],
      });
    });
    const answer = await createGqlClient({ endpoint, retries: 1, backoffInitialMs: 1 }).query("query { streams }", {});
    expect(answer).toEqual({ data: { streams: { edges: [null] } }, errors: ["node failed"] });
    expect(calls).toBe(2);
  });
});

describe("GQL answers are capped in size", () => {
  /** An answer that never ends: JSON-looking bytes, 64 KiB at a time, with no Content-Length. */
  const endless = (sent: { bytes: number }) => (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write('{"data":{"streams":"');
    const chunk = "x".repeat(64 * 1024);
    const timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer);
      sent.bytes += chunk.length;
      res.write(chunk);
    }, 5);
    res.on("close", () => clearInterval(timer));
  };

  it("an answer over the cap fails its call as too_large while it streams, without a retry", async () => {
    let calls = 0;
    const sent = { bytes: 0 };
    const serveEndless = endless(sent);
    const endpoint = await serve((req, res) => {
      calls++;
      serveEndless(req, res);
    });
    const started = Date.now();
    const err = await createGqlClient({ endpoint, timeoutMs: 20_000, retries: 3, maxBodyBytes: 256 * 1024 })
      .query("query { streams }", {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GqlError);
    expect((err as GqlError).kind).toBe("too_large");
    expect((err as GqlError).message).toMatch(/over 262144 bytes/);
    // Refused once the cap was passed, not at the timeout; and the same answer is not asked again.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(calls).toBe(1);
    server?.closeAllConnections();
  });

  it("a declared Content-Length over the cap is refused before its body is read", async () => {
    const endpoint = await serve((_req, res) => {
      const body = JSON.stringify({ data: { ok: "y".repeat(100_000) } });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    });
    const err = await createGqlClient({ endpoint, maxBodyBytes: 10_000 })
      .query("query { ok }", {})
      .catch((e: unknown) => e);
    expect((err as GqlError).kind).toBe("too_large");
    // Under the cap, the same answer is read.
    const ok = await createGqlClient({ endpoint }).query<{ ok: string }>("query { ok }", {});
    expect(ok.data?.ok).toHaveLength(100_000);
    expect(GQL_MAX_BODY_BYTES).toBeGreaterThanOrEqual(1024 * 1024);
  });

  it("the batch client (the poller's and the fetcher's) caps its POST's answer too", async () => {
    const endpoint = await serve(endless({ bytes: 0 }));
    const client = createGqlBatchClient({ endpoint, clientId: "x", timeoutMs: 20_000, maxBodyBytes: 256 * 1024 });
    const started = Date.now();
    const err = await client.batch([{ document: "query { streams }", variables: {} }]).catch((e: unknown) => e);
    expect((err as GqlError).kind).toBe("too_large");
    expect(Date.now() - started).toBeLessThan(5_000);
    server?.closeAllConnections();
  });
});
