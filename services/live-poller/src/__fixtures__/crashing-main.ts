// The real process entry with a GQL client whose answer breaks the sweep loop itself (not a GQL
// error, which a sweep records): for the test that the process then exits non-zero.
import { runPoller } from "../process.ts";

await runPoller({
  gql: {
    batch: async () => {
      await new Promise((r) => setTimeout(r, 300));
      return null as never;
    },
  },
});
