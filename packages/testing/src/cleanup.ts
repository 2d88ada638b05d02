import { Kafka, logLevel } from "kafkajs";
import { madeByRun } from "./names.ts";

/**
 * Deletes the topics and consumer groups whose names the run marked `run` made. Without this every
 * test run leaves its topics on the shared broker, and its data dir grows run after run.
 */
export async function deleteRunTopics(brokers: string[], run: string): Promise<{ topics: number; groups: number }> {
  const kafka = new Kafka({ brokers, clientId: "test-cleanup", logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Groups first: the admin client asks for the metadata of topics it has deleted, and fails.
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => madeByRun(g, run));
    // A group that still has members (a child process that outlived its test) is refused; it expires by itself.
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    const topics = (await admin.listTopics()).filter((t) => madeByRun(t, run));
    // In slices: one request naming hundreds of topics can outlast the admin client's timeout.
    for (let i = 0; i < topics.length; i += 50) {
      await admin.deleteTopics({ topics: topics.slice(i, i + 50), timeout: 30_000 });
    }
    return { topics: topics.length, groups: groups.length };
  } finally {
    await admin.disconnect();
  }
}
