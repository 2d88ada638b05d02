import { DateTime } from "luxon";

/** A bad or ambiguous input: the message says what was understood and what is missing. */
export class InputError extends Error {
  override name = "InputError";
}

/** Which VOD to recover, as far as the input names it. */
export interface Target {
  /** Where the identity came from, for messages. */
  from: "twitchtracker" | "streamscharts" | "sullygnome" | "twitch" | "flags";
  login?: string;
  streamId?: string;
  /** A Twitch video URL names a video, not a stream: only GQL can tell which stream it was. */
  videoId?: string;
}

/** A start time and how precisely it was given: a time without seconds means the whole minute. */
export interface StartTime {
  /** The start of the second or minute given, Unix ms (UTC). */
  ms: number;
  precision: "second" | "minute";
}

const LOGIN = /^[a-z0-9_]{1,25}$/;
const DIGITS = /^\d{1,20}$/;

const SITES: {
  host: RegExp;
  from: Target["from"];
  shape: string;
  read: (parts: string[]) => { login: string; streamId: string } | null;
}[] = [
  {
    host: /^(www\.)?twitchtracker\.com$/,
    from: "twitchtracker",
    shape: "twitchtracker.com/{login}/streams/{streamId}",
    read: ([login, streams, id]) => (login && streams === "streams" && id ? { login, streamId: id } : null),
  },
  {
    host: /^(www\.)?streamscharts\.com$/,
    from: "streamscharts",
    shape: "streamscharts.com/channels/{login}/streams/{streamId}",
    read: ([channels, login, streams, id]) =>
      channels === "channels" && login && streams === "streams" && id ? { login, streamId: id } : null,
  },
  {
    host: /^(www\.)?sullygnome\.com$/,
    from: "sullygnome",
    shape: "sullygnome.com/channel/{login}/stream/{streamId}",
    read: (parts) => {
      // The stream page may sit under a time range (`/channel/{login}/30/stream/{id}`).
      const at = parts.indexOf("stream");
      return parts[0] === "channel" && parts[1] && at >= 2 && parts[at + 1]
        ? { login: parts[1], streamId: parts[at + 1]! }
        : null;
    },
  },
];

/**
 * Reads a tracker or Twitch URL and the `--login`/`--stream-id` flags into a target. Refuses a URL
 * of another site, a page that names no stream, and flags that contradict the URL.
 */
export function parseTarget(input: string | undefined, flags: { login?: string; streamId?: string } = {}): Target {
  const flagLogin = flags.login?.trim().toLowerCase();
  const flagId = flags.streamId?.trim();
  if (flagLogin !== undefined && !LOGIN.test(flagLogin))
    throw new InputError(`--login "${flags.login}" is not a Twitch login (letters, digits, _; at most 25)`);
  if (flagId !== undefined && !DIGITS.test(flagId))
    throw new InputError(`--stream-id "${flags.streamId}" is not a stream id (digits only)`);
  if (input === undefined || input.trim() === "") {
    if (flagLogin && flagId) return { from: "flags", login: flagLogin, streamId: flagId };
    const understood = flagLogin ? `login ${flagLogin}` : flagId ? `stream id ${flagId}` : "nothing";
    throw new InputError(
      `understood ${understood}; missing: ${flagLogin ? "--stream-id" : flagId ? "--login" : "a tracker or Twitch URL, or --login and --stream-id"}`,
    );
  }
  const target = parseUrl(input.trim());
  for (const [name, flag, value] of [
    ["--login", flagLogin, target.login],
    ["--stream-id", flagId, target.streamId],
  ] as const) {
    if (flag !== undefined && value !== undefined && flag !== value)
      throw new InputError(`${name} ${flag} contradicts the URL, which names ${value}`);
  }
  return { ...target, login: target.login ?? flagLogin, streamId: target.streamId ?? flagId };
}

