import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "@vod/log";
import type { Clock } from "./clock.ts";
import type { Endpoints } from "./endpoints.ts";
import { send, sendJson, sendText } from "./http-io.ts";
import type { Stats } from "./stats.ts";
import { iso } from "./times.ts";

export interface Routes {
  /** Host names served as CDN domains, by Host header or under /cdn/{domain}/. */
  cdnHosts: ReadonlySet<string>;
  endpoints: Endpoints;
  admin: (req: IncomingMessage, res: ServerResponse, url: URL) => void;
  stats: Stats;
  clock: Clock;
  log?: Logger;
}

/** The request listener: sends each request to the CDN, GQL, the admin API or /healthz. */
export function router(routes: Routes): (req: IncomingMessage, res: ServerResponse) => void {
  const { cdnHosts, endpoints, admin, stats, clock, log } = routes;

  const notFound = (res: ServerResponse, text: string): void => {
    stats.record("sim", "other", 404);
    sendText(res, 404, text);
  };

  const route = (req: IncomingMessage, res: ServerResponse): void => {
    const host = (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
    const url = new URL(req.url ?? "/", "http://sim");
    const path = url.pathname;
    if (cdnHosts.has(host)) return endpoints.cdn(req, res, host, decodeURIComponent(path.slice(1)));
    if (path.startsWith("/cdn/")) {
      const rest = path.slice(5);
      const slash = rest.indexOf("/");
      const domain = (slash < 0 ? rest : rest.slice(0, slash)).toLowerCase();
      if (!cdnHosts.has(domain)) return notFound(res, `unknown CDN domain ${domain}`);
      return endpoints.cdn(req, res, domain, decodeURIComponent(slash < 0 ? "" : rest.slice(slash + 1)));
    }
    if (path === "/gql") {
      if (req.method !== "POST")
        return send(res, 405, { "content-type": "text/plain", allow: "POST" }, "use POST", false);
      return endpoints.gql(req, res);
    }
    if (path === "/healthz") return sendJson(res, 200, { ok: true, now: iso(clock.now()) });
    if (path.startsWith("/admin/")) return admin(req, res, url);
    notFound(res, "not found");
  };

  return (req, res) => {
    try {
      route(req, res);
    } catch (err) {
      // A malformed URL or percent-encoding.
      log?.warn({ err, url: req.url }, "bad request");
      if (!res.headersSent) sendText(res, 400, "bad request");
    }
  };
}
