import { parseArgs } from "node:util";
import { createDb, createPool } from "@vod/db";
import { redactUrl } from "@vod/log";
import { UsageError } from "./errors.ts";
import { forget, type Forgotten } from "./forget.ts";

const USAGE = 'usage: vods forget <login> --reason "<why the streamer asked>"';
// Twitch's logins: lowercase letters, digits and underscores, at most 25.
const LOGIN = /^[a-z0-9_]{1,25}$/;
const MAX_REASON = 2000;

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: { reason: { type: "string" } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
}

export function parseForgetArgs(argv: string[]): { login: string; reason: string } {
  const parsed = parse(argv);
  const { positionals, values } = parsed;
  if (positionals.length !== 1)
    throw new UsageError(`${positionals.length === 0 ? "the login is missing" : "give one login"}\n${USAGE}`);
  const login = positionals[0]!.toLowerCase();
  if (!LOGIN.test(login))
    throw new UsageError(
      `"${positionals[0]!.slice(0, 40)}" is not a Twitch login (1 to 25 letters, digits or underscores)\n${USAGE}`,
    );
  const reason = values.reason?.trim() ?? "";
  if (reason === "") throw new UsageError(`--reason is required: say why the streamer asked, for the record\n${USAGE}`);
  if (reason.length > MAX_REASON) throw new UsageError(`--reason is over ${MAX_REASON} characters\n${USAGE}`);
  return { login, reason };
}

export function formatForgotten(f: Forgotten, reason: string): string {
  const who = f.streamerId ? `${f.login} (streamer ${f.streamerId})` : `${f.login} (no streamer id in the archive)`;
  return [
    `forgot ${who}: takedown #${f.takedownId} at ${f.at.toISOString()}, reason: ${reason}`,
    `removed ${f.vods} VOD(s), ${f.followups} pending fetch follow-up(s), ${f.domains} learned streamer domain(s)`,
    "from now on the writer archives nothing of this streamer and the API answers 410 for its links",
  ].join("\n");
}

/** `vods forget <login> --reason "…"`: removes a streamer's VODs and keeps them out (exit 2 on bad input). */
export async function forgetCommand(argv: string[], env: { DATABASE_URL: string }): Promise<string> {
  const { login, reason } = parseForgetArgs(argv);
  const pool = createPool({ url: env.DATABASE_URL, max: 1, applicationName: "vods-forget" });
  try {
    const forgotten = await forget(createDb(pool), login, reason).catch((err: unknown) => {
      throw new Error(`could not forget ${login} in ${redactUrl(env.DATABASE_URL)}`, { cause: err });
    });
    return formatForgotten(forgotten, reason);
  } finally {
    await pool.end();
  }
}
