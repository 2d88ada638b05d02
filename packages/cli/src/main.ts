// `vods <command>`: operator commands against the running system.
import { ConfigError } from "@vod/config";
import { CommandError } from "./errors.ts";
import { createLogger } from "@vod/log";
import { loadEnv } from "./env.ts";
import { replayCommand } from "./replay-command.ts";
import { doctorCommand } from "./doctor-command.ts";
import { demoCommand } from "./demo-command.ts";
import { loadRecoverEnv, recoverCommand } from "./recover-command.ts";
import { downloadCommand, loadDownloadEnv } from "./download-command.ts";

const [command, ...rest] = process.argv.slice(2);
const commands: Record<string, (argv: string[]) => Promise<string>> = {
  replay: async (argv) => {
    const env = loadEnv();
    return replayCommand(argv, env, createLogger({ service: "vods", level: env.LOG_LEVEL }));
  },
  demo: async (argv) => demoCommand(argv, createLogger({ service: "vods-demo", level: loadEnv().LOG_LEVEL })),
  recover: async (argv) =>
    recoverCommand(argv, loadRecoverEnv(), { note: (m) => console.error(m), progress: process.stderr }),
  download: async (argv) =>
    downloadCommand(argv, loadDownloadEnv(), { note: (m) => console.error(m), progress: process.stderr }),
  forget: async (argv) => (await import("./forget-command.ts")).forgetCommand(argv, loadEnv()),
  doctor: async (argv) => {
    const env = loadEnv();
    return doctorCommand(argv, env, createLogger({ service: "vods", level: env.LOG_LEVEL }));
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
  if (err instanceof CommandError || err instanceof ConfigError) {
    if (err instanceof CommandError && err.stdout !== undefined) console.log(err.stdout);
    console.error(err.message);
    process.exit(err instanceof CommandError ? err.exitCode : 2);
  }
  throw err;
}
