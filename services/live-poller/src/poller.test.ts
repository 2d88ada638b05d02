import { describe, expect, it } from "vitest";
import { slidingWindow } from "./gql-client.ts";

describe("the POST rate window", () => {
  it("lets at most GQL_RATE POSTs leave in any second, however they were scheduled", async () => {
    const take = slidingWindow(3);
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 7 }, async () => {
        await take();
        times.push(performance.now());
      }),
    );
    times.sort((a, b) => a - b);
    for (let i = 3; i < times.length; i++) expect(times[i]! - times[i - 3]!).toBeGreaterThanOrEqual(1000);
    expect(times.at(-1)! - times[0]!).toBeLessThan(2600);
  });

  it("spaces a rate below one a second", async () => {
    let t = 0;
    const take = slidingWindow(0.5, () => t);
    await take();
    const second = take();
    let done = false;
    void second.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    t = 2100;
    await second;
    expect(done).toBe(true);
  });
});
