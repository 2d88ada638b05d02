export { uniqueName } from "./names.ts";
export {
  testKafka,
  testLog,
  createTestTopics,
  readTopic,
  committedOffsets,
  endOffsets,
  caughtUp,
  holdGroupAgainstServices,
  deadGroup,
  type RawRecord,
} from "./kafka.ts";
export { freshDatabase, type TestDatabase } from "./database.ts";
export { repoRoot, readInfraEnv } from "./infra.ts";
export { testEnv, childEnv } from "./env.ts";
export { freePort } from "./ports.ts";
export { late, useDatabase, useDatabases, useKafkaAndDatabase, useProducer } from "./rigs.ts";
export { sleep, until } from "./waits.ts";
export { vodKey, vodRequest, parseResults, resultsByKey } from "./vods.ts";
export { cdnDomains } from "./domains.ts";
export { streamSnapshot, bareSnapshot, fetchResult } from "./messages.ts";
export { sharedClock, sharedWorld, simulatorOn, simulatorClock, untilClock, type SharedClock } from "./shared-clock.ts";
export { readAll, sightings, type TopicRecord } from "./topic-records.ts";
export { spawnMain, healthUntilExit, expectRedThenExit, type Child } from "./processes.ts";
export { absolutePlaylist, restarted, scriptedSimulator, streamer, streamersLike } from "./sim-worlds.ts";
