// What the global setup hands to every test file through vitest's provide/inject.
declare module "vitest" {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    databaseUrl: string;
    /** The API's read-only login on the same server (vod_api); see TestDatabase.apiUrl. */
    apiDatabaseUrl: string;
    /** Redis for the fetchers' shared CDN budget. */
    redisUrl: string;
    /** Marks the names this run's tests made (uniqueName), for its teardown to delete. */
    testRun: string;
  }
}
export {};
