// `vods <command>`: operator commands against the running system.
import { ConfigError } from "@vod/config";
import { createLogger } from "@vod/log";
import { loadEnv } from "./env.ts";
import { ReplayRefused } from "./replay.ts";
import { UsageError, replayCommand } from "./replay-command.ts";

const [command, ...rest] = process.argv.slice(2);
const commands: Record<string, (argv: string[]) => Promise<string>> = {
  replay: async (argv) => {
    const env = loadEnv();
    return replayCommand(argv, env, createLogger({ service: "vods", level: env.LOG_LEVEL }));
  },
};

const run = command ? commands[command] : undefined;
if (!run) {
  console.error(`usage: vods <${Object.keys(commands).join("|")}> [options]`);
  process.exit(2);
}
try {
  console.log(await run(rest));
} catch (err) {
  if (err instanceof UsageError || err instanceof ReplayRefused || err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}
