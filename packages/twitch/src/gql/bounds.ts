import { z } from "zod";

/**
 * Bounds on text from GraphQL, which is untrusted: a snapshot must fit a Kafka message (1 MB) and
 * every indexed column a btree row (2,704 bytes). Identifiers out of bounds make the stream unusable
 * (it is dropped and counted); free text is cut.
 */

/** Titles, cut by UTF-8 bytes: Twitch's own limit is 140 characters, so only junk is ever cut. */
export const MAX_TITLE_BYTES = 1024;
/** Category (game) names and other short labels. */
export const MAX_NAME_BYTES = 256;

/** Twitch logins: lowercase letters, digits and `_`, 1 to 25 characters. */
export const LOGIN = /^[a-z0-9_]{1,25}$/;

const BIGINT_MAX = "9223372036854775807";

/** A numeric id that fits Postgres' bigint (ids are stored as bigint). */
export const twitchId = z
  .string()
  .regex(/^\d{1,19}$/, "expected a numeric id of at most 19 digits")
  // Same-length digit strings compare as numbers; zod runs this even when the regex failed.
  .refine((s) => s.length < 19 || s <= BIGINT_MAX, "id over the bigint range");

/** A login, lowercased (Twitch's are), then held to `LOGIN`. */
export const twitchLogin = z
  .string()
  .max(25, "login over 25 characters")
  .transform((s) => s.toLowerCase())
  .pipe(z.string().regex(LOGIN, "login outside [a-z0-9_]{1,25}"));

/** A language code such as `EN`, `OTHER` or `pt-BR`; anything else reads as unknown (null). */
export const twitchLanguage = z
  .string()
  .nullish()
  .transform((s) => (s && /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})?$/.test(s) ? s : null));

/** Short text (a category name, a stream type): cut to `maxBytes`; null stays null. */
export const cutText = (maxBytes: number) =>
  z
    .string()
    .nullish()
    .transform((s) => (s === null || s === undefined ? null : cutUtf8(s, maxBytes)));

const encoder = new TextEncoder();

/**
 * `text` without NULs (Postgres text refuses them), cut to at most `maxBytes` of UTF-8 without
 * splitting a code point. Cost is bounded by `maxBytes`, not by the text's length.
 */
export function cutUtf8(text: string, maxBytes: number): string {
  const clean = text.includes("\u0000") ? text.replaceAll("\u0000", "") : text;
  // Every UTF-16 unit is at most 3 bytes of UTF-8: a text this short fits whatever it holds.
  if (clean.length * 3 <= maxBytes) return clean;
  const { read } = encoder.encodeInto(clean, new Uint8Array(maxBytes));
  return clean.slice(0, read);
}
