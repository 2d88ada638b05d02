CREATE TABLE "takedowns" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"login" text NOT NULL,
	"streamer_id" bigint,
	"reason" text NOT NULL,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"removed_vods" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "vods" ADD COLUMN "video_id" bigint;--> statement-breakpoint
CREATE INDEX "takedowns_login_idx" ON "takedowns" USING btree ("login");--> statement-breakpoint
CREATE INDEX "takedowns_streamer_idx" ON "takedowns" USING btree ("streamer_id");--> statement-breakpoint
CREATE INDEX "vods_video_idx" ON "vods" USING btree ("video_id") WHERE "vods"."video_id" is not null;--> statement-breakpoint
-- The API answers 410 for a streamer who asked to be left out: it reads the takedowns, and writes nothing.
GRANT SELECT ON takedowns TO vod_api;
