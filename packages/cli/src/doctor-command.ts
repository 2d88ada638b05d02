import { parseArgs } from "node:util";
import { parseDuration } from "@vod/config";
import { createDb, createPool } from "@vod/db";
import { createCatalog, createKafka } from "@vod/kafka";
import type { Logger } from "@vod/log";
import { doctor, formatDoctor } from "./doctor.ts";
import { UsageError } from "./errors.ts";

const USAGE = "usage: vods doctor [--since 24h] [--overdue-after 15m] [--gap 10m] [--json]";

function span(raw: string | undefined, fallback: string, flag: string): number {
  const ms = parseDuration(raw ?? fallback);
  if (ms === undefined) throw new UsageError(`--${flag} must be a duration like 15m or 24h, got "${raw}"\n${USAGE}`);
  return ms;
}

export async function doctorCommand(
  argv: string[],
  env: { KAFKA_BROKERS: string[]; DATABASE_URL: string; TOPIC_PREFIX: string; FETCHER_GROUP: string },
  log: Logger,
): Promise<string> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        since: { type: "string" },
        "overdue-after": { type: "string" },
        gap: { type: "string" },
        json: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  const catalog = createCatalog(env.TOPIC_PREFIX);
  const pool = createPool({ url: env.DATABASE_URL, max: 1, applicationName: "vods-doctor" });
  try {
    const report = await doctor({
      kafka: createKafka({ brokers: env.KAFKA_BROKERS, clientId: "vods-doctor", log }),
      db: createDb(pool),
      requestsTopic: catalog.vodFetchRequests.name,
      topics: Object.values(catalog).map((t) => t.name),
      fetcherGroup: env.FETCHER_GROUP,
      now: new Date(),
      sinceMs: span(values.since, "24h", "since"),
      overdueAfterMs: span(values["overdue-after"], "15m", "overdue-after"),
      windowGapMs: span(values.gap, "10m", "gap"),
    });
    return values.json ? JSON.stringify(report, null, 2) : formatDoctor(report);
  } finally {
    await pool.end();
  }
}
