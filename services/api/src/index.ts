export { buildApp, type AppOptions } from "./app.ts";
export { createReadPool, type ReadPool } from "./db.ts";
export { readEnv, type ApiEnv } from "./env.ts";
