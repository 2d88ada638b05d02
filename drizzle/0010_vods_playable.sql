ALTER TABLE "vods" ADD COLUMN "playable" text;--> statement-breakpoint
ALTER TABLE "vods" ADD COLUMN "playable_checked_at" timestamp (3) with time zone;--> statement-breakpoint
CREATE INDEX "vods_playable_start_id_idx" ON "vods" USING btree ("playable","start_time","id") WHERE "vods"."playable" is not null;