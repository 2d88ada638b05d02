import { describe, expect, it } from "vitest";
import { useApi } from "./__fixtures__/use-api.ts";

const { api } = useApi();

describe("the web page", () => {
  it("serves the page, its script, its style and hls.js", async () => {
    const page = await api.app.inject({ method: "GET", url: "/" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    for (const ref of ["/app.js", "/app.css", "/vendor/hls.min.js"]) {
      expect(page.body).toContain(ref);
      const res = await api.app.inject({ method: "GET", url: ref });
      expect(res.statusCode, ref).toBe(200);
      expect(res.body.length, ref).toBeGreaterThan(100);
    }
    expect((await api.app.inject({ method: "GET", url: "/vendor/hls.min.js" })).body).toMatch(/Hls/);
  });

  it("sends security headers: a CSP that frames nothing and loads only what the page and hls.js need, nosniff", async () => {
    const page = await api.app.inject({ method: "GET", url: "/" });
    const csp = String(page.headers["content-security-policy"]);
    const directives = new Map(
      csp.split(";").map((d) => {
        const [name = "", ...values] = d.trim().split(/\s+/);
        return [name, values] as const;
      }),
    );
    expect(directives.get("frame-ancestors")).toEqual(["'none'"]);
    expect(directives.get("default-src")).toEqual(["'self'"]);
    expect(directives.get("script-src")).toEqual(["'self'"]);
    expect(directives.get("object-src")).toEqual(["'none'"]);
    expect(directives.get("worker-src")).toEqual(expect.arrayContaining(["blob:"]));
    expect(directives.get("media-src")).toEqual(expect.arrayContaining(["blob:"]));
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|upgrade-insecure-requests/);
    expect(page.headers["x-frame-options"]).toBe("DENY");
    for (const url of ["/", "/app.js", "/v1/vods", "/languages", "/v1/vods?colour=blue", "/nope"]) {
      const res = await api.app.inject({ method: "GET", url });
      expect(res.headers["x-content-type-options"], url).toBe("nosniff");
      expect(res.headers["content-security-policy"], url).toBe(csp);
    }
  });
});
