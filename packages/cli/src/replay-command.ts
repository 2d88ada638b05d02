import { parseArgs } from "node:util";
import { z } from "zod";
import { sql } from "drizzle-orm";
import { createDb, createPool, vods, type Db } from "@vod/db";
import { createCatalog, createKafka, createProducer, vodFetchRequest } from "@vod/kafka";
import type { Logger } from "@vod/log";
import { UsageError } from "./errors.ts";
import { replay, type ReplayResult } from "./replay.ts";

const USAGE =
  "usage: vods replay --group <consumer group> --topic <topic> --from <ISO time> [--to <ISO time>] [--dry-run]";

const argsSchema = z.object({
  group: z.string({ error: "--group is required" }).min(1),
  topic: z.string({ error: "--topic is required" }).min(1),
  from: z.iso
    .datetime({ offset: true, error: "--from must be an ISO time, e.g. 2026-11-22T14:00:00Z" })
    .transform((s) => new Date(s)),
  to: z.iso
    .datetime({ offset: true, error: "--to must be an ISO time" })
    .transform((s) => new Date(s))
    .optional(),
  "dry-run": z.boolean().default(false),
});

export function parseReplayArgs(argv: string[]) {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        group: { type: "string" },
        topic: { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        "dry-run": { type: "boolean" },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) throw new UsageError(`${parsed.error.issues.map((i) => i.message).join("\n")}\n${USAGE}`);
  const { "dry-run": dryRun, to, ...rest } = parsed.data;
  return { ...rest, dryRun, ...(to ? { to } : {}) };
}

export function formatReplay(r: ReplayResult, group: string, topic: string): string {
  const lines = r.partitions.map((p) =>
    r.mode === "reset"
      ? `  partition ${p.partition}: ${p.current} -> ${p.target}`
      : `  partition ${p.partition}: window [${p.target}, ${p.end}) = ${Number(BigInt(p.end!) - BigInt(p.target))} message(s)`,
  );
  const head =
    r.mode === "reset"
      ? `${r.applied ? "reset" : "would reset"} group ${group} on ${topic}:`
      : `${r.applied ? `re-published ${r.republished} message(s)` : "would re-publish"} from ${topic} for group ${group}:`;
  return [head, ...lines].join("\n");
}

/**
 * Keeps the fetch requests of VODs that are not archived yet: re-fetching a found VOD would only
 * spend CDN budget. Anything that is not a readable request is kept (the stage decides).
 */
export function notYetFound(db: Db): (values: (Buffer | null)[]) => Promise<boolean[]> {
  return async (values) => {
    const requests = values.map((v) => (v === null ? null : vodFetchRequest.safeParse(parseJson(v.toString("utf8")))));
    const keys = requests.flatMap((r) =>
      r?.success ? [sql`(${r.data.streamId}::bigint, ${r.data.startTime}::timestamptz)`] : [],
    );
    if (keys.length === 0) return values.map(() => true);
    const found = await db.execute<{ stream_id: string; start_time: Date }>(
      sql`select stream_id::text, start_time from ${vods} where outcome = 'found' and (stream_id, start_time) in (${sql.join(keys, sql`, `)})`,
    );
    const done = new Set(found.rows.map((r) => `${r.stream_id}|${new Date(r.start_time).getTime()}`));
    return requests.map((r) => !(r?.success && done.has(`${r.data.streamId}|${Date.parse(r.data.startTime)}`)));
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export async function replayCommand(
  argv: string[],
  env: { KAFKA_BROKERS: string[]; DATABASE_URL: string; TOPIC_PREFIX: string },
  log: Logger,
): Promise<string> {
  const opts = parseReplayArgs(argv);
  const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: "vods-replay", log });
  const producer = opts.to && !opts.dryRun ? await createProducer(kafka, log) : undefined;
  // A window of fetch requests re-publishes only the VODs that are not archived yet.
  const requestsTopic = createCatalog(env.TOPIC_PREFIX).vodFetchRequests.name;
  const pool =
    opts.to && opts.topic === requestsTopic
      ? createPool({ url: env.DATABASE_URL, max: 1, applicationName: "vods-replay" })
      : undefined;
  try {
    const keep = pool ? { keep: notYetFound(createDb(pool)) } : {};
    return formatReplay(await replay(kafka, producer, { ...opts, ...keep }), opts.group, opts.topic);
  } finally {
    await producer?.disconnect();
    await pool?.end();
  }
}