function parseUrl(raw: string): Target {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`);
  } catch {
    throw new InputError(
      `"${raw}" is not a URL; give a TwitchTracker, StreamsCharts, SullyGnome or Twitch video URL, or --login and --stream-id`,
    );
  }
  const host = url.hostname.toLowerCase();
  const parts = url.pathname
    .split("/")
    .filter((p) => p !== "")
    .map((p) => decodeURIComponent(p));
  if (/^((www|m)\.)?twitch\.tv$/.test(host)) {
    // twitch.tv/videos/{id} or twitch.tv/{login}/video/{id}
    const at = parts.findIndex((p) => p === "videos" || p === "video");
    const id = at >= 0 ? parts[at + 1] : undefined;
    if (!id || !DIGITS.test(id))
      throw new InputError(
        `a Twitch URL names a VOD as twitch.tv/videos/{id}; "${raw}" names none (a channel page has no stream id: use --login and --stream-id)`,
      );
    const login = at === 1 ? parts[0]!.toLowerCase() : undefined;
    return { from: "twitch", videoId: id, ...(login && LOGIN.test(login) ? { login } : {}) };
  }
  const site = SITES.find((s) => s.host.test(host));
  if (!site)
    throw new InputError(
      `"${host}" is not TwitchTracker, StreamsCharts, SullyGnome or Twitch; give one of their stream URLs, or --login and --stream-id`,
    );
  const read = site.read(parts);
  if (!read)
    throw new InputError(
      `a ${site.from} stream URL looks like ${site.shape}; "${raw}" names no stream (a channel page?)`,
    );
  const login = read.login.toLowerCase();
  if (!LOGIN.test(login)) throw new InputError(`"${read.login}" in ${raw} is not a Twitch login`);
  if (!DIGITS.test(read.streamId))
    throw new InputError(`"${read.streamId}" in ${raw} is not a stream id (digits only)`);
  return { from: site.from, login, streamId: read.streamId };
}

// The forms the trackers show, and ISO 8601 without an offset; seconds optional in each.
const LOCAL_FORMS: { re: RegExp; formats: [string, string] }[] = [
  { re: /^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$/, formats: ["yyyy-MM-dd H:mm", "yyyy-MM-dd H:mm:ss"] },
  { re: /^\d{2}-\d{2}-\d{4} \d{1,2}:\d{2}(:\d{2})?$/, formats: ["dd-MM-yyyy H:mm", "dd-MM-yyyy H:mm:ss"] },
  { re: /^\d{2}\.\d{2}\.\d{4} \d{1,2}:\d{2}(:\d{2})?$/, formats: ["dd.MM.yyyy H:mm", "dd.MM.yyyy H:mm:ss"] },
];
const OFFSET = /(Z|[+-]\d{2}(:?\d{2})?)$/i;
const FORMS_HELP = "2026-11-28 14:03, 28-11-2026 14:03, 2026-11-28T14:03:27Z or 2026-11-28T15:03+01:00";

/**
 * Reads a start time in the forms trackers show or ISO 8601, UTC unless it carries an offset or
 * `tz` names a zone. Without seconds it means the whole minute. Refuses a day/month order it cannot
 * tell (slashes), a local time that does not exist or happens twice in the zone, and a future time.
 */
export function parseStartTime(raw: string, tz?: string, nowMs = Date.now()): StartTime {
  const text = raw.trim();
  if (text.includes("/"))
    throw new InputError(`time "${raw}": with slashes the day and month order is ambiguous; write ${FORMS_HELP}`);
  const zone = tz?.trim() || "UTC";
  if (!DateTime.now().setZone(zone).isValid)
    throw new InputError(`--tz "${tz}" is not a time zone (an IANA name like Europe/Berlin, or UTC+2)`);
  let dt: DateTime;
  let seconds: boolean;
  if (/T/i.test(text) && OFFSET.test(text)) {
    if (tz) throw new InputError(`time "${raw}" carries its own offset and --tz ${tz} was given too; give one of them`);
    dt = DateTime.fromISO(text, { setZone: true });
    seconds = /T\d{1,2}:\d{2}:\d{2}/i.test(text);
    if (!dt.isValid)
      throw new InputError(
        `time "${raw}" is not ISO 8601 (${dt.invalidExplanation ?? dt.invalidReason}); write ${FORMS_HELP}`,
      );
  } else {
    const form = LOCAL_FORMS.find((f) => f.re.test(text));
    if (!form)
      throw new InputError(`time "${raw}" is not in a form understood; write ${FORMS_HELP} (UTC unless --tz is given)`);
    const plain = text.replace("T", " ").replace(/\.\d+$/, "");
    seconds = /\d:\d{2}:\d{2}$/.test(plain);
    dt = DateTime.fromFormat(plain, form.formats[seconds ? 1 : 0]!, { zone });
    if (!dt.isValid)
      throw new InputError(`time "${raw}" is not a date and time (${dt.invalidExplanation ?? dt.invalidReason})`);
    // Luxon moves a wall time inside a DST gap forward; it did not happen in that zone.
    const [, hour, minute] = / (\d{1,2}):(\d{2})/.exec(plain)!;
    if (dt.hour !== Number(hour) || dt.minute !== Number(minute)) {
      throw new InputError(`time "${raw}" does not exist in ${zone} (the clocks jumped over it)`);
    }
    const offsets = dt.getPossibleOffsets();
    if (offsets.length > 1) {
      const readings = offsets.map((o) => o.toUTC().toISO({ suppressMilliseconds: true })).join(" or ");
      throw new InputError(
        `time "${raw}" happens twice in ${zone} (clocks went back): ${readings}; give it in UTC or with an offset`,
      );
    }
  }
  const ms = Math.floor(dt.toMillis() / 1000) * 1000;
  const start = seconds ? ms : ms - (ms % 60_000);
  if (start > nowMs)
    throw new InputError(
      `time "${raw}" is ${new Date(start).toISOString()} UTC, in the future${tz ? "" : " (times are UTC unless --tz says otherwise)"}`,
    );
  return { ms: start, precision: seconds ? "second" : "minute" };
}

/** How a start time reads back in messages. */
export function describeTime(t: StartTime): string {
  const iso = new Date(t.ms).toISOString();
  return t.precision === "second" ? iso.replace(".000Z", "Z") : `${iso.slice(0, 16)}Z (the whole minute)`;
}
