import { isPlaylist } from "@vod/twitch";
import { InputError, type StartTime, type Target } from "./input.ts";
import { finish, type Recovered } from "./result.ts";
import { usable, type RecoverRun } from "./run.ts";
import { videoById } from "./sources.ts";

/**
 * A Twitch video URL: only GQL can say which stream it was, and only while Twitch still shows the
 * video. Its playlist when the path the video names answers; otherwise the stream it names and the
 * video's start, for the other sources.
 */
export async function fromVideo(
  run: RecoverRun,
  target: Target & { videoId: string },
): Promise<{ recovered: Recovered } | { target: Target; time: StartTime }> {
  const { o, client, signal, note } = run;
  const video = o.gql
    ? await videoById(o.gql, target.videoId, signal).catch((err: unknown) => {
        note(`GQL did not answer for video ${target.videoId} (${(err as Error).message})`);
        return null;
      })
    : null;
  if (!video || !usable(video.domain, o)) {
    throw new InputError(
      `Twitch no longer shows video ${target.videoId} (deleted or hidden), and a video id names no stream id or start time; ` +
        `give the stream's TwitchTracker, StreamsCharts or SullyGnome URL, or --login and --stream-id with --time`,
    );
  }
  run.sources.push("video");
  const url = run.baseUrl(video.domain) + `${video.key}/chunked/index-dvr.m3u8`;
  const answer = await client.get(url, signal);
  if (answer?.kind === "ok" && isPlaylist(answer.body)) {
    const at = { url, startMs: video.startMs ?? video.ts * 1000, login: video.login };
    return { recovered: await finish(run, video.streamId, at, answer.body, "listing") };
  }
  note(`video ${target.videoId} names ${video.domain}/${video.key}, which did not answer with a playlist; searching`);
  return {
    target: { ...target, login: video.login, streamId: video.streamId },
    time: { ms: video.startMs ?? video.ts * 1000, precision: "second" },
  };
}
