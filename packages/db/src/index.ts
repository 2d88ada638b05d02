export * from "./schema.ts";
export { createPool, createDb, withTransaction, type Db, type Tx, type PoolOptions } from "./pool.ts";
export { runMigrations, migrationsFolder } from "./migrate.ts";
