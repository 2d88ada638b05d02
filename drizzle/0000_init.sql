CREATE TABLE "vods" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"stream_id" bigint NOT NULL,
	"start_time" timestamp (3) with time zone NOT NULL,
	"streamer_id" bigint NOT NULL,
	"login" text NOT NULL,
	"title" text,
	"game_id" text,
	"game_name" text,
	"language" text,
	"mature" boolean,
	"max_viewers" integer DEFAULT 0 NOT NULL,
	"first_seen" timestamp (3) with time zone NOT NULL,
	"last_seen" timestamp (3) with time zone NOT NULL,
	"outcome" text,
	"fetched_at" timestamp (3) with time zone,
	"fetch_requests" integer,
	"domain" text,
	"url" text,
	"ts_variant" text,
	"duration_seconds" real,
	"segment_count" integer,
	"muted_count" integer,
	"playlist_gz" "bytea",
	"fetch_error" text,
	"public" boolean,
	"sub_only" boolean,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "vods_stream_start_uq" ON "vods" USING btree ("stream_id","start_time");--> statement-breakpoint
CREATE INDEX "vods_found_fetched_idx" ON "vods" USING btree ("fetched_at","id") WHERE "vods"."outcome" = 'found';--> statement-breakpoint
CREATE INDEX "vods_login_idx" ON "vods" USING btree ("login","start_time");--> statement-breakpoint
CREATE INDEX "vods_game_idx" ON "vods" USING btree ("game_id","start_time");--> statement-breakpoint
CREATE INDEX "vods_language_idx" ON "vods" USING btree ("language","start_time");