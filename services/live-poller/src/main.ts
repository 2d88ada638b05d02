import { runPoller } from "./process.ts";

await runPoller();
