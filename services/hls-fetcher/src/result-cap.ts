import kafkajs, { type Kafka } from "kafkajs";

// kafkajs is CommonJS; Node's ESM loader finds not every named export of it (ConfigResourceTypes), the default has them all.
/** RESULT_MAX_BYTES must leave room under the results topic's max.message.bytes (record framing, key, headers). */
export async function checkResultCap(kafka: Kafka, topic: string, cap: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  let limit: number | undefined;
  try {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ["max.message.bytes"] }],
    });
    const value = resources[0]?.configEntries.find((e) => e.configName === "max.message.bytes")?.configValue;
    limit = value === undefined ? undefined : Number(value);
  } catch {
    // A topic that is not there yet fails the consumer with its own error; nothing to compare with.
  } finally {
    await admin.disconnect();
  }
  if (limit !== undefined && cap > limit - 1_024) {
    throw new Error(
      `RESULT_MAX_BYTES: ${cap} leaves no room under ${topic}'s max.message.bytes (${limit}); set it at most ${limit - 1_024}`,
    );
  }
}
