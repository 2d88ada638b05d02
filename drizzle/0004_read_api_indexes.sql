CREATE INDEX "vods_start_id_idx" ON "vods" USING btree ("start_time","id");--> statement-breakpoint
CREATE INDEX "vods_found_start_id_idx" ON "vods" USING btree ("start_time","id") WHERE "vods"."outcome" = 'found';--> statement-breakpoint
CREATE INDEX "vods_streamer_start_id_idx" ON "vods" USING btree ("streamer_id","start_time","id");--> statement-breakpoint
CREATE INDEX "vods_game_start_id_idx" ON "vods" USING btree ("game_id","start_time","id");--> statement-breakpoint
CREATE INDEX "vods_language_start_id_idx" ON "vods" USING btree ("language","start_time","id");--> statement-breakpoint
CREATE INDEX "vods_found_public_viewers_idx" ON "vods" USING btree ("public","max_viewers","id") WHERE "vods"."outcome" = 'found';--> statement-breakpoint
CREATE INDEX "vods_found_language_viewers_idx" ON "vods" USING btree ("language","public","max_viewers","id") WHERE "vods"."outcome" = 'found';--> statement-breakpoint
CREATE INDEX "vods_found_game_viewers_idx" ON "vods" USING btree ("game_id","public","max_viewers","id") WHERE "vods"."outcome" = 'found';--> statement-breakpoint
CREATE INDEX "vods_login_c_idx" ON "vods" USING btree ("login" collate "C","start_time");