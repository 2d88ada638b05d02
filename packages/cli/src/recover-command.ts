import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { InputError, NotFound, recover, type Recovered } from "@vod/recover";
import { CommandError, UsageError } from "./errors.ts";
import type { ProgressOutput } from "./progress.ts";
import { recoverBatch } from "./recover-batch.ts";
import { COLUMNS_HELP } from "./recover-batch-input.ts";
import type { RecoverEnv } from "./recover-env.ts";
import { openArchive, readBudget, readTarget, recoverOptions, TARGET_OPTIONS, TIME_HELP } from "./recover-setup.ts";

export { loadRecoverEnv, recoverEnvSchema, type RecoverEnv } from "./recover-env.ts";

export const USAGE =
  "usage: vods recover <tracker or Twitch URL> [--time T] [--tz ZONE] [--login L --stream-id N] [--json] [--check-segments N|all] [--out FILE] [--budget N]\n" +
  "       vods recover --from FILE [--out FILE.jsonl] [--tz ZONE] [--budget N]   (many VODs: a tracker CSV export or one link per line)\n" +
  TIME_HELP +
  `\n  FILE: ${COLUMNS_HELP}; one JSON line per row on stdout or in --out, where a second run skips the rows answered`;

export interface RecoverCommandIo {
  /** Progress for the person waiting (stderr). */
  note: (message: string) => void;
  /** Where `--from`'s progress line goes (stderr). */
  progress?: ProgressOutput;
  now?: () => number;
}

/** Runs `vods recover`; resolves to what stdout shows. A VOD not found is a CommandError whose message says what was tried. */
export async function recoverCommand(argv: string[], env: RecoverEnv, io: RecoverCommandIo): Promise<string> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...TARGET_OPTIONS,
        json: { type: "boolean" },
        "check-segments": { type: "string" },
        out: { type: "string" },
        budget: { type: "string" },
        from: { type: "string" },
      },
      strict: true,
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  const budget = readBudget(values.budget, env, USAGE);
  const now = io.now ?? Date.now;
  if (values.from !== undefined) {
    const stray = positionals.length > 0 || values.login || values["stream-id"] || values.time || values.json;
    if (stray)
      throw new UsageError(
        `--from reads every VOD from the file: give no link, --login, --stream-id, --time or --json\n${USAGE}`,
      );
    if (values["check-segments"] !== undefined)
      throw new UsageError(`--check-segments is for one VOD at a time\n${USAGE}`);
    return recoverBatch({ file: values.from, out: values.out, tz: values.tz, budget }, env, { ...io, now });
  }
  if (positionals.length > 1) throw new UsageError(`one VOD at a time; got ${positionals.length} inputs\n${USAGE}`);
  const check = values["check-segments"];
  if (check !== undefined && check !== "all" && !/^[1-9]\d*$/.test(check))
    throw new UsageError(`--check-segments takes a count or "all", got "${check}"\n${USAGE}`);
  const { target, time } = readTarget(positionals[0], values, now(), USAGE);

  const archive = await openArchive(env, io.note, "vods-recover");
  const options = recoverOptions(env, {
    db: archive.db,
    budget,
    ...(check !== undefined ? { checkSegments: check === "all" ? ("all" as const) : Number(check) } : {}),
    note: io.note,
    now,
  });
  let result: Recovered;
  try {
    result = await recover(target, time, options);
  } catch (err) {
    if (err instanceof InputError) throw new UsageError(`${err.message}\n${USAGE}`);
    if (err instanceof NotFound) {
      if (values.json) {
        const answer = {
          found: false,
          error: err.message,
          sources: err.tried.sources,
          requests: err.tried.requests,
          seconds: err.tried.seconds,
        };
        throw new CommandError(err.message, 1, JSON.stringify(answer));
      }
      throw new CommandError(err.message, 1);
    }
    throw err;
  } finally {
    await archive.close();
  }

  if (values.out !== undefined)
    await writeFile(values.out, result.playlist.endsWith("\n") ? result.playlist : `${result.playlist}\n`);
  if (values.json) {
    return JSON.stringify({
      found: true,
      source: result.source,
      login: result.login,
      streamId: result.streamId,
      startTime: result.startTime,
      url: result.url,
      cdnUrl: result.cdnUrl,
      live: result.live,
      requests: result.requests,
      seconds: result.seconds,
      segments: result.segments,
      checkedSegments: result.checkedSegments,
      deadSegments: result.deadSegments,
      out: values.out ?? null,
    });
  }
  return formatRecovered(result, values.out);
}

const SOURCE_TEXT = {
  archive: "in our archive",
  seen: "on the CDN (we saw it live)",
  listing: "through the streamer's GraphQL listing",
  cdn: "on the CDN",
} as const;

export function formatRecovered(r: Recovered, out: string | undefined): string {
  const lines = [
    `found ${r.login} stream ${r.streamId} (started ${r.startTime}) ${SOURCE_TEXT[r.source]}: ${r.requests} CDN request${r.requests === 1 ? "" : "s"}, ${r.seconds.toFixed(2)} s`,
    r.url,
  ];
  if (r.source === "archive" && r.cdnUrl) lines.push(`(on the CDN: ${r.cdnUrl})`);
  if (r.live) lines.push("the stream is still live: the playlist will grow, and muted parts are not renamed yet");
  lines.push(`${r.segments} segments${out ? `; playable playlist written to ${out}` : ""}`);
  if (r.deadSegments) {
    lines.push(
      r.deadSegments.length === 0
        ? `${r.checkedSegments} segments checked, all alive`
        : `${r.deadSegments.length} of ${r.checkedSegments} segments checked are dead (commented out${out ? ` in ${out}` : ""}): ` +
            r.deadSegments
              .slice(0, 5)
              .map((d) => `${d.uri.split("/").pop()} (${d.status})`)
              .join(", ") +
            (r.deadSegments.length > 5 ? ", …" : ""),
    );
  }
  return lines.join("\n");
}
