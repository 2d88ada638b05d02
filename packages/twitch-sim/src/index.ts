export { startSimulator } from "./server.ts";
export type { Simulator } from "./server.ts";
export { optionsFromScenario, DEFAULT_START } from "./simulator-options.ts";
export type { SimulatorOptions } from "./simulator-options.ts";
export { CLIENT_ID_MISSING } from "./endpoints.ts";
export { VirtualClock, RealClock, nextBoundaryAfter } from "./clock.ts";
export type { Clock } from "./clock.ts";
export { FaultSet, faultSpecSchema } from "./faults.ts";
export type { FaultSpec, FaultSpecInput } from "./faults.ts";
export { Stats, type StatsSnapshot } from "./stats.ts";
export { onCdnAt } from "./truth.ts";
export type { VodTruth, VodFilter } from "./truth.ts";
export { World } from "./world.ts";
export {
  DEFAULT_RATES,
  REALISTIC_RATES,
  REALISTIC_DOMAINS,
  REALISTIC_CONFIGURED_DOMAINS,
  UNCONFIGURED_DOMAIN,
} from "./world-options.ts";
export type { WorldRates, WorldKind, StreamerSpec, SessionSpec } from "./world-options.ts";
export { domainWeight } from "./population.ts";
export { pathOf } from "./vod.ts";
export type { Vod } from "./vod.ts";
export type { Streamer } from "./population.ts";
export { scenarioSchema } from "./scenario.ts";
export type { StreamerInput } from "./scenario.ts";
export { subsetSchema, encodeCursor, decodeCursor, MAX_STREAMS_PAGE } from "./gql.ts";
export { PLAYABLE_SEGMENT_PATH, segmentBody } from "./media.ts";
