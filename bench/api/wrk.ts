/**
 * Runs Debian's `wrk` pinned to core 0 with a generated Lua script, and reads back what the script
 * printed: counts by status and p99 by kind of answer (2xx/3xx, 503, other), as the generator saw them.
 *
 * Each wrk thread holds exactly one connection, so the script can pair a response with the request
 * it answers (wrk's hooks do not say which connection an answer came on) and time it with a
 * monotonic clock (LuaJIT's ffi): that is how 503s and answers get latencies of their own.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface WrkRun {
  name: string;
  url: string;
  connections: number;
  seconds: number;
  /** One path per line; each thread takes its own share, so threads never send the same path twice in a row. */
  pathsFile?: string;
  /** Distinct URLs generated in Lua instead of a file: every request a new one. */
  flood?: boolean;
  /** A thread stops after this many answers, and wrk once all have (0: runs for `seconds`). */
  answersPerThread?: number;
  /** Pause before each request on a connection (ms): turns the closed loop into a roughly fixed offered rate. */
  delayMs?: number;
  headers?: Record<string, string>;
}

export interface WrkResult {
  name: string;
  seconds: number;
  sent: number;
  answered: number;
  byStatus: Record<string, number>;
  /** Generator-side latencies (ms). */
  p50: number;
  p99: number;
  p99Ok: number | null;
  p99Refused: number | null;
  p99Other: number | null;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
}

const LUA_CLOCK = `
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } bench_ts; int clock_gettime(int, bench_ts *); ]]
local ts = ffi.new("bench_ts")
-- CLOCK_MONOTONIC: wall-clock steps must not show up as latency.
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
`;

/** Buckets of 0.1 ms: exact enough for a p99 and small enough to copy out of each thread at the end. */
const LUA_HOOKS = `
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  urls, pos, sent, answered, sent_at, first_at, last_at = {}, 0, 0, 0, 0, 0, 0
  statuses, hist_ok, hist_503, hist_other = {}, {}, {}, {}
  if PATHS ~= "" then
    local i = 0
    for line in io.lines(PATHS) do
      if i % THREADS == id then urls[#urls + 1] = line end
      i = i + 1
    end
  end
end

function request()
  local path
  if FLOOD then
    local n = id + THREADS * sent
    if n % 2 == 0 then
      path = "/search/zz?r=" .. n .. "&pad=" .. PAD
    else
      path = string.format("/v1/vods?limit=%011d&login=zz%d", 50, n)
    end
  else
    pos = pos % #urls + 1
    path = urls[pos]
  end
  sent = sent + 1
  sent_at = now_ms()
  if first_at == 0 then first_at = sent_at end
  return wrk.format(nil, path)
end

function response(status, headers, body)
  last_at = now_ms()
  local b = math.floor((last_at - sent_at) * 10)
  answered = answered + 1
  statuses[status] = (statuses[status] or 0) + 1
  local h = hist_other
  if status < 400 then h = hist_ok elseif status == 503 then h = hist_503 end
  h[b] = (h[b] or 0) + 1
  if STOP_AFTER > 0 and answered == STOP_AFTER then
    -- wrk itself waits out its duration; the runner interrupts it (SIGINT) once every thread has said so.
    io.write("WRK_THREAD_DONE\\n")
    io.flush()
    wrk.thread:stop()
  end
end

local function p99(hists)
  local merged, keys, total = {}, {}, 0
  for _, h in ipairs(hists) do
    for b, n in pairs(h) do
      if merged[b] == nil then keys[#keys + 1] = b end
      merged[b] = (merged[b] or 0) + n
      total = total + n
    end
  end
  if total == 0 then return "null" end
  table.sort(keys)
  local want, seen = math.ceil(total * 0.99), 0
  for _, b in ipairs(keys) do
    seen = seen + merged[b]
    if seen >= want then return string.format("%.1f", (b + 1) / 10) end
  end
end

function done(summary, latency, requests)
  -- wrk starts its clock once every thread is created, and threads send while later ones load their
  -- paths: the rates use the span from the first request sent to the last answer, over all threads.
  local sent_all, st, ok, r503, other, first, last = 0, {}, {}, {}, {}, math.huge, 0
  for _, t in ipairs(threads) do
    sent_all = sent_all + t:get("sent")
    if t:get("first_at") > 0 then first = math.min(first, t:get("first_at")) end
    last = math.max(last, t:get("last_at"))
    for s, n in pairs(t:get("statuses")) do st[s] = (st[s] or 0) + n end
    ok[#ok + 1], r503[#r503 + 1], other[#other + 1] = t:get("hist_ok"), t:get("hist_503"), t:get("hist_other")
  end
  local parts = {}
  for s, n in pairs(st) do parts[#parts + 1] = string.format('"%d":%d', s, n) end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"us":%d,"spanMs":%.0f,"sent":%d,"answered":%d,"byStatus":{%s},"p50":%.1f,"p99":%.1f,"p99Ok":%s,"p99Refused":%s,"p99Other":%s,"socketErrors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}}\\n',
    summary.duration, math.max(0, last - first), sent_all, summary.requests, table.concat(parts, ","),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    p99(ok), p99(r503), p99(other), e.connect, e.read, e.write, e.timeout))
end
`;

function script(run: WrkRun): string {
  const consts = [
    `THREADS = ${run.connections}`,
    `PATHS = ${JSON.stringify(run.pathsFile ?? "")}`,
    `FLOOD = ${run.flood ? "true" : "false"}`,
    `STOP_AFTER = ${run.answersPerThread ?? 0}`,
    // 1 KB of padding, as an attacker filling a cache keyed by the raw URL would send.
    `PAD = string.rep("a", 1024)`,
  ].join("\n");
  // wrk only applies a delay when the script defines delay(); without one the loop is as fast as answers come.
  const delay = run.delayMs ? `\nfunction delay() return ${Math.round(run.delayMs)} end\n` : "";
  return `${consts}\n${LUA_CLOCK}\n${LUA_HOOKS}${delay}`;
}

/** Runs one phase; rejects if wrk fails or prints no result. */
export async function runWrk(run: WrkRun, dir: string): Promise<WrkResult> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${run.name}.lua`);
  writeFileSync(file, script(run));
  const headers = Object.entries(run.headers ?? {}).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
  const argv = ["-c", "0", "wrk", "-t", String(run.connections), "-c", String(run.connections)];
  argv.push("-d", `${run.seconds}s`, "--timeout", "10s", "-s", file, ...headers, run.url);
  const child = spawn("taskset", argv, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    if (run.answersPerThread && out.split("WRK_THREAD_DONE").length > run.connections) child.kill("SIGINT");
  });
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  const line = out.split("\n").find((l) => l.startsWith("WRK_JSON "));
  if (code !== 0 || !line) throw new Error(`wrk ${run.name} failed (${code}): ${err || out}`);
  const r = JSON.parse(line.slice("WRK_JSON ".length)) as Omit<WrkResult, "name" | "seconds"> & {
    us: number;
    spanMs: number;
  };
  return { ...r, name: run.name, seconds: Math.max(r.us / 1e6, r.spanMs / 1000) };
}
