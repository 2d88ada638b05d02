/** Path and query parameters shared by the compatible routes, the playlist and the v1 API. */
import { z } from "zod";
import { isLanguage, LANGUAGES } from "@vod/twitch";

export const login = z
  .string()
  .regex(/^[a-zA-Z0-9_]{1,50}$/, "a login is 1 to 50 letters, digits or underscores")
  .transform((s) => s.toLowerCase());
/** Twitch's broadcaster languages (EN, PT, ZH_HK, OTHER, …), as stored; any case, `-` for `_`. */
export const language = z
  .string()
  .transform((s) => s.toUpperCase().replace(/-/g, "_"))
  .refine(isLanguage, { message: `not a Twitch language; one of ${LANGUAGES.join(", ")}` });
export const gameId = z.string().regex(/^[0-9]{1,20}$/, "a category id is digits");

/** Ids are PostgreSQL bigints: past its maximum a statement would fail, so such an id is refused as malformed. */
export const bigintId = (what: string) =>
  z
    .string()
    .regex(/^[0-9]{1,19}$/, `${what} is 1 to 19 digits`)
    // Digit strings of one length compare as numbers; other lengths are the regex's to refuse.
    .refine((s) => s.length !== 19 || s <= "9223372036854775807", `${what} is at most 9223372036854775807`);
export const streamIdParam = bigintId("a stream id");
