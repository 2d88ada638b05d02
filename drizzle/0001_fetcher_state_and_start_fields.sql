CREATE TABLE "cdn_domain_health" (
	"domain" text PRIMARY KEY NOT NULL,
	"score" real DEFAULT 0 NOT NULL,
	"scored_at" timestamp (3) with time zone NOT NULL,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"last_success_at" timestamp (3) with time zone,
	"last_failure_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "cdn_streamer_domains" (
	"streamer_id" bigint PRIMARY KEY NOT NULL,
	"domain" text NOT NULL,
	"found_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "vods" ADD COLUMN "start_fields_seen_at" timestamp (3) with time zone;