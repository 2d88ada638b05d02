// The API on a fresh database for one test file, made and closed by vitest hooks.
import { afterAll, beforeAll } from "vitest";
import { late, useDatabase, type TestDatabase } from "@vod/testing";
import { testApi, type TestApi } from "../testing.ts";

export function useApi(): { tdb: TestDatabase; api: TestApi } {
  const tdb = useDatabase();
  let api: TestApi | undefined;
  beforeAll(async () => {
    api = await testApi(tdb.url);
  });
  afterAll(async () => {
    await api?.close();
  });
  return { tdb, api: late("the file's API", () => api) };
}
