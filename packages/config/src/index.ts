export { ConfigError, parseEnv } from "./env.ts";
export { bool, duration, list, port, parseDuration } from "./fields.ts";
