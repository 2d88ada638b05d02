// The API's login (vod_api) against a real server: whatever SQL reaches a session of it, it can read the
// archive and nothing more, and it cannot become a role that can.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { freshDatabase, type TestDatabase } from "@vod/testing";
import { vods } from "./index.ts";

let t: TestDatabase;
let api: pg.Client;
beforeAll(async () => {
  t = await freshDatabase();
  await t.db.insert(vods).values({
    streamId: 318688040160,
    startTime: new Date("2026-05-15T14:51:32.123Z"),
    streamerId: 12345,
    login: "malek_04",
    maxViewers: 42,
    firstSeen: new Date("2026-05-15T14:55:00Z"),
    lastSeen: new Date("2026-05-15T16:00:00Z"),
    outcome: "found",
    fetchedAt: new Date("2026-05-15T17:10:00Z"),
  });
  // No session options: what holds must come from the role, not from what the client asks for.
  api = new pg.Client({ connectionString: t.apiUrl });
  await api.connect();
});
afterAll(async () => {
  await api?.end();
  await t?.drop();
});

/** The SQLSTATE a statement fails with, in a transaction that is rolled back. */
async function refused(sql: string, readWrite = true): Promise<string | undefined> {
  await api.query(readWrite ? "begin read write" : "begin");
  try {
    await api.query(sql);
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  } finally {
    await api.query("rollback");
  }
}

describe("the API's login", () => {
  it("is vod_api, a login that inherits nothing and is a member of no role", async () => {
    const { rows } = await api.query<{ session_user: string; current_user: string }>(
      "select session_user, current_user",
    );
    expect(rows[0]).toEqual({ session_user: "vod_api", current_user: "vod_api" });
    const role = await t.pool.query(
      `select rolcanlogin, rolinherit, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls,
              (select count(*)::int from pg_auth_members where member = r.oid) as memberships
       from pg_roles r where rolname = 'vod_api'`,
    );
    expect(role.rows[0]).toEqual({
      rolcanlogin: true,
      rolinherit: false,
      rolsuper: false,
      rolcreaterole: false,
      rolcreatedb: false,
      rolbypassrls: false,
      memberships: 0,
    });
  });

  it("reads the archive as the API does, read-only by default", async () => {
    const { rows } = await api.query<{ login: string }>(
      "select login from vods where outcome = 'found' order by fetched_at desc, id desc limit 50",
    );
    expect(rows).toEqual([{ login: "malek_04" }]);
    expect((await api.query("show default_transaction_read_only")).rows[0]).toEqual({
      default_transaction_read_only: "on",
    });
    expect(await refused("insert into vods (stream_id) values (1)", false)).toBe("25006");
  });

  it("cannot become the owner or anyone else", async () => {
    expect(await refused("set role vod")).toBe("42501");
    expect(await refused("set session authorization vod")).toBe("42501");
    expect(await refused("set role postgres")).toBe("42501");
  });

  it("cannot write, even in a transaction it made read-write", async () => {
    expect(
      await refused(
        "insert into vods (stream_id, start_time, streamer_id, login, first_seen, last_seen) values (1, now(), 1, 'x', now(), now())",
      ),
    ).toBe("42501");
    expect(await refused("update vods set title = 'changed'")).toBe("42501");
    expect(await refused("delete from vods")).toBe("42501");
    expect(await refused("truncate vods")).toBe("42501");
    expect(await refused("insert into takedowns (login, reason) values ('x', 'y')")).toBe("42501");
    expect(await refused("delete from takedowns")).toBe("42501");
    expect(await refused("delete from takedown_vods")).toBe("42501");
    expect(await refused("create table public.mine (x int)")).toBe("42501");
    expect(await refused("create temporary table mine (x int)")).toBe("42501");
    expect((await t.pool.query("select count(*)::int as n from vods")).rows[0]).toEqual({ n: 1 });
  });

  it("reads nothing but what the API serves", async () => {
    expect((await api.query("select count(*)::int as n from takedowns")).rows[0]).toEqual({ n: 0 });
    expect((await api.query("select count(*)::int as n from takedown_vods")).rows[0]).toEqual({ n: 0 });
    expect(await refused("select * from cdn_domain_health", false)).toBe("42501");
    expect(await refused("select * from fetch_followups", false)).toBe("42501");
    expect(await refused("select * from drizzle.__drizzle_migrations", false)).toBe("42501");
  });
});
