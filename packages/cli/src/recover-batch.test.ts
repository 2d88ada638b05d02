// `vods recover --from FILE` against the simulator and PostgreSQL: tracker exports, a plain list, resume.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { LIVE_VOD_DOMAINS } from "@vod/twitch";
import { startSimulator, type Simulator, type VodTruth } from "@vod/twitch-sim";
import { UsageError } from "./errors.ts";
import { trackerTime } from "./recover-batch-input.ts";
import { recoverCommand, recoverEnvSchema } from "./recover-command.ts";
import { simRecoverEnv } from "./sim-testing.ts";

const DOMAINS = LIVE_VOD_DOMAINS.slice(0, 2);
const [D0, D1] = DOMAINS as [string, string];

let sim: Simulator;
let t: TestDatabase;
let dir: string;
const notes: string[] = [];
let progress = "";

beforeAll(async () => {
  sim = await startSimulator({
    seed: 33,
    streams: 2,
    domains: DOMAINS,
    streamers: [
      { login: "listed_a", id: "5001", viewers: 900, domain: D0, sessions: [{ start: "+10m", duration: "20m" }] },
      {
        login: "hidden_b",
        id: "5002",
        viewers: 800,
        domain: D1,
        hidden: true,
        sessions: [{ start: "+12m", duration: "20m" }],
      },
      {
        login: "gone_c",
        id: "5003",
        viewers: 700,
        domain: D0,
        hidden: true,
        sessions: [{ start: "+14m", duration: "20m", saved: false }],
      },
    ],
  });
  sim.clock.advance(3 * 3_600_000);
  t = await freshDatabase();
  dir = await mkdtemp(join(tmpdir(), "recover-batch-"));
}, 120_000);

afterAll(async () => {
  await t?.drop();
  await sim?.close();
});

const truth = (login: string): VodTruth => sim.vods({ login, state: "ended" })[0]!;
const run = async (argv: string[]) => {
  progress = "";
  return recoverCommand(argv, recoverEnvSchema.parse(simRecoverEnv(sim, t.url, DOMAINS)), {
    note: (m) => notes.push(m),
    progress: { write: (s) => (progress += s) },
    now: () => sim.clock.now(),
  });
};
const file = async (name: string, text: string) => {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
};
const jsonLines = (text: string) =>
  text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
/** "Monday 6th January 2025 12:10", as SullyGnome shows a start. */
const sullyTime = (iso: string) => {
  const d = new Date(iso);
  const day = d.getUTCDate();
  const suffix =
    day % 10 === 1 && day !== 11
      ? "st"
      : day % 10 === 2 && day !== 12
        ? "nd"
        : day % 10 === 3 && day !== 13
          ? "rd"
          : "th";
  const weekday = d.toLocaleDateString("en-GB", { weekday: "long", timeZone: "UTC" });
  const month = d.toLocaleDateString("en-GB", { month: "long", timeZone: "UTC" });
  return `${weekday} ${day}${suffix} ${month} ${d.getUTCFullYear()} ${iso.slice(11, 16)}`;
};

