-- The API logs in as vod_api itself: a session that acts as vod_api by `SET ROLE` can `SET ROLE vod` and write.
-- Its password is set by the scripts that start PostgreSQL (infra/lib.sh, the compose `init` job), never here;
-- until then it cannot log in. The role is shared by every database of the server and several may be migrated at
-- once: the attributes are changed only when they differ, and a concurrent change to the same values (XX000,
-- "tuple concurrently updated") is not an error.
DO $$
BEGIN
  IF EXISTS (
    SELECT FROM pg_roles WHERE rolname = 'vod_api'
      AND NOT (rolcanlogin AND NOT rolinherit AND NOT rolcreaterole AND NOT rolcreatedb)
  ) THEN
    -- SUPERUSER, REPLICATION and BYPASSRLS only a superuser can give, and only one can take away.
    ALTER ROLE vod_api WITH LOGIN NOINHERIT NOCREATEDB NOCREATEROLE;
  END IF;
EXCEPTION WHEN internal_error THEN NULL;
END
$$;--> statement-breakpoint
DO $$
BEGIN
  IF NOT EXISTS (
    SELECT FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
    WHERE r.rolname = 'vod_api' AND s.setdatabase = 0 AND 'default_transaction_read_only=on' = ANY (s.setconfig)
  ) THEN
    ALTER ROLE vod_api SET default_transaction_read_only = on;
  END IF;
EXCEPTION WHEN internal_error OR unique_violation THEN NULL;
END
$$;--> statement-breakpoint
-- A member of a writable role could take it up with SET ROLE, whatever NOINHERIT says.
DO $$
DECLARE
  granted record;
BEGIN
  FOR granted IN
    SELECT g.rolname FROM pg_auth_members m
      JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
    WHERE u.rolname = 'vod_api'
  LOOP
    EXECUTE format('REVOKE %I FROM vod_api', granted.rolname);
  END LOOP;
END
$$;--> statement-breakpoint
-- SELECT on what the API reads, nothing else: not the fetcher's tables, not tables added later.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM vod_api;--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM vod_api;--> statement-breakpoint
GRANT SELECT ON vods TO vod_api;--> statement-breakpoint
REVOKE CREATE ON SCHEMA public FROM PUBLIC;--> statement-breakpoint
-- Temporary tables are writable even in a read-only transaction; no session of this database needs them but the owner's.
DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;
