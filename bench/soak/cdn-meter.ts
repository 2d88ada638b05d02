/**
 * A counting relay between the fetchers and the simulator's CDN, for the soak's busiest second.
 *
 * The simulator counts a request when its event loop gets to it, and its heap (the whole world, a
 * day of VODs) has stalls of a few hundred milliseconds, after which the arrivals of the stall are
 * counted together. This process holds nothing but the counter, so its own stalls stay at a few
 * milliseconds, and it counts what the fetchers send when they send it, as Twitch's CDN would.
 * Everything else (status, headers, body, resets, hangs) passes through unchanged.
 *
 *   node --import tsx bench/soak/cdn-meter.ts <port> <simulator base URL>
 *
 * GET /meter: `{requests, maxPerSecond, maxIn900ms, eventLoopMaxMs}`; POST /meter/reset starts again.
 */
import { Agent, createServer, request } from "node:http";
import { Stats } from "@vod/twitch-sim";

const [portArg, target] = process.argv.slice(2);
if (!portArg || !target) throw new Error("usage: cdn-meter.ts <port> <simulator base URL>");
const upstream = new URL(target);
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const stats = new Stats();

const server = createServer((req, res) => {
  const path = req.url ?? "/";
  if (path === "/meter" || path === "/meter/reset") {
    if (path === "/meter/reset" && req.method === "POST") stats.reset();
    const { cdn, eventLoopMaxMs } = stats.snapshot();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ...cdn, eventLoopMaxMs }));
    return;
  }
  if (path.startsWith("/cdn/")) stats.cdnArrival();
  const up = request(
    { host: upstream.hostname, port: upstream.port, path, method: req.method, headers: req.headers, agent },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.on("error", () => res.destroy());
    },
  );
  // A reset or a hang upstream is a reset or a hang here; a client that gives up ends the upstream request.
  up.on("error", () => res.destroy());
  res.on("close", () => {
    if (!res.writableFinished) up.destroy();
  });
  req.pipe(up);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(portArg), "127.0.0.1");
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
