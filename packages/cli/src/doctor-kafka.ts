import type { Kafka } from "kafkajs";
import { clusterReplication, dlqName, type Replication } from "@vod/kafka";

/** A partition whose in-sync replicas (ISR) are fewer than its replicas, or that has no leader. */
export interface LaggingPartition {
  topic: string;
  partition: number;
  /** -1: no leader, the partition takes no reads or writes. */
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface KafkaHealth {
  brokers: { nodeId: number; address: string }[];
  /** What the cluster's size calls for (`replicationFor`). */
  replication: Replication;
  topics: number;
  partitions: number;
  /** ISR shorter than the replicas: a broker is down or behind; with ISR below min.insync.replicas writes stop. */
  underReplicated: LaggingPartition[];
  /** Of those, the ones whose ISR is below min.insync.replicas (or that have no leader): writes with acks=all fail. */
  blocked: LaggingPartition[];
  /** Topics with fewer replicas than the cluster allows (created when it had fewer brokers). */
  fewReplicas: { topic: string; replicas: number }[];
}

/**
 * The replication health of the pipeline's topics, their DLQs and Kafka's own offsets and
 * transaction topics, from the cluster's metadata: what an operator checks after a broker died.
 */
export async function kafkaHealth(kafka: Kafka, topicNames: string[]): Promise<KafkaHealth> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    const replication = await clusterReplication(admin);
    const existing = new Set(await admin.listTopics());
    const wanted = [...topicNames.flatMap((t) => [t, dlqName(t)]), "__consumer_offsets", "__transaction_state"];
    const topics = wanted.filter((t) => existing.has(t));
    const meta = topics.length > 0 ? (await admin.fetchTopicMetadata({ topics })).topics : [];
    const underReplicated: LaggingPartition[] = [];
    const fewReplicas: KafkaHealth["fewReplicas"] = [];
    let partitions = 0;
    for (const t of meta) {
      partitions += t.partitions.length;
      const replicas = Math.min(...t.partitions.map((p) => p.replicas.length));
      if (replicas < replication.replicationFactor) fewReplicas.push({ topic: t.name, replicas });
      for (const p of t.partitions)
        if (p.leader < 0 || p.isr.length < p.replicas.length)
          underReplicated.push({
            topic: t.name,
            partition: p.partitionId,
            leader: p.leader,
            replicas: p.replicas,
            isr: p.isr,
          });
    }
    return {
      brokers: cluster.brokers
        .map((b) => ({ nodeId: b.nodeId, address: `${b.host}:${b.port}` }))
        .sort((a, b) => a.nodeId - b.nodeId),
      replication,
      topics: meta.length,
      partitions,
      underReplicated,
      blocked: underReplicated.filter((p) => p.leader < 0 || p.isr.length < replication.minInsyncReplicas),
      fewReplicas,
    };
  } finally {
    await admin.disconnect();
  }
}

export function formatKafkaHealth(h: KafkaHealth): string[] {
  const { replicationFactor, minInsyncReplicas } = h.replication;
  const lines = [
    `Kafka: ${h.brokers.length} broker(s) ${h.brokers.map((b) => `${b.nodeId}@${b.address}`).join(", ")}; ` +
      `replication ${replicationFactor}, min.insync.replicas ${minInsyncReplicas}`,
    `  under-replicated partitions: ${h.underReplicated.length} of ${h.partitions} in ${h.topics} topic(s)` +
      (h.blocked.length > 0 ? `, ${h.blocked.length} refusing writes (ISR below ${minInsyncReplicas})` : ""),
  ];
  for (const p of h.underReplicated.slice(0, 20))
    lines.push(
      `    ${p.topic}[${p.partition}] leader ${p.leader < 0 ? "none" : p.leader} replicas ${p.replicas.join(",")} ISR ${p.isr.join(",") || "none"}`,
    );
  if (h.underReplicated.length > 20) lines.push(`    … and ${h.underReplicated.length - 20} more`);
  for (const t of h.fewReplicas)
    lines.push(
      `  ${t.topic} has ${t.replicas} replica(s) where the cluster allows ${replicationFactor}: reassign it (kafka-reassign-partitions.sh)`,
    );
  return lines;
}
