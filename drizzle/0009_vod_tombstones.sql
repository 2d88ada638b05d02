CREATE TABLE "takedown_vods" (
	"takedown_id" bigint NOT NULL,
	"stream_id" bigint NOT NULL,
	"start_time" timestamp (3) with time zone NOT NULL,
	"streamer_id" bigint NOT NULL,
	"login" text NOT NULL,
	"video_id" bigint,
	CONSTRAINT "takedown_vods_takedown_id_stream_id_start_time_pk" PRIMARY KEY("takedown_id","stream_id","start_time")
);
--> statement-breakpoint
ALTER TABLE "takedown_vods" ADD CONSTRAINT "takedown_vods_takedown_id_takedowns_id_fk" FOREIGN KEY ("takedown_id") REFERENCES "public"."takedowns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "takedown_vods_stream_idx" ON "takedown_vods" USING btree ("stream_id");--> statement-breakpoint
CREATE INDEX "takedown_vods_login_idx" ON "takedown_vods" USING btree ("login");--> statement-breakpoint
CREATE INDEX "takedown_vods_video_idx" ON "takedown_vods" USING btree ("video_id") WHERE "takedown_vods"."video_id" is not null;--> statement-breakpoint
-- The API answers 410 for a removed VOD's links: it reads the tombstones, and writes nothing.
GRANT SELECT ON takedown_vods TO vod_api;
