// `vods download`: one VOD (or a range of it) as an MP4, remuxed by ffmpeg without re-encoding.
import { parseArgs } from "node:util";
import { z } from "zod";
import { duration, parseEnv } from "@vod/config";
import { httpGet, qualityName } from "./download-quality.ts";
import { formatDownload, type DownloadReport } from "./download-report.ts";
import { fetchSegments } from "./download-segments.ts";
import { resolveSource } from "./download-source.ts";
import { openWorkDir, remux, removeWorkDir, workDirOf } from "./download-workdir.ts";
import { CommandError, UsageError } from "./errors.ts";
import { megabytes, Progress, type ProgressOutput } from "./progress.ts";
import { recoverEnvSchema } from "./recover-env.ts";
import { readBudget, TARGET_OPTIONS, TIME_HELP } from "./recover-setup.ts";
import { parseOffset, playlistSegments, segmentsInRange, trimOf } from "./time-range.ts";

export const DOWNLOAD_USAGE =
  "usage: vods download <playlist, tracker or Twitch URL> [--time T] [--tz ZONE] [--login L --stream-id N] [--from T0] [--to T1] [--quality Q] [--out FILE.mp4] [--json] [--budget N]\n" +
  "  a playlist URL (the page's, or the CDN's index-dvr.m3u8) is fetched as it is; anything else is found as `vods recover` finds it\n" +
  "  T0, T1: times into the VOD as H:MM:SS, MM:SS or seconds; cut without re-encoding, so at the keyframe before T0 (2 s apart on Twitch)\n" +
  "  Q: source (default), 1080p60, 720p60, 480p30, 360p30, 160p30 or audio_only\n" +
  "  FILE.mp4: by default {login}_{streamId}[_{quality}].mp4 here; an interrupted download resumes from FILE.mp4.parts/\n" +
  TIME_HELP;

export const downloadEnvSchema = recoverEnvSchema.extend({
  /** Segments fetched at once. */
  DOWNLOAD_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(4),
  /** Tries after the first for a segment that fails for a passing reason (5xx, 429, timeout). */
  DOWNLOAD_RETRIES: z.coerce.number().int().min(0).max(10).default(4),
  DOWNLOAD_BACKOFF: duration("500ms"),
  /** One segment's request and body; Twitch's source segments are a few MB. */
  DOWNLOAD_TIMEOUT: duration("60s"),
  FFMPEG: z.string().min(1).default("ffmpeg"),
});
export type DownloadEnv = z.infer<typeof downloadEnvSchema>;
export const loadDownloadEnv = (): DownloadEnv => parseEnv(downloadEnvSchema);

export interface DownloadIo {
  note: (message: string) => void;
  /** Where the progress line goes (stderr). */
  progress: ProgressOutput;
  now?: () => number;
}

function parseDownloadArgs(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...TARGET_OPTIONS,
        from: { type: "string" },
        to: { type: "string" },
        quality: { type: "string" },
        out: { type: "string" },
        json: { type: "boolean" },
        budget: { type: "string" },
      },
      strict: true,
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${DOWNLOAD_USAGE}`);
  }
}

/** Runs `vods download`; resolves to the report stdout shows. */
export async function downloadCommand(argv: string[], env: DownloadEnv, io: DownloadIo): Promise<string> {
  const { values, positionals } = parseDownloadArgs(argv);
  if (positionals.length > 1)
    throw new UsageError(`one VOD at a time; got ${positionals.length} inputs\n${DOWNLOAD_USAGE}`);
  const from = values.from === undefined ? undefined : parseOffset(values.from, "--from");
  const to = values.to === undefined ? undefined : parseOffset(values.to, "--to");
  if (from !== undefined && to !== undefined && from >= to)
    throw new UsageError(`--from ${values.from} must come before --to ${values.to}\n${DOWNLOAD_USAGE}`);
  const budget = readBudget(values.budget, env, DOWNLOAD_USAGE);
  const now = io.now ?? Date.now;
  const quality = values.quality === undefined ? undefined : qualityName(values.quality.trim());

  const source = await resolveSource(positionals[0], values, {
    env,
    budget,
    quality,
    note: io.note,
    now,
    get: httpGet(env.REQUEST_TIMEOUT),
    usage: DOWNLOAD_USAGE,
  });
  const all = playlistSegments(source.playlist);
  if (all.length === 0) throw new CommandError(`the playlist (${source.playlistUrl}) lists no segments`);
  const picked = segmentsInRange(all, from, to);
  const out =
    values.out ?? `${source.login}_${source.streamId}${source.quality === "chunked" ? "" : `_${source.quality}`}.mp4`;
  const dir = workDirOf(out);
  await openWorkDir(dir, {
    streamId: source.streamId,
    startTime: source.startTime,
    quality: source.quality,
    playlist: source.playlistUrl,
    segments: all.length,
  });

  const started = Date.now();
  let done = 0;
  let bytes = 0;
  let bytesHere = 0;
  let progress: Progress | undefined;
  const draw = (force = false) =>
    progress?.update(
      "segments",
      done,
      [megabytes(bytes), `${megabytes(bytesHere / Math.max(progress.elapsed(), 0.001))}/s`],
      force,
    );
  const fetched = await fetchSegments(dir, picked, {
    concurrency: env.DOWNLOAD_CONCURRENCY,
    retries: env.DOWNLOAD_RETRIES,
    timeoutMs: env.DOWNLOAD_TIMEOUT,
    backoffMs: env.DOWNLOAD_BACKOFF,
    onStart: (reused, reusedBytes) => {
      done = reused;
      bytes = reusedBytes;
      progress = new Progress(io.progress, { total: picked.length, doneAtStart: reused, now });
      draw(true);
    },
    onSegment: (added) => {
      done++;
      bytes += added;
      bytesHere += added;
      draw();
    },
  });
  draw(true);
  progress?.end();
  if (fetched.failed.length > 0) {
    const first = fetched.failed[0]!;
    throw new CommandError(
      `${fetched.failed.length} segment${fetched.failed.length === 1 ? "" : "s"} could not be fetched (${first.segment.uri}: ${first.error}); ` +
        `the ${fetched.files.size} whole ones are kept in ${dir}: run the same command again to fetch the rest`,
      1,
    );
  }
  const alive = picked.filter((s) => fetched.files.has(s.index));
  if (alive.length === 0)
    throw new CommandError(
      `every segment asked for is gone from the CDN (${fetched.dead[0]?.status}); nothing to write`,
      1,
    );
  const range = trimOf(alive, from, to);
  await remux(
    dir,
    alive.map((s) => fetched.files.get(s.index)!),
    out,
    env.FFMPEG,
    range?.trim,
  );
  await removeWorkDir(dir);

  const report: DownloadReport = {
    out,
    login: source.login,
    streamId: source.streamId,
    startTime: source.startTime,
    quality: source.quality,
    via: source.via,
    playlist: source.playlistUrl,
    from: range?.from ?? alive[0]!.start,
    to: range?.to ?? alive.at(-1)!.start + alive.at(-1)!.duration,
    segments: alive.length,
    seconds: range?.trim.length ?? alive.reduce((sum, s) => sum + s.duration, 0),
    bytes: fetched.bytes,
    fetched: fetched.fetched,
    reused: fetched.reused,
    dead: fetched.dead.map((d) => ({
      index: d.segment.index,
      uri: d.segment.uri,
      from: d.segment.start,
      to: d.segment.start + d.segment.duration,
      status: d.status,
    })),
    elapsedSeconds: (Date.now() - started) / 1000,
  };
  return values.json ? JSON.stringify(report) : formatDownload(report);
}
