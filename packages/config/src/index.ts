export { ConfigError, parseEnv } from "./parse-env.ts";
export { bool, duration, list, port, parseDuration } from "./fields.ts";
