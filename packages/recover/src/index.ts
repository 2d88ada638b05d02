export { recover, NotFound, type Recovered, type RecoverOptions, type RecoverSource } from "./recover.ts";
export { parseStartTime, parseTarget, describeTime, InputError, type StartTime, type Target } from "./input.ts";
export { searchCandidates, type SearchCandidate, type CandidateBand, type DomainKnowledge } from "./order.ts";
export { searchCdn, type SearchOutcome, type SearchTried } from "./search.ts";
export { CdnClient, type CdnClientOptions, type CdnAnswer } from "./http.ts";
export { checkSegments, type SegmentCheck } from "./segments.ts";
export { createGqlBatchClient } from "./sources.ts";
export { listedStreamAt, type ListedStart } from "./by-time.ts";
