import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "@vod/log";
import { kindOf, serveCdn, type CdnOptions, type CdnResponse } from "./cdn.ts";
import type { FaultGate } from "./fault-gate.ts";
import type { Malformation } from "./faults.ts";
import type { GqlRequest, GqlService } from "./gql.ts";
import { readBody, send, sendJson } from "./http-io.ts";
import type { Stats } from "./stats.ts";
import type { World } from "./world.ts";

export const CLIENT_ID_MISSING = {
  error: "Bad Request",
  status: 400,
  message: 'The "Client-ID" header is missing from the request.',
};

const BODY_NOT_JSON = { error: "Bad Request", status: 400, message: "The request body is not valid JSON." };

/** The simulated Twitch endpoints over HTTP: each request is counted, then put through the faults. */
export interface Endpoints {
  /** A CDN request for `path`, relative to the root of `domain`. */
  cdn(req: IncomingMessage, res: ServerResponse, domain: string, path: string): void;
  /** A POST to /gql: one operation, or an array of them. */
  gql(req: IncomingMessage, res: ServerResponse): void;
}

export interface EndpointDeps {
  world: World;
  cdnOptions: CdnOptions;
  gqlService: GqlService;
  gate: FaultGate;
  /** Playlists to spoil (a `malformed` fault). */
  malformed?: (domain: string, login: string) => Malformation | null;
  stats: Stats;
  log?: Logger;
}

export function endpoints({ world, cdnOptions, gqlService, gate, malformed, stats, log }: EndpointDeps): Endpoints {
  const cdn = (req: IncomingMessage, res: ServerResponse, domain: string, path: string): void => {
    stats.cdnArrival();
    const kind = kindOf(path);
    gate.pass(req, res, domain, kind, () => {
      let answer: CdnResponse;
      if (req.method !== "GET" && req.method !== "HEAD") {
        answer = { status: 405, kind, headers: { "content-type": "text/plain" }, body: "method not allowed" };
      } else {
        answer = serveCdn(world, cdnOptions, domain, path, malformed && ((login) => malformed(domain, login)));
      }
      stats.record(domain, answer.kind, answer.status);
      send(res, answer.status, answer.headers, answer.body, req.method === "HEAD");
    });
  };

  /** Twitch answers a request it cannot read with HTTP 400, before any fault applies. */
  const badRequest = (res: ServerResponse, body: object): void => {
    stats.gqlArrival(0);
    stats.record("gql", "gql", 400);
    sendJson(res, 400, body);
  };

  const gql = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const clientId = req.headers["client-id"];
    if (typeof clientId !== "string" || clientId.trim() === "") return badRequest(res, CLIENT_ID_MISSING);
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return badRequest(res, BODY_NOT_JSON);
    }
    const batch = Array.isArray(body);
    const requests = (batch ? body : [body]) as GqlRequest[];
    stats.gqlArrival(requests.length);
    gate.pass(req, res, null, "gql", () => {
      void Promise.all(requests.map((r) => gqlService.run(r && typeof r === "object" ? r : {}))).then(
        (results) => {
          stats.record("gql", "gql", 200);
          sendJson(res, 200, batch ? results : results[0]);
        },
        (err: unknown) => {
          log?.error({ err }, "gql execution failed");
          stats.record("gql", "gql", 500);
          sendJson(res, 500, { error: "Internal Server Error", status: 500, message: "simulator error" });
        },
      );
    });
  };

  return {
    cdn,
    gql: (req, res) =>
      void gql(req, res).catch((err: unknown) => {
        log?.error({ err }, "gql request failed");
        if (!res.headersSent) sendJson(res, 500, { error: "simulator error" });
      }),
  };
}
