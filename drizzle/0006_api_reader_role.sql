-- The API's role: it may read every table and change none. The API sets it for each of its connections
-- (`-c role=vod_api`), so no request can change the archive, whatever SQL reached the server. Roles are
-- shared by every database of the server, and several databases may be migrated at once: a role or a
-- membership another migration just created is not an error.
DO $$
BEGIN
  CREATE ROLE vod_api NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;--> statement-breakpoint
DO $$
BEGIN
  IF NOT pg_has_role(current_user, 'vod_api', 'MEMBER') THEN
    EXECUTE format('GRANT vod_api TO %I', current_user);
  END IF;
EXCEPTION WHEN unique_violation THEN NULL;
END
$$;--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO vod_api;--> statement-breakpoint
GRANT SELECT ON ALL TABLES IN SCHEMA public TO vod_api;--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO vod_api;