describe("vods recover --from FILE (simulator, PostgreSQL)", () => {
  it("reads SullyGnome's stream table export: one JSON line per row, found or not with why", async () => {
    const [a, b, c] = [truth("listed_a"), truth("hidden_b"), truth("gone_c")];
    const row = (v: VodTruth) =>
      [
        v.streamId,
        `"${sullyTime(v.startTime)}"`,
        v.startTime,
        20,
        12,
        30,
        1,
        v.login,
        `https://sullygnome.com/channel/${v.login}/stream/${v.streamId}`,
      ].join(",");
    const csv = await file(
      "sullygnome.csv",
      `\uFEFFstreamId,starttime,startDateTime,length,avgviewers,maxviewers,followergain,channelurl,streamUrl\n${[a, b, c].map(row).join("\n")}\n`,
    );
    const out = join(dir, "sullygnome.jsonl");
    const summary = await run(["--from", csv, "--out", out]);
    expect(summary).toBe(`3 rows: 2 found, 1 not found; answers in ${out}`);
    const lines = jsonLines(await readFile(out, "utf8"));
    expect(lines.map((l) => [l.row, l.found, l.source, l.streamId])).toEqual([
      [2, true, "listing", a.streamId],
      [3, true, "cdn", b.streamId],
      [4, false, undefined, undefined],
    ]);
    expect(lines[1]).toMatchObject({ startTime: b.startTime, cdnUrl: sim.cdnBaseUrl(D1) + b.path });
    expect(lines[0]!.input).toMatchObject({ streamId: a.streamId, channelurl: a.login, startDateTime: a.startTime });
    expect(lines[2]!.error).toMatch(/^not found: gone_c stream \d+ at .*; tried archive, listing, cdn/);
    expect(progress).toMatch(/^VODs 3\/3 · found 2 · not found 1 · ETA 0:00$/m);
  });

  it("reads a TwitchTracker-style list (Date to the minute, Stream ID, Channel) and a plain list of links", async () => {
    const [a, b] = [truth("listed_a"), truth("hidden_b")];
    const minute = (v: VodTruth) => v.startTime.slice(0, 16).replace("T", " ");
    const csv = await file(
      "twitchtracker.csv",
      `Date;Duration;Avg CCU;Max CCU;Followers;Title;Stream ID;Channel\n` +
        `${minute(a)};0.3;12;30;1;"first; with a semicolon";${a.streamId};${a.login}\n` +
        `${minute(b)};0.3;12;30;1;second;${b.streamId};${b.login}\n`,
    );
    const lines = jsonLines(await run(["--from", csv, "--budget", "1000"]));
    expect(lines.map((l) => [l.found, l.source, l.cdnUrl])).toEqual([
      [true, "listing", sim.cdnBaseUrl(D0) + a.path],
      [true, "cdn", sim.cdnBaseUrl(D1) + b.path],
    ]);
    const list = await file(
      "links.txt",
      `# tracker links\nhttps://twitchtracker.com/${a.login}/streams/${a.streamId}\n\nhttps://twitchtracker.com/${b.login}/streams/${b.streamId}\nhttps://example.com/nope\n`,
    );
    const answers = jsonLines(await run(["--from", list]));
    expect(answers.map((l) => [l.row, l.input, l.found])).toEqual([
      [2, `https://twitchtracker.com/${a.login}/streams/${a.streamId}`, true],
      [4, `https://twitchtracker.com/${b.login}/streams/${b.streamId}`, false],
      [5, "https://example.com/nope", false],
    ]);
    // Hidden and no time given: what is missing, per row.
    expect(answers[1]!.error).toMatch(/a CDN search needs the start time/);
    expect(answers[2]!.error).toMatch(/^bad row: "example.com" is not TwitchTracker/);
  });

  it("resumes: rows already answered in --out are skipped, and a line cut short by a kill is asked again", async () => {
    const [a, b, c] = [truth("listed_a"), truth("hidden_b"), truth("gone_c")];
    const csv = await file(
      "resume.csv",
      `url,start\n` +
        [a, b, c].map((v) => `https://twitchtracker.com/${v.login}/streams/${v.streamId},${v.startTime}`).join("\n"),
    );
    const out = join(dir, "resume.jsonl");
    await run(["--from", csv, "--out", out]);
    const full = await readFile(out, "utf8");
    const [first, second] = full.split("\n");
    // Killed while writing the second line.
    await writeFile(out, `${first}\n${second!.slice(0, 20)}`);
    sim.resetStats();
    const summary = await run(["--from", csv, "--out", out]);
    expect(summary).toBe(`3 rows: 1 found, 1 not found, 1 answered in an earlier run; answers in ${out}`);
    // The same answers, each once; how many requests a hit cost varies with the requests it aborted.
    const after = jsonLines(await readFile(out, "utf8"));
    const steady = (l: Record<string, unknown>) => ({ ...l, requests: undefined });
    expect(after.map(steady)).toEqual(jsonLines(full).map(steady));
    // Only rows 2 and 3 were asked: no more CDN requests than their answers count.
    expect(sim.stats().cdn.requests).toBeLessThanOrEqual(
      (after[1]!.requests as number) + (after[2]!.requests as number),
    );
    sim.resetStats();
    const again = await run(["--from", csv, "--out", out]);
    expect(sim.stats().cdn.requests + sim.stats().gql.requests).toBe(0);
    expect(again).toBe(`3 rows: 0 found, 0 not found, 3 answered in an earlier run; answers in ${out}`);
    expect(progress).toMatch(/^VODs 3\/3 · found 0 · not found 0 · ETA \?$/m);
  });

  it("refuses a file it cannot read with what it found and what it accepts", async () => {
    const bad = await file("bad.csv", "foo,bar\n1,2\n");
    const err = await run(["--from", bad]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(
      /bad\.csv: no recognizable columns in its header \(foo, bar\); a CSV needs a stream URL column/,
    );
    await expect(run(["--from", join(dir, "missing.csv")])).rejects.toThrow(/--from .*missing\.csv: no such file/);
    await expect(run(["--from", await file("empty.csv", "\n# nothing\n")])).rejects.toThrow(/holds no rows/);
    await expect(run(["--from", bad, "https://twitchtracker.com/a/streams/1"])).rejects.toThrow(/give no link/);
  });

  it("reads SullyGnome's display times", () => {
    expect(trackerTime("Thursday 30th October 2025 18:29")).toBe("2025-10-30 18:29");
    expect(trackerTime("1st Jan 2026 09:05:07")).toBe("2026-01-01 09:05:07");
    expect(trackerTime("2026-01-01 09:05")).toBe("2026-01-01 09:05");
  });
});
