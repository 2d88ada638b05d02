export { createKafka, type KafkaOptions } from "./client.ts";
export { createProducer, bySize, type TypedProducer } from "./producer.ts";
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
} from "./consumer.ts";
export { createTopics } from "./admin.ts";
export { defineTopic, dlqName, parseValue, type TopicDef, type ValueOf } from "./topic.ts";
export * from "./catalog.ts";
export { readRange, type RangeOptions } from "./read-range.ts";
