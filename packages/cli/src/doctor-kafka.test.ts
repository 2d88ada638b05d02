import { describe, expect, it } from "vitest";
import { createCatalog, dlqName, replicationFor } from "@vod/kafka";
import { createTestTopics, testKafka, uniqueName } from "@vod/testing";
import { formatKafkaHealth, kafkaHealth, type KafkaHealth } from "./doctor-kafka.ts";

describe("replicationFor", () => {
  it("replicates on three brokers where there are three, with two in sync for a write", () => {
    expect(replicationFor(1)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
    expect(replicationFor(2)).toEqual({ replicationFactor: 2, minInsyncReplicas: 1 });
    expect(replicationFor(3)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(replicationFor(5)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
  });
});

describe("kafkaHealth", () => {
  it("lists the brokers and finds every partition of the pipeline's topics in sync", async () => {
    const kafka = testKafka();
    const catalog = createCatalog(`${uniqueName("doctor-kafka")}.`);
    await createTestTopics(kafka, [catalog.vodFetchRequests]);
    const h = await kafkaHealth(kafka, [catalog.vodFetchRequests.name, catalog.vodFetchResults.name]);
    expect(h.brokers.length).toBeGreaterThanOrEqual(1);
    expect(h.replication).toEqual(replicationFor(h.brokers.length));
    // The results topic was not created: only what exists is looked at (the topic, its DLQ, the offsets topic).
    expect(h.topics).toBeGreaterThanOrEqual(2);
    expect(h.partitions).toBeGreaterThanOrEqual(catalog.vodFetchRequests.partitions + 1);
    const ours = [catalog.vodFetchRequests.name, dlqName(catalog.vodFetchRequests.name)];
    expect(h.underReplicated.filter((p) => ours.includes(p.topic))).toEqual([]);
    expect(h.fewReplicas.filter((t) => ours.includes(t.topic))).toEqual([]);
    expect(formatKafkaHealth(h)[1]).toMatch(/under-replicated partitions: \d+ of \d+ in \d+ topic/);
  });

  it("shows each lagging partition's ISR and says which refuse writes", () => {
    const lagging = { topic: "t", partition: 4, leader: 1, replicas: [1, 2, 3], isr: [1] };
    const h: KafkaHealth = {
      brokers: [
        { nodeId: 1, address: "a:1" },
        { nodeId: 3, address: "c:3" },
      ],
      replication: replicationFor(3),
      topics: 1,
      partitions: 6,
      underReplicated: [lagging, { ...lagging, partition: 5, isr: [1, 3] }],
      blocked: [lagging],
      fewReplicas: [{ topic: "old", replicas: 1 }],
    };
    expect(formatKafkaHealth(h)).toEqual([
      "Kafka: 2 broker(s) 1@a:1, 3@c:3; replication 3, min.insync.replicas 2",
      "  under-replicated partitions: 2 of 6 in 1 topic(s), 1 refusing writes (ISR below 2)",
      "    t[4] leader 1 replicas 1,2,3 ISR 1",
      "    t[5] leader 1 replicas 1,2,3 ISR 1,3",
      "  old has 1 replica(s) where the cluster allows 3: reassign it (kafka-reassign-partitions.sh)",
    ]);
  });
});
