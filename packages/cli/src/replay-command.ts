import { parseArgs } from "node:util";
import { z } from "zod";
import { createKafka, createProducer } from "@vod/kafka";
import type { Logger } from "@vod/log";
import { UsageError } from "./errors.ts";
import { replay, type ReplayResult } from "./replay.ts";

const USAGE = "usage: vods replay --group <consumer group> --topic <topic> --from <ISO time> [--to <ISO time>] [--dry-run]";

const argsSchema = z.object({
  group: z.string({ error: "--group is required" }).min(1),
  topic: z.string({ error: "--topic is required" }).min(1),
  from: z.iso.datetime({ offset: true, error: "--from must be an ISO time, e.g. 2026-11-22T14:00:00Z" }).transform((s) => new Date(s)),
  to: z.iso.datetime({ offset: true, error: "--to must be an ISO time" }).transform((s) => new Date(s)).optional(),
  "dry-run": z.boolean().default(false),
});


export function parseReplayArgs(argv: string[]) {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { group: { type: "string" }, topic: { type: "string" }, from: { type: "string" }, to: { type: "string" }, "dry-run": { type: "boolean" } },
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

export async function replayCommand(argv: string[], env: { KAFKA_BROKERS: string[] }, log: Logger): Promise<string> {
  const opts = parseReplayArgs(argv);
  const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: "vods-replay", log });
  const producer = opts.to && !opts.dryRun ? await createProducer(kafka, log) : undefined;
  try {
    return formatReplay(await replay(kafka, producer, opts), opts.group, opts.topic);
  } finally {
    await producer?.disconnect();
  }
}
