export { createKafka, type KafkaOptions } from "./client.ts";
export {
  createProducer,
  createFencedProducer,
  FencedError,
  bySize,
  encodeMessages,
  type TypedProducer,
  type FencedProducer,
  type OutgoingPart,
} from "./producer.ts";
export {
  runConsumer,
  subscribe,
  PermanentError,
  type ConsumerOptions,
  type RunningConsumer,
  type Message,
  type HandlerContext,
  type Rejection,
  type BatchReport,
  type Subscription,
  type Assignment,
} from "./consumer.ts";
export { createTopics, copartitionProblem, clusterReplication, replicationFor, type Replication } from "./admin.ts";
export { defineTopic, dlqName, parseValue, type TopicDef, type ValueOf } from "./topic.ts";
export * from "./catalog.ts";
export { readRange, type RangeOptions } from "./read-range.ts";
export { partitionOf, STREAM_PARTITIONS } from "./partition.ts";
export { coPartitionAssigner, COPARTITION_ASSIGNER } from "./copartition.ts";
