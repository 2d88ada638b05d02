CREATE TABLE "fetch_followups" (
	"stream_id" bigint NOT NULL,
	"start_time" timestamp (3) with time zone NOT NULL,
	"kind" text NOT NULL,
	"request" jsonb NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_at" timestamp (3) with time zone NOT NULL,
	"deadline" timestamp (3) with time zone NOT NULL,
	"prior" real,
	"tried" text[] DEFAULT '{}'::text[] NOT NULL,
	CONSTRAINT "fetch_followups_stream_id_start_time_pk" PRIMARY KEY("stream_id","start_time")
);
--> statement-breakpoint
ALTER TABLE "cdn_streamer_domains" ALTER COLUMN "domain" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "cdn_streamer_domains" ALTER COLUMN "found_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "cdn_domain_health" ADD COLUMN "discovered_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "cdn_domain_health" ADD COLUMN "discovered_from" text;--> statement-breakpoint
ALTER TABLE "cdn_streamer_domains" ADD COLUMN "found_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "cdn_streamer_domains" ADD COLUMN "not_found_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "cdn_streamer_domains" ADD COLUMN "unlisted_found_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "cdn_streamer_domains" ADD COLUMN "checked_at" timestamp (3) with time zone;