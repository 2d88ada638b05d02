import { isPlaylist } from "@vod/twitch";
import { InputError, type StartTime, type Target } from "./input.ts";
import { finish, type Recovered } from "./result.ts";
import { usable, type RecoverRun } from "./run.ts";
import { fromArchiveRow } from "./archive.ts";
import { archivedVideo, videoById } from "./sources.ts";

type FromVideo = { recovered: Recovered } | { target: Target; time: StartTime };

/**
 * A Twitch video URL. Our archive first: a VOD it fetched while the streamer's listing named it has the
 * video id (found: its stored playlist, no request to Twitch). Otherwise only GQL can say which stream it
 * was, and only while Twitch still shows the video. Its playlist when the path the video names answers;
 * otherwise the stream it names and the video's start, for the other sources.
 */
export async function fromVideo(run: RecoverRun, target: Target & { videoId: string }): Promise<FromVideo> {
  const archived = await fromArchivedVideo(run, target);
  if (archived) return archived;
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

/** The archive's VOD of this video id: its stored playlist when found, else its stream and exact start. */
async function fromArchivedVideo(run: RecoverRun, target: Target & { videoId: string }): Promise<FromVideo | null> {
  const { db } = run.o;
  if (!db) return null;
  const row = await archivedVideo(db, target.videoId).catch((err: unknown) => {
    const e = err as Error & { cause?: Error };
    run.note(`our archive could not be read (${(e.cause ?? e).message.split("\n")[0]}); asking GQL`);
    return null;
  });
  if (!row) return null;
  if (row.outcome === "found" && row.playlist !== null) {
    run.sources.push("archive");
    return { recovered: await finish(run, row.streamId, fromArchiveRow(row, run.o.apiUrl), row.playlist, "archive") };
  }
  // Seen but not archived: the archive's own step takes it from its stream id and exact start.
  return {
    target: { ...target, login: row.login, streamId: row.streamId },
    time: { ms: row.startMs, precision: "second" },
  };
}
