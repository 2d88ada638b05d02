import { runPoller } from "./run.ts";

await runPoller();
