import { InputError, parseStartTime, parseTarget, type StartTime } from "@vod/recover";
import { BadRequest } from "./errors.ts";

/** What a find asks for, as far as the input names it. */
export type FindAsk =
  | { kind: "stream"; streamId: string; login?: string; time?: StartTime }
  | { kind: "video"; videoId: string; login?: string; time?: StartTime }
  | { kind: "channel"; login: string; time: StartTime };

const CHANNEL_URL = /^(?:https?:\/\/)?(?:www\.|m\.)?twitch\.tv\/([A-Za-z0-9_]{1,25})\/?(?:[?#].*)?$/i;
const LOGIN = /^[A-Za-z0-9_]{1,25}$/;
const STREAM_ID = /^\d{1,20}$/;

/** The recover library speaks to a command line; the page has fields, not flags. */
const forPage = (message: string) =>
  message
    .replace(/--login and --stream-id/g, "a login and a stream id")
    .replace(/--(tz|time|login|stream-id)\b/g, (_, f: string) => f.replace("-", " "));

/**
 * Reads the Find box: a TwitchTracker / StreamsCharts / SullyGnome stream link, a twitch.tv video
 * link, a channel link or login (with a time), or a stream id; and the time, local to `tz` (the
 * browser's zone) unless it carries an offset. A BadRequest names the field and what is wrong.
 */
export function readFindInput(
  input: string,
  timeText: string | undefined,
  tz: string | undefined,
  nowMs: number,
): FindAsk {
  const text = input.trim();
  let time: StartTime | undefined;
  try {
    time = timeText?.trim() ? parseStartTime(timeText, tz?.trim() || undefined, nowMs) : undefined;
  } catch (err) {
    if (err instanceof InputError) throw new BadRequest([{ parameter: "time", problem: forPage(err.message) }]);
    throw err;
  }
  if (text === "")
    throw new BadRequest([
      { parameter: "input", problem: "empty: paste a stream link, a video link, a channel or a stream id" },
    ]);
  if (STREAM_ID.test(text)) return { kind: "stream", streamId: text, ...(time ? { time } : {}) };
  const channel = CHANNEL_URL.exec(text)?.[1] ?? (LOGIN.test(text) ? text : undefined);
  if (channel !== undefined && !/^videos?$/i.test(channel)) {
    if (!time)
      throw new BadRequest([
        {
          parameter: "time",
          problem: `a channel (${channel.toLowerCase()}) names many streams: give the date and time the stream started`,
        },
      ]);
    return { kind: "channel", login: channel.toLowerCase(), time };
  }
  try {
    const target = parseTarget(text);
    const login = target.login ? { login: target.login } : {};
    if (target.videoId !== undefined)
      return { kind: "video", videoId: target.videoId, ...login, ...(time ? { time } : {}) };
    return { kind: "stream", streamId: target.streamId!, ...login, ...(time ? { time } : {}) };
  } catch (err) {
    if (err instanceof InputError) throw new BadRequest([{ parameter: "input", problem: forPage(err.message) }]);
    throw err;
  }
}
