// Creates the pipeline's topics (and their DLQs) as the catalog describes them.
import { createLogger } from "@vod/log";
import { createCatalog, createKafka, createTopics } from "../src/index.ts";
import { env } from "./env.ts";

const log = createLogger({ service: "topics-create", level: env.LOG_LEVEL });
const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: "topics-create", log });
await createTopics(kafka, Object.values(createCatalog(env.TOPIC_PREFIX)), log);
