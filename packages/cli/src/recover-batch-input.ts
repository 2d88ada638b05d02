// The input of `vods recover --from FILE`: a tracker's CSV export, or one link per line.
import { parse } from "csv-parse/sync";
import { UsageError } from "./errors.ts";

/** One VOD asked for: a link, or the columns of a CSV row. */
export interface BatchRow {
  /** 1-based line of the file. */
  line: number;
  /** The row as read: the link, or the recognized columns by their header. */
  input: string | Record<string, string>;
  link?: string;
  login?: string;
  streamId?: string;
  time?: string;
}

/**
 * Header names accepted for each field, compared lowercased without spaces or punctuation. SullyGnome's
 * stream table names its columns streamId, startDateTime (ISO, to the second), starttime
 * ("Thursday 30th October 2025 18:29"), channelurl (the login) and streamUrl; TwitchTracker's stream
 * list shows Date, Channel and the stream's id or link. Earlier names win (startDateTime over starttime).
 */
export const COLUMNS = {
  link: ["streamurl", "url", "link", "streamlink", "vodurl", "vod"],
  streamId: ["streamid", "id", "stream"],
  login: ["channelurl", "login", "channel", "channelname", "streamer", "username", "user"],
  time: ["startdatetime", "starttime", "streamstart", "start", "startedat", "started", "date", "datetime"],
} as const;
type Field = keyof typeof COLUMNS;

export const COLUMNS_HELP =
  "a CSV needs a stream URL column (streamUrl, URL, Link) or stream id and channel columns (streamId or Stream ID, channelurl, Channel or Login), " +
  "and a start time column (startDateTime, starttime, Date) for VODs our archive does not know; or give one tracker or Twitch link per line";

const norm = (h: string) => h.toLowerCase().replace(/[^a-z0-9]/g, "");
const LINK_LINE = /^(https?:\/\/|(www\.)?(twitchtracker\.com|streamscharts\.com|sullygnome\.com|twitch\.tv)\/)/i;

export function readBatchRows(raw: string, file: string): BatchRow[] {
  const text = raw.replace(/^\uFEFF/, "");
  const lines = text.split(/\r?\n/);
  const firstAt = lines.findIndex((l) => l.trim() !== "" && !l.trim().startsWith("#"));
  if (firstAt < 0) throw new UsageError(`${file} holds no rows: ${COLUMNS_HELP}`);
  if (LINK_LINE.test(lines[firstAt]!.trim())) {
    return lines.flatMap((l, i) => {
      const link = l.trim();
      return link === "" || link.startsWith("#") ? [] : [{ line: i + 1, input: link, link }];
    });
  }
  return readCsv(text, file, lines[firstAt]!);
}

function readCsv(text: string, file: string, headerLine: string): BatchRow[] {
  // The delimiter the header uses most: spreadsheets in some locales write `;`.
  const delimiter = [",", ";", "\t"].map((d) => ({ d, n: headerLine.split(d).length })).sort((a, b) => b.n - a.n)[0]!.d;
  let records: { record: string[]; line: number }[];
  try {
    records = (
      parse(text, {
        delimiter,
        relax_column_count: true,
        skip_empty_lines: true,
        info: true,
        trim: true,
      }) as unknown as {
        record: string[];
        info: { lines: number };
      }[]
    ).map((r) => ({ record: r.record, line: r.info.lines }));
  } catch (err) {
    throw new UsageError(`${file} is not a readable CSV: ${(err as Error).message}`);
  }
  const [header, ...rows] = records;
  const names = header!.record.map(norm);
  const at = Object.fromEntries(
    (Object.keys(COLUMNS) as Field[]).map((f) => [
      f,
      COLUMNS[f].map((c) => names.indexOf(c)).find((i) => i >= 0) ?? -1,
    ]),
  ) as Record<Field, number>;
  if (at.link < 0 && (at.streamId < 0 || at.login < 0))
    throw new UsageError(
      `${file}: no recognizable columns in its header (${header!.record.join(", ")}); ${COLUMNS_HELP}`,
    );
  return rows.map(({ record, line }) => {
    const value = (f: Field) => (at[f] >= 0 ? record[at[f]]?.trim() || undefined : undefined);
    const input = Object.fromEntries(
      (Object.keys(at) as Field[]).filter((f) => at[f] >= 0).map((f) => [header!.record[at[f]]!, record[at[f]] ?? ""]),
    );
    const login = value("login")?.replace(/\/+$/, "").split("/").pop()?.toLowerCase();
    const time = value("time");
    return {
      line,
      input,
      ...(value("link") ? { link: value("link") } : {}),
      ...(login ? { login } : {}),
      ...(value("streamId") ? { streamId: value("streamId") } : {}),
      ...(time ? { time: trackerTime(time) } : {}),
    };
  });
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** SullyGnome's "Thursday 30th October 2025 18:29" as 2025-10-30 18:29; other forms as given. */
export function trackerTime(raw: string): string {
  const m = /^(?:[a-z]+,?\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\s+(\d{4}),?\s+(\d{1,2}:\d{2}(?::\d{2})?)$/i.exec(
    raw.trim(),
  );
  const month = m ? MONTHS.indexOf(m[2]!.slice(0, 3).toLowerCase()) : -1;
  if (!m || month < 0) return raw;
  return `${m[3]}-${String(month + 1).padStart(2, "0")}-${m[1]!.padStart(2, "0")} ${m[4]}`;
}

/** What identifies a row across runs: its link, or its recognized columns. */
export const rowKey = (input: BatchRow["input"]): string => (typeof input === "string" ? input : JSON.stringify(input));
