export { ConfigError, parseEnv } from "./env.ts";
export { bool, duration, list, pattern, port, parseDuration } from "./fields.ts";
