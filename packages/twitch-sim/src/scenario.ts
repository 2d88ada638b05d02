import { z } from "zod";
import { faultSpecSchema } from "./faults.ts";
import { parseOptionalSpan, parseWhen } from "./times.ts";
import { DEFAULT_RATES, type StreamerSpec } from "./world-options.ts";

const when = z.union([z.number(), z.string()]);
const span = z.union([z.number().nonnegative(), z.string()]);

const sessionSchema = z.object({
  /** ISO time, Unix ms, or "+10m" / "-2h" relative to the scenario start. */
  start: when,
  duration: span.optional(),
  sameStreamId: z.boolean().optional(),
  streamId: z.string().regex(/^\d+$/).optional(),
  variant: z.enum(["start", "minus1", "seconds"]).optional(),
  domain: z.string().optional(),
  saved: z.boolean().optional(),
  deleteAfter: span.optional(),
  muted: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])).optional(),
  title: z.string().optional(),
});

export const streamerSchema = z.object({
  login: z.string().regex(/^[a-z0-9_]{1,25}$/i),
  id: z.string().regex(/^\d+$/).optional(),
  displayName: z.string().optional(),
  viewers: z.number().int().nonnegative(),
  domain: z.string().optional(),
  hidden: z.boolean().optional(),
  subOnly: z.boolean().optional(),
  savesVods: z.boolean().optional(),
  language: z.string().optional(),
  game: z.string().optional(),
  sessions: z.array(sessionSchema).default([]),
});

export const scenarioSchema = z.object({
  seed: z.number().int().optional(),
  /** About this many random streams live at any time. */
  streams: z.number().int().nonnegative().optional(),
  start: when.optional(),
  /** Real-time clock sped up by this factor; "virtual" for a clock moved only by POST /admin/clock. */
  clock: z.union([z.literal("virtual"), z.object({ speed: z.number().positive() })]).optional(),
  muteInterval: span.optional(),
  viewerTick: span.optional(),
  retain: span.optional(),
  playlistGrace: span.optional(),
  domains: z.array(z.string()).min(1).optional(),
  deadDomains: z.array(z.string()).optional(),
  rates: z
    .object(
      Object.fromEntries(Object.keys(DEFAULT_RATES).map((k) => [k, z.number().nonnegative()])) as Record<
        keyof typeof DEFAULT_RATES,
        z.ZodNumber
      >,
    )
    .partial()
    .optional(),
  streamers: z.array(streamerSchema).default([]),
  faults: z.array(faultSpecSchema).default([]),
});

export type Scenario = z.output<typeof scenarioSchema>;
export type StreamerInput = z.input<typeof streamerSchema>;

/** Resolves a scenario streamer's relative times against the world's start. */
export function toStreamerSpec(input: StreamerInput, base: number): StreamerSpec {
  const s = streamerSchema.parse(input);
  return {
    login: s.login,
    id: s.id,
    displayName: s.displayName,
    viewers: s.viewers,
    domain: s.domain,
    hidden: s.hidden,
    subOnly: s.subOnly,
    savesVods: s.savesVods,
    language: s.language,
    game: s.game,
    sessions: s.sessions.map((x) => ({
      startMs: parseWhen(x.start, base),
      durationMs: parseOptionalSpan(x.duration),
      sameStreamId: x.sameStreamId,
      streamId: x.streamId,
      variant: x.variant,
      domain: x.domain,
      saved: x.saved,
      deleteAfterMs: parseOptionalSpan(x.deleteAfter),
      muted: x.muted,
      title: x.title,
    })),
  };
}
