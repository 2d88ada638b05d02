import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, redactUrl } from "./index.ts";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe("createLogger", () => {
  it("writes JSON with the service, child bindings, and secrets redacted", () => {
    const { lines, stream } = capture();
    const log = createLogger({ service: "writer", destination: stream });
    log.child({ topic: "t", partition: 2 }).info({ db: { password: "hunter2" }, token: "abc" }, "hello");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ service: "writer", topic: "t", partition: 2, msg: "hello", level: "info" });
    expect(JSON.stringify(lines[0])).not.toContain("hunter2");
    expect(JSON.stringify(lines[0])).not.toContain("abc");
  });

  it("redacts passwords in URLs", () => {
    expect(redactUrl("postgres://vod:s3cret@127.0.0.1:5432/vod")).not.toContain("s3cret");
  });
});

describe("bounded log lines", () => {
  it("a database error is logged without its query parameters (a playlist's bytes among them), with its cause and pg fields", () => {
    const { lines, stream } = capture();
    const log = createLogger({ service: "writer", destination: stream });
    const playlist = Buffer.from("#EXTM3U\n#EXTINF:10.000,\nsecret-segment-0.ts\n".repeat(50));
    const pgError = Object.assign(new Error("value too long for type character varying(5)"), {
      code: "22001",
      severity: "ERROR",
      routine: "varchar",
    });
    // What drizzle-orm throws for a failed query: the parameters in its message, in a field, and the pg error as cause.
    const failed = Object.assign(
      new Error(
        `Failed query: insert into vods (playlist_gz) values ($1)\nparams: ${playlist.toString("base64")},${playlist.toString()}`,
        { cause: pgError },
      ),
      {
        query: "insert into vods (playlist_gz) values ($1)",
        params: [playlist],
      },
    );
    log.warn(
      { err: failed, rows: [{ playlistGz: playlist, found: { playlistGzipBase64: playlist.toString("base64") } }] },
      "postgres refused",
    );
    const line = JSON.stringify(lines[0]);
    expect(line).not.toContain("secret-segment");
    expect(line).not.toContain(playlist.toString("base64").slice(0, 40));
    expect(line).toContain("Failed query: insert into vods");
    expect(lines[0]).toMatchObject({
      err: {
        type: "Error",
        cause: { code: "22001", routine: "varchar", message: expect.stringContaining("value too long") },
      },
    });
  });

  it("caps strings, lists and the whole line", () => {
    const { lines, stream } = capture();
    const log = createLogger({ service: "fetcher", destination: stream });
    log.info(
      { note: "x".repeat(50_000), list: Array.from({ length: 1_000 }, (_, i) => i), bytes: new Uint8Array(4096) },
      "big",
    );
    const line = JSON.stringify(lines[0]);
    expect(line.length).toBeLessThan(4_000);
    expect(lines[0]).toMatchObject({ bytes: "[4096 bytes]", msg: "big" });
    log.info(Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, "y".repeat(900)])), "wide");
    expect(JSON.stringify(lines[1]).length).toBeLessThan(4_000);
    expect(lines[1]).toMatchObject({ msg: "wide", truncated: expect.stringContaining("over the") });
  });
});
