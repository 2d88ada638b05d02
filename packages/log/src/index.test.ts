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
